/**
 * One Salesforce session per config node: a jsforce 3 `Connection` that logs in once (lazily,
 * on first use), is shared by every node using the config, and refreshes itself when
 * Salesforce answers 401 INVALID_SESSION_ID — never a login per message (the top complaint
 * about Node-RED Salesforce packs, reference anchors §5).
 *
 * Rules from reference/salesforce-rest.md §6:
 * - `oauth2` clientId (+ clientSecret) is always configured, so jsforce never falls back to the
 *   SOAP login; `version` is always set (jsforce's default 50.0 is too old for this pack).
 * - Every grant gets the same `refreshFn`: it runs the grant again (password, client
 *   credentials, a freshly signed JWT, or the refresh token). jsforce has no refresh of its own
 *   for client credentials and JWT, and a uniform function keeps one behaviour to test.
 * - jsforce replays a request after a refresh and loops if Salesforce keeps answering 401; the
 *   refresh function stops that loop after three refreshes within 30 seconds.
 * - jsforce retries GET/PUT/DELETE on 5xx and network errors itself (5 tries, ~15 s) but never
 *   POST/PATCH; the pusher's own retry (order-pusher.ts) covers the writes and does not retry
 *   the reads again, except after a 403 REQUEST_LIMIT_EXCEEDED that is not the daily limit
 *   (errors.ts), which jsforce does not retry.
 */
import { Connection } from "jsforce";
import type { KeyObject } from "node:crypto";
import { forgetSecret, registerSecret } from "../sync/secrets";
import { SalesforceError, loginError } from "./errors";
import { privateKeyOf, signJwtAssertion } from "./jwt";

export type AuthMode = "password" | "client_credentials" | "jwt" | "refresh_token";

export const AUTH_MODES: readonly AuthMode[] = ["password", "client_credentials", "jwt", "refresh_token"];

export const LOGIN_URLS = {
  production: "https://login.salesforce.com",
  sandbox: "https://test.salesforce.com",
} as const;

export const DEFAULT_API_VERSION = "60.0";
/** Oldest version the pack is written and tested for (DESIGN.md: REST API v60+). */
export const MIN_API_VERSION = 60;

export interface SalesforceCredentials {
  clientId?: string;
  clientSecret?: string;
  username?: string;
  /** Without the security token. */
  password?: string;
  securityToken?: string;
  /** PEM, for the JWT bearer flow. */
  privateKey?: string;
  refreshToken?: string;
}

export interface SessionOptions {
  /** `production`, `sandbox` or a URL (My Domain, e.g. `https://acme.my.salesforce.com`). */
  loginUrl: string;
  apiVersion?: string;
  authMode: AuthMode;
  credentials: SalesforceCredentials;
  /** A request without its complete answer after this long fails (default 120 000 ms). */
  requestTimeoutMs?: number;
}

export interface OrderStatusInfo {
  apiName: string;
  label: string;
  /** Salesforce's status category: a new order needs `Draft`; `Activated` orders are locked. */
  statusCode: "Draft" | "Activated" | string;
  isDefault: boolean;
}

export interface ConnectionSummary {
  username: string;
  displayName: string;
  organizationId: string;
  userId: string;
  instanceUrl: string;
  apiVersion: string;
  /** API versions the org serves. */
  versions: string[];
  apiUsage: { used: number; max: number };
}

interface TokenResponse {
  access_token: string;
  instance_url: string;
  id: string;
}

const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const REQUEST_TIMEOUT_MS = 120_000;

type RequestStream = NodeJS.EventEmitter;
interface JsforceTransport {
  getRequestStreamCreator(): (req: unknown, options: unknown) => RequestStream;
}

/**
 * jsforce 3.10 pipes a response body without passing on its errors: an answer cut off mid-way
 * (proxy, dropped connection) either leaves the request waiting forever or, since jsforce fetches
 * with undici (3.10.19), errors the piped body stream ("terminated") where nobody listens, which
 * would crash the process. Either way every request of `transport` completes as an HTTP 504
 * instead: when the body fails, or after `ms` without a complete answer. jsforce's own error
 * handling (REST and OAuth alike) then reports it, and nothing is thrown where nobody listens.
 */
