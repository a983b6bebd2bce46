/**
 * What can go wrong talking to Salesforce, sorted by what the pack does about it
 * (reference/salesforce-rest.md §3, §6.3–§6.5):
 * - `limit`: 403 REQUEST_LIMIT_EXCEEDED "TotalRequests Limit exceeded." — the org's daily API
 *   budget is spent. The run stops at once (no retry loop: every retry would spend more of a
 *   budget that is already gone).
 * - `transient`: UNABLE_TO_LOCK_ROW, 5xx (UNKNOWN_EXCEPTION, SERVER_UNAVAILABLE, ERROR_HTTP_5xx),
 *   network failures, and REQUEST_LIMIT_EXCEEDED with any other message (too many long-running
 *   requests at once: "ConcurrentPerOrgLongTxn Limit exceeded.", "ConcurrentRequests …", which
 *   clear as those requests finish) — worth another attempt after a pause. The limits and their
 *   messages are listed, with sources, in README.md in this folder ("Request limits").
 * - `login`: the token endpoint refused the credentials (OAuth `{error, error_description}`).
 * - `other`: a request Salesforce will refuse again (bad field, validation rule, …).
 * Every message passes through `redact` (src/sync/secrets.ts) when it is built.
 */
import { redact } from "../sync/secrets";

export type FailureKind = "limit" | "transient" | "login" | "other";

/** An error raised by the pack about Salesforce; `code` is Salesforce's errorCode or one of ours. */
export class SalesforceError extends Error {
  readonly code: string;
  readonly kind: FailureKind;

  constructor(code: string, message: string, kind: FailureKind = "other", options?: { cause?: unknown }) {
    super(redact(message), options);
    this.name = "SalesforceError";
    this.code = code;
    this.kind = kind;
  }
}

/** The Salesforce configuration cannot work (missing fields, bad Default Status, …): nothing is sent. */
export class SetupError extends SalesforceError {
  constructor(readonly problems: string[]) {
    super(
      "setup",
      problems.length === 1
        ? `Salesforce setup check failed: ${problems[0]}`
        : `Salesforce setup check failed (${problems.length} problems): ${problems
            .map((p, i) => `${i + 1}) ${p}`)
            .join(" ")}`,
    );
    this.name = "SetupError";
  }
}

const TRANSIENT_CODES = new Set([
  "UNABLE_TO_LOCK_ROW",
  "UNKNOWN_EXCEPTION",
  "SERVER_UNAVAILABLE",
  "REQUEST_RUNNING_TOO_LONG",
  "QUERY_TIMEOUT",
]);

const NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ENETUNREACH",
  "ENETDOWN",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);

interface LooseError {
  name?: unknown;
  errorCode?: unknown;
  code?: unknown;
  message?: unknown;
  statusCode?: unknown;
  cause?: unknown;
}

/** Salesforce's errorCode of a jsforce error (HttpApiError: `errorCode`; collections: `statusCode`). */
export function errorCodeOf(err: unknown): string | undefined {
  if (err instanceof SalesforceError) return err.code;
  const e = (err ?? {}) as LooseError;
  if (typeof e.errorCode === "string") return e.errorCode;
  if (typeof e.statusCode === "string") return e.statusCode;
  return undefined;
}

/** Salesforce's text for the daily API budget; composite subrequests put the code in front of it. */
const dailyLimitText = /\bTotalRequests Limit exceeded/i;

/**
 * REQUEST_LIMIT_EXCEEDED is the daily budget only when Salesforce says TotalRequests. Another or
 * an empty message counts as transient: a wrong guess then costs a few refused requests within
 * the retry policy and ends in a message that does not name the daily limit, whereas taking a
 * concurrent limit for the daily one stops the run for nothing and blames a budget that is not spent.
 */
function requestLimitKind(err: unknown): FailureKind {
  return dailyLimitText.test(messageOf(err)) ? "limit" : "transient";
}

/** What kind of failure this is; see the module comment. */
export function failureKind(err: unknown): FailureKind {
  if (err instanceof SalesforceError) return err.kind;
  const code = errorCodeOf(err);
  if (code === "REQUEST_LIMIT_EXCEEDED") return requestLimitKind(err);
  if (code && (TRANSIENT_CODES.has(code) || /^ERROR_HTTP_(5\d\d|429|420)$/.test(code))) return "transient";
  return networkFailure(err) ? "transient" : "other";
}

/**
 * A dropped, refused or timed-out connection. jsforce fetches with undici (since 3.10.19), which
 * throws a TypeError "fetch failed" whose `cause` (or the cause's cause) is the socket error.
 */
function networkFailure(err: unknown): boolean {
  let e = err as LooseError | undefined;
  for (let depth = 0; e && typeof e === "object" && depth < 4; depth++, e = e.cause as LooseError) {
    if (typeof e.code === "string" && NETWORK_CODES.has(e.code)) return true;
    if (e.name === "FetchError" || e.name === "AbortError") return true;
    const message = typeof e.message === "string" ? e.message : "";
    if (/socket hang up|ECONNRESET|network timeout|other side closed/i.test(message)) return true;
  }
  return false;
}

export function messageOf(err: unknown): string {
  return redact(withoutMarkup(err instanceof Error ? withCause(err) : String(err)));
}

