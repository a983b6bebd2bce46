/**
 * `POST /services/oauth2/token` (reference/salesforce-rest.md §1) for the grants jsforce uses:
 * password (password + security token), client_credentials, refresh_token and
 * urn:ietf:params:oauth:grant-type:jwt-bearer (RS256 signature checked with node:crypto
 * against the connected app's certificate key; iss = client id, sub = username, aud = login
 * URL, exp in the future). Errors are `{error, error_description}` with HTTP 400.
 * Descriptions not from a published source are marked (unverified).
 */
import { createHmac, randomBytes, verify, type KeyObject } from "node:crypto";

export interface SimUser {
  id: string;
  username: string;
  password: string;
  securityToken: string;
  firstName: string;
  lastName: string;
  email: string;
}

export interface ConnectedApp {
  clientId: string;
  clientSecret: string;
  /** Certificate key the JWT bearer grant verifies against. */
  publicKey: KeyObject;
  /** Run-as user of the client-credentials flow. */
  runAs: SimUser;
}

export interface Session {
  accessToken: string;
  user: SimUser;
  app: ConnectedApp;
  expiresAt: number;
  refreshToken?: string;
}

export interface TokenReply {
  status: number;
  body: Record<string, unknown>;
}

export const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";

const oauthError = (error: string, description: string): TokenReply => ({
  status: 400,
  body: { error, error_description: description },
});
const authenticationFailure = (): TokenReply => oauthError("invalid_grant", "authentication failure");

export class OAuthServer {
  private readonly sessions = new Map<string, Session>();
  private readonly refreshTokens = new Map<string, { user: SimUser; app: ConnectedApp }>();

  constructor(
    private readonly orgId: string,
    private readonly users: SimUser[],
    private readonly apps: ConnectedApp[],
    private readonly sessionTtlMs: number,
    private readonly loginUrl: () => string,
  ) {}

  identityUrl(user: SimUser): string {
    return `${this.loginUrl()}/id/${this.orgId}/${user.id}`;
  }

  /** A refresh token as the web-server flow would have issued it (for refresh_token grant tests). */
  issueRefreshToken(user: SimUser, app: ConnectedApp): string {
    const token = `5Aep861${randomBytes(48).toString("base64url")}`;
    this.refreshTokens.set(token, { user, app });
    return token;
  }

  token(form: URLSearchParams): TokenReply {
    switch (form.get("grant_type")) {
      case "password":
        return this.passwordGrant(form);
      case "client_credentials":
        return this.clientCredentialsGrant(form);
      case "refresh_token":
        return this.refreshTokenGrant(form);
      case JWT_BEARER:
        return this.jwtBearerGrant(form);
      default:
        return oauthError("unsupported_grant_type", "grant type not supported");
    }
  }

  /** Access token → live session; expired or unknown tokens give undefined. */
  authenticate(accessToken: string | undefined): Session | undefined {
    if (!accessToken) return undefined;
    const session = this.sessions.get(accessToken);
    if (!session) return undefined;
    if (Date.now() >= session.expiresAt) {
      this.sessions.delete(accessToken);
      return undefined;
    }
    return session;
  }

  revoke(token: string | null): TokenReply {
    if (token && this.sessions.delete(token)) return { status: 200, body: {} };
    if (token && this.refreshTokens.delete(token)) {
      for (const [key, session] of this.sessions)
        if (session.refreshToken === token) this.sessions.delete(key);
      return { status: 200, body: {} };
    }
    return oauthError("unsupported_token_type", "this token type is not supported");
  }

  expireAll(): void {
    this.sessions.clear();
  }

  identity(session: Session, version: string): Record<string, unknown> {
    const { user } = session;
    const base = this.loginUrl();
    const data = (kind: string): string => `${base}/services/data/v${version}/${kind}/`;
    return {
      id: this.identityUrl(user),
      asserted_user: true,
      user_id: user.id,
      organization_id: this.orgId,
      username: user.username,
      nick_name: user.username.split("@")[0],
      display_name: `${user.firstName} ${user.lastName}`,
      email: user.email,
      email_verified: true,
      first_name: user.firstName,
      last_name: user.lastName,
      timezone: "GMT",
      active: true,
      user_type: "STANDARD",
      language: "en_US",
      locale: "en_US",
      utcOffset: 0,
      urls: {
        rest: `${base}/services/data/v${version}/`,
        sobjects: data("sobjects"),
        query: data("query"),
        recent: data("recent"),
        profile: `${base}/${user.id}`,
      },
      is_app_installed: true,
    };
  }

