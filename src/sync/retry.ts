import type { AxiosError, AxiosInstance } from "axios";
import axiosRetry from "axios-retry";

/**
 * The one retry policy every HTTP target shares (Magento REST, Tryton JSON-RPC, …).
 *
 * What is retried: network failures (connection reset/refused, socket timeout, DNS
 * hiccup), HTTP 429 and HTTP 5xx — for **every method, writes included**. That is safe
 * because every write the pack makes is idempotent by key one level up (DESIGN.md
 * "Idempotent by key"): a retried Magento comment/ship/invoice is read back or refused
 * by Magento, Tryton sales are keyed by reference, Salesforce writes are upserts.
 * Anything else (400, 401, 403, 404, 405, 409, 422 …) fails at once: repeating it
 * cannot succeed, and 401 is handled by the client's own re-login.
 */
export interface RetryPolicy {
  /** Total attempts including the first one (1 = never retry). */
  attempts: number;
  /** Backoff unit: retry n waits a random time in [0, min(maxDelayMs, baseDelayMs * 2^(n-1))]. */
  baseDelayMs: number;
  /** Cap of the exponential backoff. */
  maxDelayMs: number;
}

export const defaultRetryPolicy: Readonly<RetryPolicy> = Object.freeze({
  attempts: 5,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
});

export interface RetryEvent {
  /** 1 for the first retry (second attempt). */
  retry: number;
  delayMs: number;
  /** `HTTP 503`, `ECONNRESET`, … */
  reason: string;
  /** The server's Retry-After in ms, when it sent one. */
  retryAfterMs?: number;
  method?: string;
  url?: string;
}

export interface RetryOptions {
  /**
   * Upper bound for a server-requested wait (Retry-After). A server asking for more is
   * still retried after this long: the attempt bound keeps the total finite. Default 60 s.
   */
  maxRetryAfterMs?: number;
  /** Jitter source in [0, 1); inject for deterministic tests. */
  random?: () => number;
  /** Clock for HTTP-date Retry-After values; inject for tests. */
  now?: () => number;
  /** Told before each wait (logging, progress, tests). */
  onRetry?: (event: RetryEvent) => void;
}

const retryableNetworkCodes = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED", // axios: timeout (legacy code) and aborted sockets
  "ETIMEDOUT", // axios with clarifyTimeoutError, and socket connect timeouts
  "ESOCKETTIMEDOUT",
  "EPIPE",
  "EAI_AGAIN",
  "ENETUNREACH",
  "ENETDOWN",
  "EHOSTUNREACH",
  "ERR_SOCKET_CONNECTION_TIMEOUT",
]);

/** Whether an axios failure is worth another attempt under the shared policy. */
export function isRetryableError(error: AxiosError): boolean {
  if (error.code === "ERR_CANCELED" || error.config?.signal?.aborted) return false;
  const status = error.response?.status;
  // A 2xx whose body stopped mid-way (connection closed): a network failure like any other.
  if (status !== undefined && status < 300 && error.code === "ERR_BAD_RESPONSE") return true;
  if (status !== undefined) return status === 429 || (status >= 500 && status <= 599);
  // "socket hang up" is reported as ECONNRESET; a missing code means a non-network bug.
  return error.code !== undefined && retryableNetworkCodes.has(error.code);
}

/**
 * Retry-After as milliseconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3).
 * Unreadable or past values give undefined.
 */
export function parseRetryAfter(value: unknown, now: number = Date.now()): number | undefined {
  if (Array.isArray(value)) value = value[0];
  if (typeof value === "number") return value >= 0 ? value * 1000 : undefined;
  if (typeof value !== "string" || value.trim() === "") return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/**
 * Wait before retry number `retry` (1-based): full jitter over the capped exponential
 * backoff, raised to the server's Retry-After when that is longer, never above the
 * Retry-After cap.
 */
export function retryDelayMs(
  retry: number,
  policy: RetryPolicy,
  retryAfterMs?: number,
  random: () => number = Math.random,
  maxRetryAfterMs = 60_000,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  const backoff = Math.floor(random() * Math.max(0, ceiling));
  if (retryAfterMs === undefined || retryAfterMs <= backoff) return backoff;
  return Math.min(retryAfterMs, Math.max(maxRetryAfterMs, policy.maxDelayMs));
}

function reasonOf(error: AxiosError): string {
  if (error.response) return `HTTP ${error.response.status}`;
  return error.code ?? "network error";
}

/**
 * Install the policy on an axios instance (axios-retry interceptors). Each retry goes
 * through the instance's request interceptors again, so per-attempt work there (OAuth
 * nonce and timestamp, fresh tokens) is redone. Returns a handle to uninstall it.
 */
export function applyRetry(
  instance: AxiosInstance,
  policy: RetryPolicy = defaultRetryPolicy,
  opts: RetryOptions = {},
): { eject(): void } {
  const random = opts.random ?? Math.random;
  const now = opts.now ?? Date.now;
  const maxRetryAfterMs = opts.maxRetryAfterMs ?? 60_000;
  const ids = axiosRetry(instance, {
    retries: Math.max(0, Math.floor(policy.attempts) - 1),
    // The timeout is per attempt; a slow first attempt must not starve the retries.
    shouldResetTimeout: true,
    retryCondition: isRetryableError,
    retryDelay: (retry, error) => {
      const retryAfterMs = parseRetryAfter(error.response?.headers?.["retry-after"], now());
      const delayMs = retryDelayMs(retry, policy, retryAfterMs, random, maxRetryAfterMs);
      opts.onRetry?.({
        retry,
        delayMs,
        reason: reasonOf(error),
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
        method: error.config?.method?.toUpperCase(),
        url: error.config?.url?.split("?")[0],
      });
      return delayMs;
    },
  });
  return {
    eject() {
      instance.interceptors.request.eject(ids.requestInterceptorId);
      instance.interceptors.response.eject(ids.responseInterceptorId);
    },
  };
}
