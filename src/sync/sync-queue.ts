/**
 * The durable sync queue of one target node (`tryton-sale-out`, `salesforce-order-out`): every
 * order that did not reach the target — a per-order failure, a page that failed as a whole, a
 * sale held for `mismatch` or `conflict` — has an entry with the cause, the attempts and the next
 * try, until a later result says the order is in the target (the entry goes) or someone dismisses
 * it. Entries are never dropped by age or count: past the policy's limits they stay as "needs
 * attention" (see docs/sync-queue.md for the rules and why).
 *
 * Pure: storage is an interface (Node-RED node context in the pack), time and randomness are
 * injectable, so every rule is unit-tested without Node-RED.
 */
import type { SyncError, SyncResult, SyncTarget } from "./result";

/**
 * What decides when an entry is tried again:
 * - `transient`: network, 5xx, 429, locks, concurrent-request limits, expired sessions — soon,
 *   with exponential backoff and jitter;
 * - `limit`: the daily API request limit — after the limit window;
 * - `config`: a setting or reference data the order needs (tax map, country, Default Status, a
 *   field Salesforce refuses) — after the node is redeployed (a setting changed), and now and
 *   then at the longest backoff in case the other system was fixed;
 * - `hold`: the target holds the order on purpose (`mismatch`, `conflict`) — like `config`.
 */
export type RetryClass = "transient" | "limit" | "config" | "hold";

/** `pending`: waits for its next try; `retrying`: pulled again, result awaited; `attention`: no more automatic tries. */
export type QueueState = "pending" | "retrying" | "attention";

export interface QueueEntry {
  /** `id:<entity_id>` or `inc:<increment_id>`. */
  key: string;
  orderId: number | null;
  incrementId: string | null;
  target: SyncTarget;
  /** The last failure (or hold) of the order in this target. */
  error: SyncError;
  retryClass: RetryClass;
  state: QueueState;
  /** Failures recorded so far (the first one included). */
  attempts: number;
  firstFailedAt: number;
  lastFailedAt: number;
  /** Epoch ms of the next automatic try. */
  nextTryAt: number;
  /** The queue's epoch (a node start) when it last failed: a redeploy retries `config`/`hold` entries. */
  epoch: string;
  /** Times an intake pulled it again without a result from this node since its last failure. */
  offers: number;
  /** The intake that pulled the order, to pull it again. */
  intakeNodeId?: string;
  magentoConfigId?: string;
}

export interface RetryPolicy {
  /** First automatic retry of a transient failure (then doubling). */
  firstDelayMs: number;
  /** Longest wait between two tries; also how often `config`/`hold` entries are tried. */
  maxDelayMs: number;
  /** Wait after the daily API request limit was reached. */
  limitWaitMs: number;
  /** Failures after which an entry needs attention (no more automatic tries). */
  maxAttempts: number;
  /** Age of the first failure after which an entry needs attention. */
  maxAgeMs: number;
  /** How long a pulled-again entry waits for this node's result before it is due again. */
  leaseMs: number;
  /** Pulls without a result from this node after which an entry needs attention (a filter drops it). */
  maxOffers: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  firstDelayMs: 30_000,
  maxDelayMs: 30 * 60_000,
  limitWaitMs: 60 * 60_000,
  maxAttempts: 12,
  maxAgeMs: 7 * 24 * 3_600_000,
  leaseMs: 10 * 60_000,
  maxOffers: 3,
};

/** Where a queue keeps its entries (a persistent Node-RED context store in the pack). */
export interface QueueStorage {
  load(): Promise<unknown>;
  save(entries: Record<string, QueueEntry>): Promise<void>;
}

/** Where the orders of a result came from (`msg.magento` of the page). */
export interface QueueSource {
  intakeNodeId?: string;
  magentoConfigId?: string;
}

const HOLD_CODES = new Set(["mismatch", "conflict"]);
const TRANSIENT_CODES = new Set([
  "network",
  "timeout",
  "server_error",
  "concurrency",
  "UNABLE_TO_LOCK_ROW",
  "UNKNOWN_EXCEPTION",
  "SERVER_UNAVAILABLE",
  "REQUEST_RUNNING_TOO_LONG",
  "QUERY_TIMEOUT",
]);