  private client(form: URLSearchParams, secretRequired: boolean): ConnectedApp | TokenReply {
    const app = this.apps.find((a) => a.clientId === form.get("client_id"));
    if (!app) return oauthError("invalid_client_id", "client identifier invalid");
    const secret = form.get("client_secret");
    if ((secretRequired || secret !== null) && secret !== app.clientSecret) {
      return oauthError("invalid_client", "invalid client credentials");
    }
    return app;
  }

  private passwordGrant(form: URLSearchParams): TokenReply {
    const app = this.client(form, true);
    if ("status" in app) return app;
    const user = this.users.find((u) => u.username === form.get("username"));
    if (!user || form.get("password") !== user.password + user.securityToken) return authenticationFailure();
    return this.success(user, app, {});
  }

  private clientCredentialsGrant(form: URLSearchParams): TokenReply {
    const app = this.client(form, true);
    if ("status" in app) return app;
    return this.success(app.runAs, app, { scope: "api", api_instance_url: this.loginUrl() });
  }

  private refreshTokenGrant(form: URLSearchParams): TokenReply {
    const app = this.client(form, false);
    if ("status" in app) return app;
    const refreshToken = form.get("refresh_token") ?? "";
    const grant = this.refreshTokens.get(refreshToken);
    if (!grant || grant.app !== app) return oauthError("invalid_grant", "expired access/refresh token");
    return this.success(grant.user, app, { scope: "api refresh_token" }, refreshToken);
  }

  private jwtBearerGrant(form: URLSearchParams): TokenReply {
    const invalidAssertion = oauthError("invalid_grant", "invalid assertion"); // (unverified) description
    const parts = (form.get("assertion") ?? "").split(".");
    if (parts.length !== 3) return invalidAssertion;
    const header = decodeJson(parts[0]);
    const claims = decodeJson(parts[1]);
    if (!header || !claims || header.alg !== "RS256") return invalidAssertion;
    const app = this.apps.find((a) => a.clientId === claims.iss);
    if (!app) return oauthError("invalid_client_id", "client identifier invalid");
    const signed = Buffer.from(`${parts[0]}.${parts[1]}`);
    const signature = Buffer.from(parts[2], "base64url");
    if (!verify("RSA-SHA256", signed, app.publicKey, signature)) return invalidAssertion;
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    const login = this.loginUrl();
    if (!audiences.some((aud) => aud === login || aud === `${login}/`)) {
      return oauthError("invalid_grant", "audience is invalid");
    }
    if (typeof claims.exp !== "number" || claims.exp * 1000 <= Date.now()) {
      return oauthError("invalid_grant", "expired authorization code"); // (unverified) description
    }
    const user = this.users.find((u) => u.username === claims.sub);
    if (!user) return invalidAssertion;
    return this.success(user, app, { scope: "api" });
  }

  private success(
    user: SimUser,
    app: ConnectedApp,
    extra: Record<string, unknown>,
    fromRefreshToken?: string,
  ): TokenReply {
    const accessToken = `${this.orgId.slice(0, 15)}!AQ${randomBytes(72).toString("base64url")}`;
    this.sessions.set(accessToken, {
      accessToken,
      user,
      app,
      expiresAt: Date.now() + this.sessionTtlMs,
      refreshToken: fromRefreshToken,
    });
    const id = this.identityUrl(user);
    const issuedAt = String(Date.now());
    return {
      status: 200,
      body: {
        access_token: accessToken,
        instance_url: this.loginUrl(),
        id,
        token_type: "Bearer",
        issued_at: issuedAt,
        signature: createHmac("sha256", app.clientSecret)
          .update(id + issuedAt)
          .digest("base64"),
        ...extra,
      },
    };
  }
}

function decodeJson(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
