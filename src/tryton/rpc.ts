/**
 * Tryton JSON-RPC session client (trytond 6.0; see docs in `src/tryton/README.md`).
 *
 * Contract, from trytond 6.0 `trytond/protocols/{dispatcher,jsonrpc,wrappers}.py`:
 * - `POST <url>/<database>/` with exactly `{"id","method","params"}`: any other key
 *   switches the server to "REST mode" (bare results, HTML error pages).
 * - `Content-Type` must contain `json` (else HTTP 500).
 * - Login `common.db.login [login, {"password": …}, language]` → `[userId, sessionKey]`;
 *   wrong password → HTTP 401, too many failures → HTTP 429.
 * - Authenticated calls: `Authorization: Session base64("login:userId:sessionKey")`.
 *   A missing, expired or logged-out session → HTTP 401 with an empty body.
 * - The last positional parameter of every `model.*` call is the context, which must
 *   carry `company` (from `model.res.user.get_preferences [true, {}]`).
 * - Errors come back with HTTP 200 as `{"error": …}`: `["UserError", [msg, desc, domain]]`,
 *   `["UserWarning", [name, msg, desc]]`, `["ConcurrencyException", msg]`,
 *   `["LoginException", [name, msg, type]]`, or `[str(exception), traceback]`.
 */
import axios, { type AxiosError, type AxiosInstance, type AxiosRequestConfig } from "axios";

import { applyRetry, defaultRetryPolicy, isRetryableError, type RetryPolicy } from "../sync/retry";
import { redact, registerSecret } from "../sync/secrets";
import { decodeValue, encodeValue } from "./values";

export { date, datetime, decimal, decodeValue, encodeValue } from "./values";
export { plainDecimal } from "../sync/amounts";
export type { TrytonDate, TrytonDateTime, TrytonDecimal } from "./values";

export type TrytonContext = Record<string, unknown>;
/** A Tryton domain, e.g. `[["reference", "=", "100000001"]]` or `["OR", [...], [...]]`. */
export type Domain = unknown[];
export type Order = Array<[field: string, direction: "ASC" | "DESC" | "ASC NULLS FIRST" | "DESC NULLS LAST"]>;
export type Values = Record<string, unknown>;
export type TrytonRecord = { id: number } & Record<string, unknown>;

export interface TrytonClientOptions {
  /** Server root, e.g. `http://127.0.0.1:8000` (no database part). */
  url: string;
  database: string;
  username: string;
  password: string;
  /** Language code sent at login (default `en`); messages follow the user's language. */
  language?: string;
  /** Per-attempt HTTP timeout. Default 120 s: confirming a batch of sales is slow. */
  timeoutMs?: number;
  /** Shared retry policy (`src/sync/retry.ts`); `false` disables retries. */
  retry?: RetryPolicy | false;
  /** Extra context merged over the user's preferences on every model call. */
  context?: TrytonContext;
}

export interface SearchOptions {
  offset?: number;
  limit?: number | null;
  order?: Order | null;
  context?: TrytonContext;
}

export interface CallOptions {
  context?: TrytonContext;
}

export type TrytonErrorCode =
  | "user_error" // UserError and its validation subclasses (required, domain, digits…)
  | "access_error" // AccessError / rule errors ("You are not allowed to …")
  | "user_warning" // UserWarning: needs an explicit user confirmation
  | "concurrency" // ConcurrencyException (stale _timestamp)
  | "login_failed" // LoginException: the server asks for another login parameter
  | "server_error" // any other Python exception: [str(exc), traceback]
  | "invalid_response" // not a JSON-RPC answer
  | "network" // connection refused/reset, DNS…
  | "timeout"
  | `http_${number}`; // http_401 (login refused / session rejected), http_403, http_429, http_500…

