import { redact } from "../sync/secrets";
import type { SyncError } from "../sync/result";

/**
 * Stable codes: `http_<status>` for any HTTP error answer, `network` (connection
 * failed or reset), `timeout`, `aborted` (client closed), `invalid_response` (2xx
 * that is not the JSON the route promises), `config` (unusable client options).
 */
export type MagentoErrorCode =
  `http_${number}` | "network" | "timeout" | "aborted" | "invalid_response" | "config";

export interface MagentoErrorInit {
  code: MagentoErrorCode;
  /** `GET /V1/orders` — method and route, no host, no query (queries can carry personal data). */
  call: string;
  status?: number;
  /** What the server said, placeholders filled in; included in the message. */
  serverMessage?: string;
  /** Our own explanation, placed before the server's words. */
  summary?: string;
  /** Advice for the merchant, placed last. */
  hint?: string;
}

/**
 * Every failure of the Magento client. The message is one sentence a merchant can act
 * on, built here and only here, and scrubbed by `redact()`.
 */
export class MagentoError extends Error {
  readonly code: MagentoErrorCode;
  readonly call: string;
  readonly status?: number;
  readonly serverMessage?: string;

  constructor(init: MagentoErrorInit) {
    const what = init.status !== undefined ? ` (HTTP ${init.status})` : "";
    const parts = [`Magento ${init.call} failed${what}`];
    const summary = init.summary ?? (init.serverMessage ? undefined : defaultSummary(init.code));
    let text = parts[0];
    if (summary) text += `: ${summary}`;
    if (init.serverMessage) text += `${summary ? ". Magento said" : ""}: ${init.serverMessage}`;
    if (init.hint) text += `${/[.!?]$/.test(text) ? "" : "."} ${init.hint}`;
    super(redact(text));
    this.name = "MagentoError";
    this.code = init.code;
    this.call = init.call;
    if (init.status !== undefined) this.status = init.status;
    if (init.serverMessage !== undefined) this.serverMessage = redact(init.serverMessage);
  }

  /** 429, 5xx and network trouble: worth trying again later (after the client's own retries). */
  get transient(): boolean {
    if (this.code === "network" || this.code === "timeout") return true;
    return this.status !== undefined && (this.status === 429 || this.status >= 500);
  }

  toSyncError(field?: string): SyncError {
    return field
      ? { code: this.code, message: this.message, field }
      : { code: this.code, message: this.message };
  }
}

function defaultSummary(code: MagentoErrorCode): string {
  switch (code) {
    case "network":
      return "the server could not be reached or dropped the connection";
    case "timeout":
      return "the server did not answer in time";
    case "aborted":
      return "the request was cancelled because the connection was closed";
    case "invalid_response":
      return "the answer is not what the Magento REST API returns";
    default:
      return "the server refused the request";
  }
}

type Parameters = unknown[] | Record<string, unknown> | undefined;

function parameterText(value: unknown): string {
  if (Array.isArray(value)) return value.map(parameterText).join(", ");
  if (value === null || value === undefined) return "";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/**
 * Magento returns `%1` / `%name` placeholders unsubstituted (reference §8): fill them
 * from `parameters` (array → `%1`, `%2`, …; object → `%key`). Unknown placeholders stay.
 */
export function substitutePlaceholders(message: string, parameters: Parameters): string {
  if (!parameters || typeof parameters !== "object") return message;
  const lookup = (key: string): unknown => {
    if (Array.isArray(parameters)) {
      const index = Number(key);
      return Number.isInteger(index) && index >= 1 ? parameters[index - 1] : undefined;
    }
    return Object.prototype.hasOwnProperty.call(parameters, key) ? parameters[key] : undefined;
  };
  return message.replace(/%(\d+|[A-Za-z_]\w*)/g, (whole, key: string) => {
    const value = lookup(key);
    return value === undefined ? whole : parameterText(value);
  });
}

interface MagentoErrorBody {
  message?: unknown;
  parameters?: unknown;
  errors?: unknown;
}

function messageOf(entry: MagentoErrorBody): string | undefined {
  if (typeof entry.message !== "string") return undefined;
  const params = entry.parameters;
  return substitutePlaceholders(
    entry.message,
    Array.isArray(params) || (params && typeof params === "object") ? (params as Parameters) : undefined,
  );
}

const excerptLength = 160;

function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > excerptLength ? `${flat.slice(0, excerptLength)}…` : flat;
}