function endStalledRequests(transport: unknown, ms: number): void {
  const t = transport as Partial<JsforceTransport> | undefined;
  if (!t || typeof t.getRequestStreamCreator !== "function") return;
  const original = t.getRequestStreamCreator.bind(t);
  const answer = (message: string) => ({
    statusCode: 504,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      errorCode: "ERROR_HTTP_504",
      message,
      error: "ERROR_HTTP_504",
      error_description: message,
    }),
  });
  const stalled = `no complete answer within ${Math.round(ms / 1000)} s (the connection stalled or the answer was cut off)`;
  t.getRequestStreamCreator = () => {
    const create = original();
    return (req, options) => {
      const stream = create(req, options);
      let settled = false;
      const complete = (message: string) => {
        if (settled) return;
        settled = true;
        stream.emit("complete", answer(message));
      };
      const timer = setTimeout(() => complete(stalled), ms);
      timer.unref?.();
      const settle = () => {
        settled = true;
        clearTimeout(timer);
      };
      for (const event of ["complete", "error", "end", "close"]) stream.once(event, settle);
      // the body jsforce pipes into the stream's output half (undici's, through Readable.fromWeb)
      const output = (stream as { _readable?: NodeJS.EventEmitter })._readable;
      output?.on("pipe", (body: NodeJS.EventEmitter) =>
        body.on("error", (err: Error) => {
          const cause = (err.cause as Error | undefined)?.message;
          complete(`the answer was cut off (${cause ? `${err.message}: ${cause}` : err.message})`);
        }),
      );
      return stream;
    };
  };
}

/** A token endpoint answer that is not a token (an HTML page, a cut-off body …) is a login failure, not a TypeError. */
function checkToken(mode: AuthMode, res: unknown): TokenResponse {
  const r = (res ?? {}) as Partial<Record<keyof TokenResponse, unknown>>;
  if (typeof r.access_token === "string" && typeof r.instance_url === "string" && typeof r.id === "string") {
    return r as TokenResponse;
  }
  throw loginError(
    mode,
    new Error(
      "the token endpoint answered without an access token, instance URL and identity URL (not an OAuth answer: a proxy page, a cut-off body, or not the login URL)",
    ),
  );
}
const REFRESH_WINDOW_MS = 30_000;
const MAX_REFRESHES_IN_WINDOW = 3;

/** `production` / `sandbox` / a URL → the login URL without trailing slash; throws on anything unusable. */
export function resolveLoginUrl(value: string): string {
  const text = String(value ?? "").trim();
  if (text === "" || text === "production") return LOGIN_URLS.production;
  if (text === "sandbox") return LOGIN_URLS.sandbox;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new SalesforceError("config", `The Salesforce login URL "${text}" is not a URL.`);
  }
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && loopback)) {
    throw new SalesforceError("config", `The Salesforce login URL must use https: ${url.origin}`);
  }
  if (/\.lightning\.force\.com$/i.test(url.hostname)) {
    throw new SalesforceError(
      "config",
      `Use the My Domain URL (https://<domain>.my.salesforce.com), not the Lightning URL ${url.origin}.`,
    );
  }
  return url.origin;
}

export function checkApiVersion(value: string | undefined): string {
  const text = String(value ?? "").trim() || DEFAULT_API_VERSION;
  const normalized = /^\d+$/.test(text) ? `${text}.0` : text;
  if (!/^\d{2,3}\.0$/.test(normalized)) {
    throw new SalesforceError("config", `The Salesforce API version "${text}" is not a version like 60.0.`);
  }
  if (Number(normalized) < MIN_API_VERSION) {
    throw new SalesforceError(
      "config",
      `The Salesforce API version ${normalized} is too old: use ${MIN_API_VERSION}.0 or newer.`,
    );
  }
  return normalized;
}

/** What each grant needs, as one message listing every missing credential. */
export function missingCredentials(mode: AuthMode, c: SalesforceCredentials): string[] {
  const need: Record<AuthMode, (keyof SalesforceCredentials)[]> = {
    password: ["clientId", "clientSecret", "username", "password"],
    client_credentials: ["clientId", "clientSecret"],
    jwt: ["clientId", "username", "privateKey"],
    refresh_token: ["clientId", "refreshToken"],
  };
  const names: Record<keyof SalesforceCredentials, string> = {
    clientId: "client id (consumer key)",
    clientSecret: "client secret (consumer secret)",
    username: "username",
    password: "password",
    securityToken: "security token",
    privateKey: "private key",
    refreshToken: "refresh token",
  };
  return need[mode].filter((k) => !String(c[k] ?? "").trim()).map((k) => names[k]);
}