/** A failed Tryton call. Never holds the password or the session key. */
export class TrytonError extends Error {
  override readonly name = "TrytonError";
  /** `model.sale.sale.create`, `common.db.login`, … */
  readonly call: string;
  readonly code: TrytonErrorCode;
  /** The server's own message (first element of a UserError), redacted. */
  readonly serverMessage: string;
  /** The server's description (second element of a UserError), when not empty. */
  declare readonly description?: string;
  /** Python exception class name for JSON-RPC errors (`UserError`, `ConcurrencyException`…). */
  declare readonly type?: string;
  declare readonly status?: number;
  /** Whether trying again later may succeed (network, timeout, 429, 5xx). */
  readonly retryable: boolean;

  constructor(init: {
    call: string;
    code: TrytonErrorCode;
    serverMessage: string;
    description?: string;
    type?: string;
    status?: number;
  }) {
    const serverMessage = redact(init.serverMessage);
    const description = init.description ? redact(init.description) : undefined;
    super(`Tryton ${init.call} failed: ${serverMessage}${description ? ` (${description})` : ""}`);
    this.call = init.call;
    this.code = init.code;
    this.serverMessage = serverMessage;
    if (description) this.description = description;
    if (init.type) this.type = init.type;
    if (init.status !== undefined) this.status = init.status;
    this.retryable =
      init.code === "network" ||
      init.code === "timeout" ||
      init.status === 429 ||
      (init.status !== undefined && init.status >= 500);
  }
}

interface Session {
  userId: number;
  key: string;
  header: string;
}

/** Counters, for tests and progress reporting. */
export interface TrytonClientStats {
  logins: number;
  preferenceFetches: number;
  calls: number;
}

/**
 * Calls that change nothing on the server: safe to repeat after any failure. A write
 * (`create`, `write`, buttons …) whose connection broke or timed out may have been
 * committed, so it is repeated only when the server surely did not act (429, 503, connection
 * refused); otherwise the error goes up and the caller looks before writing again (the sale
 * importer re-runs the page, which searches by key first).
 */
const readOnlyCall =
  /^(common\.|model\.[\w.]+\.(read|search|search_read|search_count|fields_get|default_get|get_preferences)$)/;
const notSentCodes = new Set(["ECONNREFUSED", "EAI_AGAIN", "ENETUNREACH", "ENETDOWN", "EHOSTUNREACH"]);

function writeMayRetry(e: AxiosError): boolean {
  if (!isRetryableError(e)) return false;
  const status = e.response?.status;
  if (status !== undefined) return status === 429 || status === 503;
  return e.code !== undefined && notSentCodes.has(e.code);
}

// Access errors are AccessError (a UserError subclass), serialised as "UserError" like
// every other user error; only the message tells them apart (trytond/ir/message.xml).
const accessMessage = /^(You are not allowed to |Calling button .* is not allowed)/;

export class TrytonClient {
  readonly http: AxiosInstance;
  readonly stats: TrytonClientStats = { logins: 0, preferenceFetches: 0, calls: 0 };
  private readonly opts: Required<Omit<TrytonClientOptions, "retry" | "context">> & {
    context: TrytonContext;
  };
  private readonly endpoint: string;
  private session?: Session;
  private pendingLogin?: Promise<Session>;
  private preferences: TrytonContext = {};
  private nextId = 1;

  constructor(options: TrytonClientOptions) {
    if (!options.url || !options.database || !options.username) {
      throw new TypeError("Tryton client needs url, database and username");
    }
    registerSecret(options.password);
    this.opts = {
      url: options.url.replace(/\/+$/, ""),
      database: options.database,
      username: options.username,
      password: options.password,
      language: options.language ?? "en",
      timeoutMs: options.timeoutMs ?? 120_000,
      context: options.context ?? {},
    };
    this.endpoint = `${this.opts.url}/${encodeURIComponent(this.opts.database)}/`;
    this.http = axios.create({
      timeout: this.opts.timeoutMs,
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      responseType: "json",
      // Tryton answers JSON-RPC errors with HTTP 200; 401/403/429/5xx are real failures.
      validateStatus: (status) => status >= 200 && status < 300,
      maxRedirects: 0,
    });
    if (options.retry !== false) applyRetry(this.http, options.retry ?? defaultRetryPolicy);
  }