interface CauseShape {
  kind?: unknown;
  transient?: unknown;
  retryable?: unknown;
}

/**
 * The retry class of a failure. `cause` is the error a page failed with as a whole (its
 * per-order results say only `page_failed`): Salesforce errors carry `kind`, Magento errors
 * `transient`, Tryton errors `retryable`.
 */
export function retryClassOf(error: SyncError, cause?: unknown): RetryClass {
  if (HOLD_CODES.has(error.code)) return "hold";
  if (cause !== undefined && cause !== null && typeof cause === "object") {
    const c = cause as CauseShape;
    if (c.kind === "limit") return "limit";
    if (c.kind === "transient" || c.transient === true || c.retryable === true) return "transient";
    if (c.kind !== undefined || c.transient === false || c.retryable === false) return "config";
    return "transient"; // an error of unknown shape (a crash in between): worth another try soon
  }
  if (TRANSIENT_CODES.has(error.code) || /^(http_(429|5\d\d)|ERROR_HTTP_(429|5\d\d))$/.test(error.code))
    return "transient";
  return "config";
}

/** The queue key of an order: its entity id, else its increment id. */
export function queueKey(order: { orderId: number | null; incrementId: string | null }): string | null {
  if (order.orderId !== null && Number.isSafeInteger(order.orderId)) return `id:${order.orderId}`;
  if (order.incrementId) return `inc:${order.incrementId}`;
  return null;
}

/** A result that leaves the order outside the target (or held there) and so keeps it queued. */
export function needsRetry(result: SyncResult): boolean {
  return result.action === "failed" || (result.error !== undefined && HOLD_CODES.has(result.error.code));
}

export interface SyncQueueOptions {
  target: SyncTarget;
  storage?: QueueStorage;
  policy?: Partial<RetryPolicy>;
  /** Identifies this start of the node; a different epoch in an entry means "redeployed since". */
  epoch?: string;
  now?: () => number;
  /** In [0, 1): the jitter. */
  random?: () => number;
}

export type QueueEvent = { kind: "changed"; queue: SyncQueue };

export class SyncQueue {
  readonly target: SyncTarget;
  readonly policy: RetryPolicy;
  readonly epoch: string;
  private entriesByKey = new Map<string, QueueEntry>();
  private readonly storage?: QueueStorage;
  private readonly now: () => number;
  private readonly random: () => number;
  private saving: Promise<void> = Promise.resolve();
  private listeners = new Set<(queue: SyncQueue) => void>();
  readonly ready: Promise<void>;

  constructor(options: SyncQueueOptions) {
    this.target = options.target;
    this.policy = { ...defaultRetryPolicy, ...options.policy };
    this.epoch = options.epoch ?? `${Date.now().toString(36)}.${Math.random().toString(36).slice(2, 8)}`;
    this.storage = options.storage;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.ready = this.load();
  }

  get size(): number {
    return this.entriesByKey.size;
  }

  /** Copies, oldest failure first. */
  entries(): QueueEntry[] {
    return [...this.entriesByKey.values()]
      .sort((a, b) => a.firstFailedAt - b.firstFailedAt)
      .map((e) => ({ ...e, error: { ...e.error } }));
  }

  get(key: string): QueueEntry | undefined {
    const e = this.entriesByKey.get(key);
    return e ? { ...e, error: { ...e.error } } : undefined;
  }

  counts(): Record<QueueState, number> {
    const out: Record<QueueState, number> = { pending: 0, retrying: 0, attention: 0 };
    for (const e of this.entriesByKey.values()) out[e.state] += 1;
    return out;
  }

  /**
   * Takes a target's results: an order that needs a retry gets (or updates) its entry, any
   * other result removes it. `cause` is the error of a page that failed as a whole. Resolves
   * once the storage has the change.
   */
  async record(source: QueueSource, results: readonly SyncResult[], cause?: unknown): Promise<void> {
    await this.ready;
    const now = this.now();
    let changed = false;
    for (const result of results) {
      if (result.target !== this.target) continue;
      const key = queueKey(result);
      if (!key) continue;
      if (!needsRetry(result) || !result.error) {
        changed = this.entriesByKey.delete(key) || changed;
        continue;
      }
      this.entriesByKey.set(key, this.failure(key, result, result.error, source, cause, now));
      changed = true;
    }
    if (changed) await this.persist();
  }