/**
 * Read an error body of any shape into one readable sentence: Magento's JSON
 * (`message` + `parameters`, `errors[]` lists), a bare JSON string, an HTML page
 * (proxy, maintenance mode, PHP fatal), or a broken/truncated body. Never throws.
 */
export function describeErrorBody(body: unknown): string | undefined {
  if (body === undefined || body === null) return undefined;
  if (Buffer.isBuffer(body)) body = body.toString("utf8");
  if (typeof body === "string") {
    const text = body.trim();
    if (text === "") return undefined;
    if (text.startsWith("<")) return describeHtml(text);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return `the answer is not valid JSON (cut off or not from the REST API): "${excerpt(text)}"`;
    }
    if (typeof parsed === "string") return parsed.trim() || undefined;
    return describeErrorBody(parsed) ?? `unexpected answer: "${excerpt(text)}"`;
  }
  if (typeof body !== "object") return String(body);
  if (Array.isArray(body)) return `unexpected answer: "${excerpt(JSON.stringify(body))}"`;
  const top = body as MagentoErrorBody;
  const main = messageOf(top);
  const details = Array.isArray(top.errors)
    ? top.errors
        .map((e) => (e && typeof e === "object" ? messageOf(e as MagentoErrorBody) : undefined))
        .filter((m): m is string => !!m)
    : [];
  if (details.length > 0) return `${main ? `${main.replace(/[.\s]*$/, "")}: ` : ""}${details.join("; ")}`;
  if (main !== undefined) return main;
  return `unexpected answer: "${excerpt(JSON.stringify(body))}"`;
}

function describeHtml(html: string): string {
  const title = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(html)?.[1];
  const heading = /<h1[^>]*>([\s\S]*?)<\/h1>/i.exec(html)?.[1];
  const label = (title ?? heading ?? "").replace(/<[^>]+>/g, "").trim();
  return `the server answered with an HTML page instead of JSON${label ? ` ("${excerpt(label)}")` : ""} — check the base URL, a proxy in front of Magento, or maintenance mode`;
}

/** Hints that turn Magento's terse auth messages into something a merchant can fix. */
export function hintFor(status: number | undefined, serverMessage: string | undefined): string | undefined {
  const text = serverMessage ?? "";
  if (/2fa provider-specific endpoints/i.test(text)) {
    return (
      "Two-factor authentication is enabled, so an admin username and password cannot be used for unattended sync: " +
      "create an integration in Magento (System › Extensions › Integrations) and use its access token (bearer) or OAuth 1.0a credentials instead."
    );
  }
  if (/isn't authorized to access/i.test(text)) {
    return (
      "Check that the integration grants this resource; for a bearer integration token also enable " +
      "Stores › Configuration › Services › OAuth › Consumer Settings › “Allow OAuth Access Tokens to be used as standalone Bearer tokens”; " +
      "an expired admin token gives the same answer."
    );
  }
  if (/signature is invalid/i.test(text))
    return "Check the consumer secret and access token secret of the integration.";
  if (/account sign-in was incorrect/i.test(text)) return "Check the admin username and password.";
  if (status === 404 && !text) return "Check the base URL and the store code.";
  return undefined;
}

const timeoutCodes = new Set([
  "ETIMEDOUT",
  "ECONNABORTED",
  "ESOCKETTIMEDOUT",
  "ERR_SOCKET_CONNECTION_TIMEOUT",
]);
const tlsCodes =
  /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS|EPROTO|HOSTNAME_MISMATCH|ERR_SSL/;