  get url(): string {
    return this.opts.url;
  }
  get database(): string {
    return this.opts.database;
  }
  get username(): string {
    return this.opts.username;
  }
  get loggedIn(): boolean {
    return this.session !== undefined;
  }
  get userId(): number | undefined {
    return this.session?.userId;
  }
  /** The context sent with every model call: the user's preferences plus `options.context`. */
  get context(): Readonly<TrytonContext> {
    return { ...this.preferences, ...this.opts.context };
  }

  /** `common.server.version` (no login needed). */
  async version(): Promise<string> {
    return (await this.post("common.server.version", [], { path: `${this.opts.url}/` })) as string;
  }

  /**
   * Log in and fetch the user's preferences as context. Model calls log in by themselves
   * when needed; an explicit call always opens a new session (the old one is logged out).
   */
  async login(): Promise<void> {
    if (this.session) await this.logout();
    await this.relogin(undefined);
  }

  /** Fetch `model.res.user.get_preferences` again, e.g. after changing the user's company. */
  async refreshContext(): Promise<Readonly<TrytonContext>> {
    const prefs = await this.call("model.res.user.get_preferences", [true, {}]);
    this.stats.preferenceFetches += 1;
    this.preferences = prefs && typeof prefs === "object" ? (prefs as TrytonContext) : {};
    return this.context;
  }

  /** End the server session. Never throws for an already dead session. */
  async logout(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    if (!session) return;
    try {
      await this.post("common.db.logout", [], { session });
    } catch (err) {
      if (!(err instanceof TrytonError && err.status === 401)) throw err;
    }
  }

  /**
   * Raw JSON-RPC call with session handling: logs in when needed and, on HTTP 401
   * (session expired or logged out), logs in again once and repeats the call.
   * `params` are sent as given (model calls need the context as last element).
   */
  async call<T = unknown>(method: string, params: unknown[]): Promise<T> {
    let session = this.session ?? (await this.relogin(undefined));
    try {
      return (await this.post(method, params, { session })) as T;
    } catch (err) {
      if (!(err instanceof TrytonError && err.status === 401)) throw err;
      session = await this.relogin(session);
      return (await this.post(method, params, { session })) as T;
    }
  }

  /** `model.<model>.<method>(...args, context)`. */
  async model<T = unknown>(
    model: string,
    method: string,
    args: unknown[],
    opts: CallOptions = {},
  ): Promise<T> {
    if (!this.session) await this.relogin(undefined);
    return this.call<T>(`model.${model}.${method}`, [...args, this.contextFor(opts.context)]);
  }

  async search(model: string, domain: Domain, opts: SearchOptions = {}): Promise<number[]> {
    return this.model<number[]>(
      model,
      "search",
      [domain, opts.offset ?? 0, opts.limit ?? null, opts.order ?? null],
      opts,
    );
  }

  async searchCount(model: string, domain: Domain, opts: CallOptions = {}): Promise<number> {
    return this.model<number>(model, "search_count", [domain], opts);
  }

  /** Dotted fields (`template.list_price`) come back nested as `"template.": {…}`. */
  async read<R extends TrytonRecord = TrytonRecord>(
    model: string,
    ids: number[],
    fields: string[],
    opts: CallOptions = {},
  ): Promise<R[]> {
    if (ids.length === 0) return [];
    return this.model<R[]>(model, "read", [ids, fields], opts);
  }

  async searchRead<R extends TrytonRecord = TrytonRecord>(
    model: string,
    domain: Domain,
    fields: string[],
    opts: SearchOptions = {},
  ): Promise<R[]> {
    return this.model<R[]>(
      model,
      "search_read",
      [domain, opts.offset ?? 0, opts.limit ?? null, opts.order ?? null, fields],
      opts,
    );
  }

  /** One call for all records; returns the new ids in order. */
  async create(model: string, values: Values[], opts: CallOptions = {}): Promise<number[]> {
    if (values.length === 0) return [];
    return this.model<number[]>(model, "create", [values], opts);
  }

