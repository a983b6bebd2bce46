import http from "node:http";
import https from "node:https";
import axios, { type AxiosError, type AxiosInstance, type AxiosRequestConfig } from "axios";
import { z } from "zod";
import {
  applyRetry,
  defaultRetryPolicy,
  isRetryableError,
  type RetryOptions,
  type RetryPolicy,
} from "../sync/retry";
import {
  AdminTokenSession,
  adminTokenTtlMs,
  registerAuthSecrets,
  signOAuth1,
  type MagentoAuth,
} from "./auth";
import { MagentoError, fromRequestError } from "./errors";
import { buildSearchQuery, clampPageSize, encodeQuery, type SearchCriteria } from "./search";

export interface MagentoClientOptions {
  /** Shop root, e.g. `https://shop.example.com` (a trailing `/rest` is tolerated). */
  baseUrl: string;
  /** Store code in `/rest/<code>/V1/…`; default `default`. `""` leaves it out. */
  storeCode?: string;
  auth: MagentoAuth;
  /** Per attempt; default 30 000. */
  timeoutMs?: number;
  /** Default page size for callers that do not choose one; default 100, at most 300. */
  pageSize?: number;
  tls?: { rejectUnauthorized?: boolean; ca?: string };
  retry?: RetryPolicy;
  /** Test and logging hooks of the retry policy (jitter source, onRetry …). */
  retryOptions?: RetryOptions;
}

export type HttpMethod = "GET" | "POST" | "PUT";

export interface RequestOptions {
  query?: Record<string, string | number>;
  body?: unknown;
  storeCode?: string;
  signal?: AbortSignal;
  /**
   * A write that must not happen twice (ship, invoice, cancel, comment): repeated only when
   * Magento surely did not act (429, 503, connection refused). After a reset or a 500 the
   * error goes up, and the caller reads the order before writing again.
   */
  write?: boolean;
}

const notSentCodes = new Set(["ECONNREFUSED", "EAI_AGAIN", "ENETUNREACH", "ENETDOWN", "EHOSTUNREACH"]);

function writeMayRetry(e: AxiosError): boolean {
  if (!isRetryableError(e)) return false;
  const status = e.response?.status;
  if (status !== undefined) return status === 429 || status === 503;
  return e.code !== undefined && notSentCodes.has(e.code);
}

export const storeViewSchema = z.looseObject({
  id: z.number().int(),
  code: z.string(),
  name: z.string(),
  website_id: z.number().int().optional(),
  store_group_id: z.number().int().optional(),
  is_active: z.number().int().optional(),
});
export type StoreView = z.infer<typeof storeViewSchema>;

export interface OrderSearchResult {
  items: unknown[];
  total_count: number;
}

const searchResultSchema = z.looseObject({
  items: z.array(z.unknown()).nullish(),
  total_count: z.number().int().nonnegative(),
});

/**
 * Magento 2.4 REST client: builds `/rest/<store>/V1/…` URLs, authenticates (bearer,
 * OAuth 1.0a, admin token), retries transient failures with the shared policy, and
 * turns every failure into a `MagentoError`. Bodies are parsed here, so a proxy's HTML
 * page or a cut-off answer becomes a clear error rather than a crash.
 */
export class MagentoClient {
  readonly baseUrl: string;
  readonly storeCode: string;
  readonly pageSize: number;
  readonly authKind: MagentoAuth["kind"];

  private readonly auth: MagentoAuth;
  private readonly http: AxiosInstance;
  private readonly timeoutMs: number;
  private readonly agents: { http: http.Agent; https: https.Agent };
  private readonly lifetime = new AbortController();
  private readonly adminSession: AdminTokenSession | undefined;
  /** Unusable settings fail every call (never the constructor, which runs inside Node-RED handlers). */
  private readonly configError: MagentoError | undefined;

  constructor(opts: MagentoClientOptions) {
    registerAuthSecrets(opts.auth);
    let baseUrl = "";
    try {
      baseUrl = normalizeBaseUrl(opts.baseUrl);
    } catch (err) {
      this.configError = err as MagentoError;
    }
    this.configError ??= missingCredential(opts.auth);
    this.baseUrl = baseUrl;
    this.storeCode = opts.storeCode ?? "default";
    this.pageSize = clampPageSize(opts.pageSize ?? 100);
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.auth = opts.auth;
    this.authKind = opts.auth.kind;
    this.agents = {
      http: new http.Agent({ keepAlive: true, maxSockets: 8 }),
      https: new https.Agent({
        keepAlive: true,
        maxSockets: 8,
        rejectUnauthorized: opts.tls?.rejectUnauthorized ?? true,
        ...(opts.tls?.ca ? { ca: opts.tls.ca } : {}),
      }),
    };
    this.http = axios.create({
      httpAgent: this.agents.http,
      httpsAgent: this.agents.https,
      // A redirect would drop or invalidate the credentials; report it instead.
      maxRedirects: 0,
      responseType: "text",
      transformResponse: [(data: unknown) => data],
      transitional: { clarifyTimeoutError: true, silentJSONParsing: true, forcedJSONParsing: false },
      proxy: false,
    });
    const auth = opts.auth;
    if (auth.kind === "oauth1") {
      // Signed per attempt: a retry needs a fresh nonce (Magento rejects a reused one).
      this.http.interceptors.request.use((config) => {
        const url = config.url ?? "";
        config.headers.set("Authorization", signOAuth1(auth, config.method ?? "GET", url).authorization);
        return config;
      });
    }
    applyRetry(this.http, opts.retry ?? defaultRetryPolicy, opts.retryOptions);
    if (auth.kind === "admin") {
      this.adminSession = new AdminTokenSession(
        () => this.adminLogin(auth),
        auth.tokenTtlMs ?? adminTokenTtlMs,
      );
    }
  }

