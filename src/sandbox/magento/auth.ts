/**
 * Who is calling (reference §2): an admin token, the integration's access token as Bearer
 * (only with `bearerEnabled`, else the caller is a guest), or an OAuth 1.0a signature.
 * Expired or unknown tokens make the caller a guest; guests get the route's ACL 401.
 */
import { randomBytes } from "node:crypto";
import type { MagentoClock } from "./clock";
import { bodies, inputErrors, MagentoHttpError, required } from "./errors";
import { OAuthVerifier, type SignedRequest } from "./oauth";
import type { AdminUserOptions, IntegrationOptions } from "./types";

export type Caller = "admin" | "integration" | "guest";

const fourHoursMs = 4 * 3600 * 1000;

export class Authenticator {
  private readonly adminTokens = new Map<string, number>();
  private readonly oauth: OAuthVerifier;

  constructor(
    private readonly admin: AdminUserOptions,
    private readonly integration: IntegrationOptions,
    private readonly clock: MagentoClock,
  ) {
    this.oauth = new OAuthVerifier(integration);
  }

  /** POST /V1/integration/admin/token: a bare token string, or Magento's 401 bodies. */
  issueAdminToken(body: unknown): string {
    const creds = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
    const missing = ["username", "password"].filter((k) => typeof creds[k] !== "string" || creds[k] === "");
    if (missing.length > 0) throw inputErrors(missing.map(required));
    if (creds.username !== this.admin.username || creds.password !== this.admin.password) {
      throw new MagentoHttpError(401, bodies.badAdminCredentials);
    }
    // Magento_TwoFactorAuth checks the credentials first, then refuses (reference §2.1).
    if (this.admin.twoFactor) throw new MagentoHttpError(401, bodies.twoFactorRequired);
    const token = randomBytes(16).toString("hex");
    this.adminTokens.set(token, this.clock.nowMs() + (this.admin.tokenTtlMs ?? fourHoursMs));
    return token;
  }

  expireTokens(): void {
    this.adminTokens.clear();
  }

  identify(req: SignedRequest): Caller {
    const header = req.authorization ?? "";
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (bearer) {
      const expiresAt = this.adminTokens.get(bearer[1]);
      if (expiresAt !== undefined) {
        if (expiresAt > this.clock.nowMs()) return "admin";
        this.adminTokens.delete(bearer[1]);
        return "guest";
      }
      const asBearer = this.integration.bearerEnabled ?? true;
      return asBearer && bearer[1] === this.integration.accessToken ? "integration" : "guest";
    }
    return this.oauth.verify(req) ? "integration" : "guest";
  }
}