  /** `write(ids, values)`; more `[ids, values]` pairs may follow, all in one call and one transaction. */
  async write(
    model: string,
    ids: number[],
    values: Values,
    ...more: Array<[ids: number[], values: Values]>
  ): Promise<void> {
    const args: unknown[] = [ids, values];
    for (const [moreIds, moreValues] of more) args.push(moreIds, moreValues);
    await this.model(model, "write", args);
  }

  async delete(model: string, ids: number[], opts: CallOptions = {}): Promise<void> {
    if (ids.length === 0) return;
    await this.model(model, "delete", [ids], opts);
  }

  /**
   * A workflow button, e.g. `button("sale.sale", "confirm", ids)`. Tryton skips records
   * whose transition is not allowed without any error: read the state back.
   */
  async button(model: string, name: string, ids: number[], opts: CallOptions = {}): Promise<void> {
    if (ids.length === 0) return;
    await this.model(model, name, [ids], opts);
  }

  private contextFor(extra?: TrytonContext): TrytonContext {
    return extra ? { ...this.preferences, ...this.opts.context, ...extra } : this.context;
  }

  /**
   * Log in unless a newer session than `stale` already exists (another caller re-logged
   * in meanwhile), then fetch the preferences. One login at a time.
   */
  private async relogin(stale: Session | undefined): Promise<Session> {
    if (this.session && this.session !== stale) return this.session;
    if (!this.pendingLogin) {
      this.session = undefined;
      this.pendingLogin = this.doLogin().finally(() => {
        this.pendingLogin = undefined;
      });
    }
    return this.pendingLogin;
  }

  private async doLogin(): Promise<Session> {
    const { username, password, language } = this.opts;
    const result = await this.post("common.db.login", [username, { password }, language], {
      // A 429 here is Tryton's failed-login rate limit: retrying only extends it.
      noRetryOn429: true,
    });
    if (!Array.isArray(result) || typeof result[0] !== "number" || typeof result[1] !== "string") {
      throw new TrytonError({
        call: "common.db.login",
        code: "invalid_response",
        serverMessage: `unexpected login answer for user "${username}"`,
      });
    }
    const [userId, key] = result as [number, string];
    registerSecret(key);
    const session: Session = {
      userId,
      key,
      header: `Session ${Buffer.from(`${username}:${userId}:${key}`, "utf8").toString("base64")}`,
    };
    registerSecret(session.header.slice("Session ".length));
    this.stats.logins += 1;
    const prefs = await this.post("model.res.user.get_preferences", [true, {}], { session });
    this.stats.preferenceFetches += 1;
    this.preferences = prefs && typeof prefs === "object" ? (prefs as TrytonContext) : {};
    this.session = session;
    return session;
  }

  /** One HTTP round trip: envelope, retries (shared policy), JSON-RPC error mapping. */
  private async post(
    method: string,
    params: unknown[],
    opts: { session?: Session; path?: string; noRetryOn429?: boolean },
  ): Promise<unknown> {
    const id = this.nextId++;
    const config: AxiosRequestConfig & { "axios-retry"?: unknown } = {};
    if (opts.session) config.headers = { Authorization: opts.session.header };
    if (opts.noRetryOn429) {
      config["axios-retry"] = {
        retryCondition: (e: AxiosError) => isRetryableError(e) && e.response?.status !== 429,
      };
    } else if (!readOnlyCall.test(method)) {
      config["axios-retry"] = { retryCondition: writeMayRetry };
    }
    this.stats.calls += 1;
    let data: unknown;
    try {
      const body = JSON.stringify({ id, method, params: encodeValue(params) });
      data = (await this.http.post(opts.path ?? this.endpoint, body, config)).data;
    } catch (err) {
      throw this.httpError(method, err);
    }
    if (!data || typeof data !== "object" || Array.isArray(data)) {
      throw new TrytonError({
        call: method,
        code: "invalid_response",
        serverMessage: "not a JSON-RPC answer",
      });
    }
    const envelope = data as { id?: unknown; result?: unknown; error?: unknown };
    if ("error" in envelope && envelope.error != null) throw rpcError(method, envelope.error);
    if (!("result" in envelope)) {
      throw new TrytonError({
        call: method,
        code: "invalid_response",
        serverMessage: "answer without result",
      });
    }
    return decodeValue(envelope.result);
  }

