/**
 * Seeded fault injection for data API requests. With probability `rate` a request draws one
 * of `kinds` (same seed, same sequence of requests → same faults):
 * - "500" / "503": the request is not processed; 500 UNKNOWN_EXCEPTION / 503 SERVER_UNAVAILABLE;
 * - "request_limit": not processed; 403 REQUEST_LIMIT_EXCEEDED, the daily limit's message;
 * - "concurrent_limit": not processed; 403 REQUEST_LIMIT_EXCEEDED, the message of the limit on
 *   concurrent long-running requests (on a real org it clears as those requests finish);
 * - "slow": processed after `slowMs` (default 2000 ms);
 * - "reset": processed, then the connection is dropped without a response (the write is
 *   committed but the client never learns it: what idempotent keys are for);
 * - "unable_to_lock_row": every write of the request fails with UNABLE_TO_LOCK_ROW (reads are
 *   unaffected; collections report it per record, single-record calls as HTTP 400);
 * - "record_error": only the first record written by the request fails that way.
 */

export type FaultKind =
  | "500"
  | "503"
  | "unable_to_lock_row"
  | "request_limit"
  | "concurrent_limit"
  | "reset"
  | "slow"
  | "record_error";

export const ALL_FAULT_KINDS: FaultKind[] = [
  "500",
  "503",
  "unable_to_lock_row",
  "request_limit",
  "concurrent_limit",
  "reset",
  "slow",
  "record_error",
];

export interface FaultOptions {
  /** Probability per data API request, 0..1. */
  rate: number;
  kinds?: FaultKind[];
  seed?: number;
  slowMs?: number;
}

/** mulberry32: small, fast, good enough for test dice. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class FaultInjector {
  private options: FaultOptions | undefined;
  private random: () => number = Math.random;

  constructor(options?: FaultOptions) {
    this.set(options);
  }

  set(options: FaultOptions | undefined): void {
    if (options && (options.rate < 0 || options.rate > 1)) {
      throw new Error("Salesforce simulator: faults.rate must be between 0 and 1");
    }
    this.options = options;
    this.random = mulberry32(options?.seed ?? 1);
  }

  get slowMs(): number {
    return this.options?.slowMs ?? 2000;
  }

  draw(): FaultKind | undefined {
    const options = this.options;
    if (!options || options.rate <= 0) return undefined;
    if (this.random() >= options.rate) return undefined;
    const kinds = options.kinds && options.kinds.length > 0 ? options.kinds : ALL_FAULT_KINDS;
    return kinds[Math.floor(this.random() * kinds.length)];
  }
}