function parseIdUrl(url: string): { id: string; organizationId: string; url: string } {
  const [organizationId, id] = url.split("/").slice(-2);
  return { id, organizationId, url };
}

export class SalesforceSession {
  readonly loginUrl: string;
  readonly apiVersion: string;
  readonly authMode: AuthMode;
  readonly conn: Connection;
  private readonly credentials: SalesforceCredentials;
  private readonly privateKey?: KeyObject;
  private connecting?: Promise<Connection>;
  private refreshTimes: number[] = [];
  private closed = false;

  /** Throws a `SalesforceError` (code `config`) when the settings cannot work; makes no call. */
  constructor(options: SessionOptions) {
    if (!AUTH_MODES.includes(options.authMode)) {
      throw new SalesforceError("config", `Unknown Salesforce authentication "${String(options.authMode)}".`);
    }
    this.authMode = options.authMode;
    this.loginUrl = resolveLoginUrl(options.loginUrl);
    this.apiVersion = checkApiVersion(options.apiVersion);
    const c = options.credentials ?? {};
    this.credentials = { ...c };
    for (const secret of [c.clientSecret, c.password, c.securityToken, c.privateKey, c.refreshToken]) {
      registerSecret(secret);
    }
    if (c.password && c.securityToken) registerSecret(c.password + c.securityToken);
    const missing = missingCredentials(this.authMode, c);
    if (missing.length > 0) {
      throw new SalesforceError(
        "config",
        `The Salesforce configuration (${this.authMode.replace("_", " ")} flow) lacks: ${missing.join(", ")}.`,
      );
    }
    if (this.authMode === "jwt") {
      this.privateKey = privateKeyOf(c.privateKey as string);
      registerSecret(
        (c.privateKey as string)
          .replace(/-----[^-]+-----/g, "")
          .replace(/\s+/g, "")
          .slice(0, 64),
      );
    }
    this.conn = new Connection({
      loginUrl: this.loginUrl,
      version: this.apiVersion,
      oauth2: {
        loginUrl: this.loginUrl,
        clientId: c.clientId?.trim(),
        ...(c.clientSecret ? { clientSecret: c.clientSecret } : {}),
      },
      refreshFn: (_conn, callback) => {
        this.refresh().then(
          (token) => callback(undefined, token),
          (err: Error) => callback(err),
        );
      },
    });
    const timeoutMs = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
    endStalledRequests((this.conn as unknown as { _transport: unknown })._transport, timeoutMs);
    endStalledRequests((this.conn.oauth2 as unknown as { _transport: unknown })._transport, timeoutMs);
  }

  /** The logged-in connection; the first caller logs in, everyone else shares that session. */
  connection(): Promise<Connection> {
    if (this.closed)
      return Promise.reject(new SalesforceError("closed", "The Salesforce connection is closed."));
    if (!this.connecting) {
      this.connecting = this.establish().then(
        () => this.conn,
        (err: unknown) => {
          this.connecting = undefined;
          throw err;
        },
      );
    }
    return this.connecting;
  }

  /** Lightning record page of a record, e.g. `<instance>/lightning/r/Order/801…/view`. */
  recordUrl(type: string, id: string): string {
    return `${this.conn.instanceUrl}/lightning/r/${type}/${id}/view`;
  }

  /** API usage from the last response's `Sforce-Limit-Info` header, when one was seen. */
  lastApiUsage(): { used: number; limit: number } | undefined {
    return this.conn.limitInfo?.apiUsage;
  }

  /** API versions the org serves (`GET /services/data`, not counted against the daily limit). */
  async apiVersions(): Promise<string[]> {
    const conn = await this.connection();
    const list = (await conn.request({ method: "GET", url: "/services/data" })) as { version: string }[];
    return list.map((v) => v.version);
  }