  private httpError(method: string, err: unknown): TrytonError {
    if (err instanceof TrytonError) return err;
    const e = err as AxiosError;
    const status = e.response?.status;
    if (status !== undefined && status < 300) {
      return new TrytonError({
        call: method,
        code: "network",
        serverMessage: `the answer from ${this.opts.url} was cut off (the connection closed before it was complete)`,
      });
    }
    if (status !== undefined) {
      return new TrytonError({
        call: method,
        code: `http_${status}`,
        status,
        serverMessage: httpMessage(method, status, this.opts),
      });
    }
    if (e.code && /CERT|SELF_SIGNED|TLS|SSL/.test(e.code)) {
      return new TrytonError({
        call: method,
        code: "network",
        serverMessage: `the TLS certificate of ${this.opts.url} was not accepted (${e.code}): trust its CA (NODE_EXTRA_CA_CERTS) or fix the certificate`,
      });
    }
    const timedOut = e.code === "ECONNABORTED" || e.code === "ETIMEDOUT";
    return new TrytonError({
      call: method,
      code: timedOut ? "timeout" : "network",
      serverMessage: timedOut
        ? `no answer from ${this.opts.url} within ${this.opts.timeoutMs} ms`
        : `cannot reach ${this.opts.url} (${e.code ?? e.message ?? "network error"})`,
    });
  }
}

function httpMessage(
  method: string,
  status: number,
  opts: { url: string; database: string; username: string },
): string {
  if (status === 401) {
    return method === "common.db.login"
      ? `login refused for user "${opts.username}" on database "${opts.database}" (wrong user or password?)`
      : `session rejected for user "${opts.username}" (HTTP 401)`;
  }
  if (status === 403) return `HTTP 403: method not exposed or not allowed`;
  if (status === 404) return `HTTP 404: database "${opts.database}" not found at ${opts.url}`;
  if (status === 429) return `HTTP 429: too many requests (Tryton limits failed logins)`;
  return `HTTP ${status}`;
}

/** Map a JSON-RPC `error` member (trytond `JSONProtocol.response`) to a TrytonError. */
export function rpcError(call: string, error: unknown): TrytonError {
  if (!Array.isArray(error)) {
    return new TrytonError({ call, code: "server_error", serverMessage: String(error) });
  }
  const [type, args] = error as [unknown, unknown];
  const list = Array.isArray(args) ? args : [];
  const text = (v: unknown): string => (typeof v === "string" ? v : v == null ? "" : JSON.stringify(v));
  switch (type) {
    case "UserError": {
      const message = text(list[0]);
      return new TrytonError({
        call,
        type: "UserError",
        code: accessMessage.test(message) ? "access_error" : "user_error",
        serverMessage: message,
        description: text(list[1]),
      });
    }
    case "UserWarning":
      return new TrytonError({
        call,
        type: "UserWarning",
        code: "user_warning",
        serverMessage: text(list[1]),
        description: text(list[2]),
      });
    case "ConcurrencyException":
      return new TrytonError({
        call,
        type: "ConcurrencyException",
        code: "concurrency",
        serverMessage: text(args),
      });
    case "LoginException":
      return new TrytonError({
        call,
        type: "LoginException",
        code: "login_failed",
        serverMessage: `server asks for login parameter "${text(list[0])}": ${text(list[1])}`,
      });
    default:
      // [str(exception), traceback]: keep the first line only, never the traceback.
      return new TrytonError({
        call,
        code: "server_error",
        serverMessage: text(type).split("\n")[0] || "server error",
      });
  }
}