  /**
   * One REST call. `path` is the route as in the reference (`/V1/orders`); the query is
   * encoded here (RFC 3986) so that the URL signed is the URL sent.
   */
  async request<T>(method: HttpMethod, path: string, opts: RequestOptions = {}): Promise<T> {
    const call = `${method} ${path}`;
    if (!path.startsWith("/V1/")) {
      throw new MagentoError({ code: "config", call, summary: "the route must start with /V1/" });
    }
    if (this.configError) throw this.configError;
    const url = this.url(path, opts.query, opts.storeCode);
    if (!this.adminSession) return this.send<T>(method, url, call, opts, this.staticAuthorization());
    const session = this.adminSession;
    const token = await this.guard(call, () => session.current());
    try {
      return await this.send<T>(method, url, call, opts, `Bearer ${token}`);
    } catch (err) {
      if (!(err instanceof MagentoError) || err.status !== 401) throw err;
      // Expired or revoked admin token: Magento treats the caller as a guest (§2.2). Log in once more.
      session.invalidate(token);
      const fresh = await this.guard(call, () => session.current());
      return this.send<T>(method, url, call, opts, `Bearer ${fresh}`);
    }
  }

  /** GET /V1/orders/:id — `entityId` is the entity id, not the increment id. */
  async getOrder(entityId: number, opts: { signal?: AbortSignal } = {}): Promise<unknown> {
    if (!Number.isInteger(entityId) || entityId <= 0) {
      throw new MagentoError({
        code: "config",
        call: "GET /V1/orders/:id",
        summary: `"${entityId}" is not an order entity id`,
      });
    }
    return this.request<unknown>("GET", `/V1/orders/${entityId}`, opts);
  }

  /** GET /V1/orders with searchCriteria. The page size is clamped to Magento's 300. */
  async searchOrders(
    criteria: SearchCriteria,
    opts: { signal?: AbortSignal } = {},
  ): Promise<OrderSearchResult> {
    const safe =
      criteria.pageSize === undefined
        ? criteria
        : { ...criteria, pageSize: clampPageSize(criteria.pageSize) };
    const raw = await this.request<unknown>("GET", "/V1/orders", { query: buildSearchQuery(safe), ...opts });
    const parsed = searchResultSchema.safeParse(raw);
    if (!parsed.success) {
      throw new MagentoError({
        code: "invalid_response",
        call: "GET /V1/orders",
        summary: "the answer has no items/total_count list of orders",
      });
    }
    return { items: parsed.data.items ?? [], total_count: parsed.data.total_count };
  }

  /** GET /V1/store/storeViews */
  async storeViews(opts: { signal?: AbortSignal } = {}): Promise<StoreView[]> {
    const raw = await this.request<unknown>("GET", "/V1/store/storeViews", opts);
    const parsed = z.array(storeViewSchema).safeParse(raw);
    if (!parsed.success) {
      throw new MagentoError({
        code: "invalid_response",
        call: "GET /V1/store/storeViews",
        summary: "the answer is not a list of store views",
      });
    }
    return parsed.data;
  }

  /**
   * Prove the settings work for syncing: credentials accepted, orders readable (ACL
   * `Magento_Sales::actions_view`), store views listed for the filter settings.
   */
  async testConnection(opts: { signal?: AbortSignal } = {}): Promise<{ ok: true; storeViews: StoreView[] }> {
    await this.searchOrders({ pageSize: 1, currentPage: 1 }, opts);
    return { ok: true, storeViews: await this.storeViews(opts) };
  }