  /**
   * Entries to pull again now: `pending`/`retrying` ones whose time has come, and `config`/`hold`
   * ones (also those needing attention) that failed before the node was redeployed.
   */
  due(): QueueEntry[] {
    const now = this.now();
    return this.entries().filter((e) => this.isDue(e, now));
  }

  /** When the next entry comes due (epoch ms; now for one due already); undefined when none will by itself. */
  nextDueAt(filter: (e: QueueEntry) => boolean = () => true): number | undefined {
    const now = this.now();
    let next: number | undefined;
    for (const e of this.entriesByKey.values()) {
      if (!filter(e)) continue;
      const at = this.isDue(e, now) ? now : e.state === "attention" ? undefined : e.nextTryAt;
      if (at !== undefined && (next === undefined || at < next)) next = at;
    }
    return next;
  }

  /**
   * Marks entries as pulled again (`retrying`) and sets when they are due again if no result
   * comes; an entry offered `maxOffers` times without a result needs attention.
   */
  async offer(keys: readonly string[]): Promise<void> {
    await this.ready;
    const now = this.now();
    for (const key of keys) {
      const e = this.entriesByKey.get(key);
      if (!e) continue;
      const offers = e.offers + 1;
      if (offers > this.policy.maxOffers) {
        this.entriesByKey.set(key, {
          ...e,
          state: "attention",
          offers,
          epoch: this.epoch,
          error: {
            ...e.error,
            message: `${e.error.message} (Pulled again ${e.offers} times, but no result reached this node: a filter or switch before it may drop the order.)`,
          },
        });
        continue;
      }
      this.entriesByKey.set(key, {
        ...e,
        state: "retrying",
        offers,
        epoch: this.epoch,
        nextTryAt: now + this.policy.leaseMs,
      });
    }
    await this.persist();
  }

  /** The intake could not fetch the order again (gone from Magento, invalid): it needs attention. */
  async unreachable(key: string, error: SyncError): Promise<void> {
    await this.ready;
    const e = this.entriesByKey.get(key);
    if (!e) return;
    this.entriesByKey.set(key, { ...e, state: "attention", error: { ...error }, lastFailedAt: this.now() });
    await this.persist();
  }

  /** "Sync again": due now, whatever its state (attempts are kept). */
  async again(keys: readonly string[]): Promise<number> {
    await this.ready;
    let n = 0;
    for (const key of keys) {
      const e = this.entriesByKey.get(key);
      if (!e) continue;
      this.entriesByKey.set(key, { ...e, state: "pending", offers: 0, nextTryAt: this.now() });
      n += 1;
    }
    if (n) await this.persist();
    return n;
  }

  /** "Dismiss": the user takes care of these orders; their entries go. */
  async dismiss(keys: readonly string[]): Promise<number> {
    await this.ready;
    let n = 0;
    for (const key of keys) if (this.entriesByKey.delete(key)) n += 1;
    if (n) await this.persist();
    return n;
  }