/**
 * Turn whatever a request threw into a MagentoError. The axios error itself is not kept
 * (it holds the request headers, i.e. the credentials).
 */
export function fromRequestError(err: unknown, call: string): MagentoError {
  if (err instanceof MagentoError) return err;
  const e = (err ?? {}) as {
    code?: string;
    message?: string;
    name?: string;
    response?: { status: number; statusText?: string; data?: unknown; headers?: Record<string, unknown> };
  };
  if (e.code === "ERR_CANCELED" || e.name === "CanceledError" || e.name === "AbortError") {
    return new MagentoError({ code: "aborted", call });
  }
  if (e.response) {
    const status = e.response.status;
    if (status < 300) {
      return new MagentoError({
        code: "network",
        call,
        summary: "the answer was cut off: the connection closed before the whole answer arrived",
      });
    }
    if (status >= 300 && status < 400) {
      const location = e.response.headers?.location;
      return new MagentoError({
        code: `http_${status}`,
        call,
        status,
        summary: `the server redirects${typeof location === "string" ? ` to ${location.split("?")[0]}` : ""}`,
        hint: "Use the final address (usually https://…) as the base URL.",
      });
    }
    if (status === 429) {
      const honoured = e.response.headers?.["retry-after"] !== undefined;
      return rateLimited(call, e.response.data, retriesOf(err), honoured);
    }
    const serverMessage = describeErrorBody(e.response.data) ?? (e.response.statusText || undefined);
    return new MagentoError({
      code: `http_${status}`,
      call,
      status,
      ...(serverMessage ? { serverMessage } : {}),
      ...optionalHint(hintFor(status, serverMessage)),
    });
  }
  if (e.code && timeoutCodes.has(e.code)) return new MagentoError({ code: "timeout", call });
  if (e.code && tlsCodes.test(e.code)) {
    return new MagentoError({
      code: "network",
      call,
      summary: `the TLS certificate was not accepted (${e.message ?? e.code})`,
      hint: "Add the server's CA certificate to the connection settings, or fix the certificate.",
    });
  }
  return new MagentoError({
    code: "network",
    call,
    summary: `the server could not be reached or dropped the connection (${e.message || e.code || "unknown error"})`,
  });
}

/** Retries the shared policy made before giving up (axios-retry keeps the count on the request config). */
function retriesOf(err: unknown): number {
  const state = (err as { config?: Record<string, unknown> } | null)?.config?.["axios-retry"];
  const count = (state as { retryCount?: unknown } | undefined)?.retryCount;
  return typeof count === "number" ? count : 0;
}

/**
 * 429 Too Many Requests: Magento, or the web server or CDN in front of it, is rate-limiting.
 * Its page (often HTML from the proxy) is not quoted: only Magento's own JSON message is.
 */
function rateLimited(call: string, body: unknown, retries: number, retryAfter: boolean): MagentoError {
  const said = isHtml(body) ? undefined : describeErrorBody(body);
  const retried =
    retries > 0
      ? `; the request was retried ${retries} ${retries === 1 ? "time" : "times"} ${retryAfter ? "honouring its Retry-After header" : "with backoff"}`
      : "";
  return new MagentoError({
    code: "http_429",
    call,
    status: 429,
    summary: `Magento is rate-limiting this client (Too Many Requests)${retried}`,
    ...(said ? { serverMessage: said } : {}),
    hint: "Lower the pace (a longer interval between runs, a smaller page size) or raise the shop's rate limit for this integration.",
  });
}

function isHtml(body: unknown): boolean {
  const text = Buffer.isBuffer(body) ? body.toString("utf8") : body;
  return typeof text === "string" && text.trim().startsWith("<");
}

function optionalHint(hint: string | undefined): { hint?: string } {
  return hint ? { hint } : {};
}
