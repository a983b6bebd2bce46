/**
 * How Salesforce calls are retried (reference §6.5), in one place:
 * - GET/PUT/DELETE: jsforce retries them itself on 420/429/5xx and network errors (5 tries,
 *   500 ms × 2ⁿ). The pack does not retry them again (no retry storms). jsforce does not retry a
 *   403, though: a request limit that is not the daily one (errors.ts) on a read inside a round
 *   is retried by the pusher's round (order-pusher.ts).
 * - POST/PATCH (composite, collections): jsforce never retries them, and its retry cannot
 *   replay a request body anyway. Read-only POSTs (the setup check's composite of describes and
 *   queries) are retried here with the shared backoff; writes are retried by the pusher, which
 *   first looks the orders up again (order-pusher.ts), so a write whose answer was lost is
 *   never repeated blindly.
 * - The daily limit (REQUEST_LIMIT_EXCEEDED "TotalRequests …") is never retried: the run stops.
 *   Any other REQUEST_LIMIT_EXCEEDED is `transient` and retried like a 5xx.
 */
import { retryDelayMs, type RetryPolicy } from "../sync/retry";
import { failureKind } from "./errors";

export async function retryTransient<T>(
  fn: () => Promise<T>,
  policy: RetryPolicy,
  delay: (retry: number) => number = (retry) => retryDelayMs(retry, policy),
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (failureKind(err) !== "transient" || attempt >= Math.max(1, policy.attempts)) throw err;
      await new Promise((resolve) => setTimeout(resolve, delay(attempt)));
    }
  }
}