  /** Identity, org, versions and API usage: what the editor's Test button shows. */
  async summary(): Promise<ConnectionSummary> {
    const conn = await this.connection();
    const versions = await this.apiVersions();
    if (!versions.includes(this.apiVersion)) {
      throw new SalesforceError(
        "config",
        `This org does not serve API version ${this.apiVersion}; it serves ${versions.join(", ")}.`,
      );
    }
    const identity = await conn.identity();
    const limits = (await conn.limits()) as unknown as {
      DailyApiRequests: { Max: number; Remaining: number };
    };
    const daily = limits.DailyApiRequests;
    return {
      username: identity.username,
      displayName: identity.display_name,
      organizationId: identity.organization_id,
      userId: identity.user_id,
      instanceUrl: conn.instanceUrl,
      apiVersion: this.apiVersion,
      versions,
      apiUsage: { used: daily.Max - daily.Remaining, max: daily.Max },
    };
  }

  /** The org's Order statuses with their category (`OrderStatus`, API 48+), in picklist order. */
  async orderStatuses(): Promise<OrderStatusInfo[]> {
    const conn = await this.connection();
    const result = await conn.query<{
      ApiName: string;
      MasterLabel: string;
      StatusCode: string;
      IsDefault: boolean;
    }>("SELECT ApiName, MasterLabel, StatusCode, IsDefault, SortOrder FROM OrderStatus ORDER BY SortOrder");
    return result.records.map((r) => ({
      apiName: r.ApiName,
      label: r.MasterLabel,
      statusCode: r.StatusCode,
      isDefault: r.IsDefault === true,
    }));
  }

  /** Ends the session (revokes the access token; a refresh token stays valid). */
  async close(): Promise<void> {
    this.closed = true;
    const pending = this.connecting;
    this.connecting = undefined;
    if (!pending) return;
    try {
      await pending;
      const token = this.conn.accessToken;
      if (token) {
        await this.conn.oauth2.revokeToken(token);
        forgetSecret(token);
      }
    } catch {
      // Closing must not fail: the token expires on its own.
    }
  }

  private async establish(): Promise<void> {
    const res = checkToken(this.authMode, await this.grant());
    this.adopt(res);
  }

  private adopt(res: TokenResponse): void {
    const previous = this.conn.accessToken;
    registerSecret(res.access_token);
    this.conn._establish({
      instanceUrl: res.instance_url,
      accessToken: res.access_token,
      userInfo: parseIdUrl(res.id),
    });
    if (previous && previous !== res.access_token) forgetSecret(previous);
  }

  private async refresh(): Promise<string> {
    const now = Date.now();
    // Only refreshes made count: a refused attempt must not renew the window, or a caller that
    // keeps trying (the sync queue) would keep the session refused after Salesforce recovered.
    this.refreshTimes = this.refreshTimes.filter((t) => now - t < REFRESH_WINDOW_MS);
    if (this.refreshTimes.length >= MAX_REFRESHES_IN_WINDOW) {
      throw new SalesforceError(
        "INVALID_SESSION_ID",
        `Salesforce refused ${MAX_REFRESHES_IN_WINDOW} fresh sessions within ${REFRESH_WINDOW_MS / 1000} s (401 right after logging in again): check the connected app's IP restrictions and session policies.`,
        "login",
      );
    }
    this.refreshTimes.push(now);
    const res = checkToken(this.authMode, await this.grant());
    this.adopt(res);
    return res.access_token;
  }

  private async grant(): Promise<TokenResponse> {
    const c = this.credentials;
    const oauth2 = this.conn.oauth2;
    try {
      switch (this.authMode) {
        case "password":
          return (await oauth2.authenticate(
            (c.username ?? "").trim(),
            (c.password ?? "") + (c.securityToken ?? "").trim(),
          )) as TokenResponse;
        case "client_credentials":
          return (await oauth2.requestToken({ grant_type: "client_credentials" })) as TokenResponse;
        case "jwt":
          return (await oauth2.requestToken({
            grant_type: JWT_BEARER,
            assertion: signJwtAssertion(
              {
                clientId: (c.clientId ?? "").trim(),
                username: (c.username ?? "").trim(),
                audience: this.loginUrl,
              },
              this.privateKey as KeyObject,
            ),
          })) as TokenResponse;
        case "refresh_token":
          return (await oauth2.refreshToken((c.refreshToken ?? "").trim())) as TokenResponse;
      }
    } catch (err) {
      throw loginError(this.authMode, err);
    }
  }
}