/** undici says only "fetch failed" and puts what failed (`other side closed`, `connect ECONNREFUSED …`) in `cause`. */
function withCause(err: Error): string {
  const cause = err.cause as LooseError | undefined;
  if (err.message !== "fetch failed" || typeof cause?.message !== "string" || !cause.message)
    return err.message;
  const code =
    typeof cause.code === "string" && !cause.message.includes(cause.code) ? ` (${cause.code})` : "";
  return `${err.message}: ${cause.message}${code}`;
}

const htmlStart = /<(!DOCTYPE|html|head|body)\b/i;

/** jsforce puts an HTML error page (proxy, maintenance) in the message as is: say what it was instead. */
function withoutMarkup(text: string): string {
  const at = text.search(htmlStart);
  if (at < 0) return text;
  const title = /<title[^>]*>([^<]*)<\/title>/i.exec(text)?.[1]?.trim();
  const before = text.slice(0, at).trim();
  return `${before ? `${before} ` : ""}the server answered with an HTML page${title ? ` ("${title}")` : ""} instead of JSON`;
}

/** `CODE: message` for a jsforce/Salesforce error, or the plain message. */
export function describeError(err: unknown): string {
  const code = errorCodeOf(err);
  const message = messageOf(err);
  return code && code !== "Error" && !message.startsWith(code) ? `${code}: ${message}` : message;
}

/** The org's daily API request limit is used up: the run stops. */
export class DailyLimitError extends SalesforceError {}

/** The daily API request limit is used up: stop the whole run, say so plainly. */
export function dailyLimitError(err: unknown, usage?: { used: number; limit: number }): DailyLimitError {
  if (err instanceof DailyLimitError) return err;
  const shown = usage ? ` (${usage.used}/${usage.limit} API requests used in the last 24 hours)` : "";
  return new DailyLimitError(
    "REQUEST_LIMIT_EXCEEDED",
    `Salesforce refused the request: the org's daily API request limit is reached${shown}. ` +
      `The run was stopped; orders not yet sent will sync once Salesforce accepts requests again. ` +
      `Salesforce said: ${messageOf(err)}`,
    "limit",
    { cause: err },
  );
}

/** A REQUEST_LIMIT_EXCEEDED that is not the daily limit (see `requestLimitKind`). */
export function isShortLivedLimit(err: unknown): boolean {
  return errorCodeOf(err) === "REQUEST_LIMIT_EXCEEDED" && failureKind(err) === "transient";
}

/** A limit that is not the daily one still refused the request after every retry: stop, and say which. */
export function shortLivedLimitError(err: unknown, attempts: number): SalesforceError {
  return new SalesforceError(
    "REQUEST_LIMIT_EXCEEDED",
    `Salesforce refused the request ${attempts} times in a row for a request limit that is not the daily API limit, ` +
      `usually too many long-running requests running in the org at once (it clears as they finish). ` +
      `The run was stopped; orders not yet sent will sync on the next run. Salesforce said: ${messageOf(err) || "no message"}`,
    "transient",
    { cause: err },
  );
}

/** An OAuth token endpoint refusal, in a sentence naming the grant and what to check. */
export function loginError(mode: string, err: unknown): SalesforceError {
  const e = (err ?? {}) as LooseError;
  const oauthCode = typeof e.name === "string" && e.name !== "Error" ? e.name : undefined;
  const hint: Record<string, string> = {
    password: "check the client id and secret, the username, the password and the security token",
    client_credentials:
      "check the client id and secret, and that the connected app enables the client credentials flow with a run-as user",
    jwt: "check the client id, the username, the private key and that the connected app holds the matching certificate and pre-authorizes the user",
    refresh_token: "check the client id and the refresh token (it may have been revoked)",
  };
  const kind = failureKind(err) === "transient" ? "transient" : "login";
  return new SalesforceError(
    oauthCode ?? "login_failed",
    `Salesforce login failed (${mode.replace("_", " ")} flow${oauthCode ? `, ${oauthCode}` : ""}): ${messageOf(err)}; ${hint[mode] ?? "check the credentials"}.`,
    kind,
    { cause: err },
  );
}

/**
 * A read (query) failed. jsforce has already retried it on 5xx and network errors
 * (reference §6.5), so it is not retried again: the failure ends the run (kind `other`).
 * REQUEST_LIMIT_EXCEEDED keeps its kind: the daily limit stops the run, and jsforce does not
 * retry a 403, so any other request limit is left to the caller's retry.
 */
export function readError(err: unknown, what: string): SalesforceError {
  if (err instanceof SalesforceError) return err;
  const kind = failureKind(err);
  if (errorCodeOf(err) === "REQUEST_LIMIT_EXCEEDED")
    return new SalesforceError("REQUEST_LIMIT_EXCEEDED", describeError(err), kind, { cause: err });
  const code = errorCodeOf(err) ?? "read_failed";
  // jsforce reading a body that is not what the API sends fails inside itself with a TypeError
  // (undici's network failures are TypeErrors too).
  const shown =
    err instanceof TypeError && !networkFailure(err)
      ? "the answer is not a Salesforce API answer (an HTML page, a cut-off body or JSON of another shape)"
      : describeError(err);
  return new SalesforceError(
    code,
    `Salesforce ${what} failed: ${shown}`,
    kind === "login" ? "login" : "other",
    {
      cause: err,
    },
  );
}