  /** Abort requests in flight (they fail with code `aborted`), refuse new ones, free sockets. */
  close(): void {
    if (this.lifetime.signal.aborted) return;
    this.lifetime.abort();
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  get closed(): boolean {
    return this.lifetime.signal.aborted;
  }

  private url(path: string, query: Record<string, string | number> | undefined, storeCode?: string): string {
    const store = storeCode ?? this.storeCode;
    const prefix = store === "" ? "/rest" : `/rest/${encodeURIComponent(store)}`;
    const qs = query && Object.keys(query).length > 0 ? `?${encodeQuery(query)}` : "";
    return `${this.baseUrl}${prefix}${path}${qs}`;
  }

  private staticAuthorization(): string | undefined {
    return this.auth.kind === "bearer" ? `Bearer ${this.auth.token}` : undefined;
  }

  private async adminLogin(auth: Extract<MagentoAuth, { kind: "admin" }>): Promise<string> {
    const call = "POST /V1/integration/admin/token";
    // The token route lives outside any store scope (reference §2).
    const url = this.url("/V1/integration/admin/token", undefined, "");
    const token = await this.send<unknown>(
      "POST",
      url,
      call,
      { body: { username: auth.username, password: auth.password } },
      undefined,
    );
    if (typeof token !== "string" || token.trim() === "") {
      throw new MagentoError({ code: "invalid_response", call, summary: "the answer is not a token" });
    }
    return token;
  }

  /** Run a step that may fail with a non-Magento error (the admin login), keeping the calling route in errors. */
  private async guard<T>(call: string, step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (err) {
      throw fromRequestError(err, call);
    }
  }

  private async send<T>(
    method: HttpMethod,
    url: string,
    call: string,
    opts: RequestOptions,
    authorization: string | undefined,
  ): Promise<T> {
    if (this.lifetime.signal.aborted) throw new MagentoError({ code: "aborted", call });
    const { signal, release } = linkSignals(this.lifetime.signal, opts.signal);
    const headers: Record<string, string> = { Accept: "application/json" };
    if (authorization) headers.Authorization = authorization;
    let data: string | undefined;
    if (opts.body !== undefined) {
      data = JSON.stringify(opts.body);
      headers["Content-Type"] = "application/json";
    }
    try {
      const config: AxiosRequestConfig & { "axios-retry"?: unknown } = {
        method,
        url,
        data,
        headers,
        signal,
        timeout: this.timeoutMs,
      };
      if (opts.write) config["axios-retry"] = { retryCondition: writeMayRetry };
      const res = await this.http.request<string>(config);
      return parseBody<T>(res.data, call);
    } catch (err) {
      throw fromRequestError(err, call);
    } finally {
      release();
    }
  }
}

function parseBody<T>(body: unknown, call: string): T {
  if (typeof body !== "string") return body as T;
  const text = body.trim();
  try {
    return JSON.parse(text) as T;
  } catch {
    const html = text.startsWith("<");
    throw new MagentoError({
      code: "invalid_response",
      call,
      summary: html
        ? "the server answered with an HTML page instead of JSON — check the base URL (it must be the shop root) and the store code"
        : text === ""
          ? "the answer is empty"
          : "the answer is not valid JSON (cut off or not from the REST API)",
    });
  }
}

const credentialNames: Record<string, string> = {
  token: "integration access token",
  consumerKey: "consumer key",
  consumerSecret: "consumer secret",
  accessToken: "access token",
  accessTokenSecret: "access token secret",
  username: "admin username",
  password: "admin password",
};

function missingCredential(auth: MagentoAuth): MagentoError | undefined {
  const fields = Object.entries(auth).filter(([key]) => key in credentialNames);
  const empty = fields
    .filter(([, value]) => typeof value !== "string" || value.trim() === "")
    .map(([key]) => key);
  if (empty.length === 0) return undefined;
  return new MagentoError({
    code: "config",
    call: "connect",
    summary: `the ${empty.map((k) => credentialNames[k]).join(", ")} ${empty.length > 1 ? "are" : "is"} not set`,
  });
}

function normalizeBaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(String(raw ?? "").trim());
  } catch {
    throw new MagentoError({
      code: "config",
      call: "connect",
      summary: `the base URL "${raw}" is not a URL`,
    });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new MagentoError({
      code: "config",
      call: "connect",
      summary: "the base URL must start with http:// or https://",
    });
  }
  const path = url.pathname.replace(/\/+$/, "").replace(/\/rest$/, "");
  return `${url.protocol}//${url.host}${path}`;
}

/** One signal that fires when either fires; `release` drops the listeners afterwards. */
function linkSignals(
  a: AbortSignal,
  b: AbortSignal | undefined,
): { signal: AbortSignal; release: () => void } {
  if (!b) return { signal: a, release: () => {} };
  const joint = new AbortController();
  const abort = () => joint.abort();
  if (a.aborted || b.aborted) joint.abort();
  a.addEventListener("abort", abort, { once: true });
  b.addEventListener("abort", abort, { once: true });
  return {
    signal: joint.signal,
    release: () => {
      a.removeEventListener("abort", abort);
      b.removeEventListener("abort", abort);
    },
  };
}