  /** Called after every change (the node's status, the sidebar). */
  subscribe(listener: (queue: SyncQueue) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private isDue(e: QueueEntry, now: number): boolean {
    const redeployed = e.epoch !== this.epoch && (e.retryClass === "config" || e.retryClass === "hold");
    if (redeployed && e.state !== "retrying") return true;
    if (e.state === "attention") return false;
    return e.nextTryAt <= now;
  }

  private failure(
    key: string,
    result: SyncResult,
    error: SyncError,
    source: QueueSource,
    cause: unknown,
    now: number,
  ): QueueEntry {
    const before = this.entriesByKey.get(key);
    const retryClass = retryClassOf(error, cause);
    const attempts = (before?.attempts ?? 0) + 1;
    const firstFailedAt = before?.firstFailedAt ?? now;
    const tooMany = attempts >= this.policy.maxAttempts;
    const tooOld = now - firstFailedAt >= this.policy.maxAgeMs;
    const entry: QueueEntry = {
      key,
      orderId: result.orderId,
      incrementId: result.incrementId,
      target: this.target,
      error: { ...error },
      retryClass,
      state: tooMany || tooOld ? "attention" : "pending",
      attempts,
      firstFailedAt,
      lastFailedAt: now,
      nextTryAt: now + this.delay(retryClass, attempts),
      epoch: this.epoch,
      offers: 0,
    };
    const intake = source.intakeNodeId ?? before?.intakeNodeId;
    const config = source.magentoConfigId ?? before?.magentoConfigId;
    if (intake) entry.intakeNodeId = intake;
    if (config) entry.magentoConfigId = config;
    if (entry.state === "attention") {
      const why = tooMany ? `${attempts} attempts` : `failing since ${new Date(firstFailedAt).toISOString()}`;
      entry.error.message = `${error.message} (No more automatic retries after ${why}: sync it again or dismiss it.)`;
    }
    return entry;
  }

  /** Exponential backoff with "equal jitter": half the delay fixed, half random. */
  private delay(retryClass: RetryClass, attempts: number): number {
    const p = this.policy;
    if (retryClass === "limit") return p.limitWaitMs;
    if (retryClass !== "transient") return p.maxDelayMs;
    const full = Math.min(p.maxDelayMs, p.firstDelayMs * 2 ** Math.min(30, attempts - 1));
    return Math.round(full / 2 + (this.random() * full) / 2);
  }

  private async load(): Promise<void> {
    if (!this.storage) return;
    const raw = await this.storage.load();
    if (!raw || typeof raw !== "object") return;
    for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
      const entry = readEntry(key, value, this.target);
      if (!entry) continue;
      // A pull-again that was under way when the node stopped (a redeploy, a crash) is over: due now.
      if (entry.state === "retrying") Object.assign(entry, { state: "pending", nextTryAt: this.now() });
      this.entriesByKey.set(key, entry);
    }
  }

  /** Saves are chained: each writes the whole queue as it is when its turn comes. */
  private persist(): Promise<void> {
    for (const listener of [...this.listeners]) {
      try {
        listener(this);
      } catch {
        // A listener (status, sidebar) never breaks the queue.
      }
    }
    const storage = this.storage;
    if (!storage) return Promise.resolve();
    this.saving = this.saving.then(() => storage.save(Object.fromEntries(this.entriesByKey)));
    return this.saving;
  }
}

const states: readonly QueueState[] = ["pending", "retrying", "attention"];
const classes: readonly RetryClass[] = ["transient", "limit", "config", "hold"];

/** An entry read back from storage, checked field by field (a hand-edited store must not crash a node). */
function readEntry(key: string, value: unknown, target: SyncTarget): QueueEntry | null {
  if (!value || typeof value !== "object") return null;
  const v = value as Partial<QueueEntry>;
  const num = (x: unknown, fallback: number) => (typeof x === "number" && Number.isFinite(x) ? x : fallback);
  const error = v.error && typeof v.error === "object" ? v.error : undefined;
  if (!error || typeof error.code !== "string" || typeof error.message !== "string") return null;
  const orderId = typeof v.orderId === "number" && Number.isSafeInteger(v.orderId) ? v.orderId : null;
  const incrementId = typeof v.incrementId === "string" ? v.incrementId : null;
  if (queueKey({ orderId, incrementId }) !== key) return null;
  const entry: QueueEntry = {
    key,
    orderId,
    incrementId,
    target,
    error: {
      code: error.code,
      message: error.message,
      ...(error.field ? { field: String(error.field) } : {}),
    },
    retryClass: classes.includes(v.retryClass as RetryClass) ? (v.retryClass as RetryClass) : "config",
    state: states.includes(v.state as QueueState) ? (v.state as QueueState) : "pending",
    attempts: num(v.attempts, 1),
    firstFailedAt: num(v.firstFailedAt, 0),
    lastFailedAt: num(v.lastFailedAt, 0),
    nextTryAt: num(v.nextTryAt, 0),
    epoch: typeof v.epoch === "string" ? v.epoch : "",
    offers: num(v.offers, 0),
  };
  if (typeof v.intakeNodeId === "string") entry.intakeNodeId = v.intakeNodeId;
  if (typeof v.magentoConfigId === "string") entry.magentoConfigId = v.magentoConfigId;
  return entry;
}
