/**
 * The recent sync results of this Node-RED process, for the "Order sync" sidebar panel:
 * the seeds' "Salesforce Sync Status" column (latest result per order and target) and
 * the sync queue (a bounded history). In memory only, bounded, and copied on the way in
 * so a caller's objects are never kept. Text is passed through `redact` once more here:
 * the panel shows it to anyone with read access to the editor.
 */
import { syncActions, syncTargets, type SyncAction, type SyncResult, type SyncTarget } from "./result";
import { redact } from "./secrets";

/** Which node reported a result, and where its orders came from (for "sync again"). */
export interface ResultSource {
  nodeId: string;
  nodeType: string;
  /** The Magento config node the orders were pulled with, when known. */
  magentoConfigId?: string;
  /** The `magento-order-in` node that pulled the orders, when known. */
  intakeNodeId?: string;
}

export interface SyncLogEntry extends SyncResult {
  /** Increases by one per recorded result; newer entries have larger numbers. */
  seq: number;
  /** When it was recorded (ISO 8601). */
  at: string;
  source: ResultSource;
}

export interface SyncLogQuery {
  target?: SyncTarget;
  action?: SyncAction | SyncAction[];
  /** Case-insensitive part of the increment id, order id or target id. */
  search?: string;
  /** Most entries returned (default 200, at most the history size). */
  limit?: number;
  /** Every recorded result (newest first) instead of the latest one per order and target. */
  history?: boolean;
  /** Only results that need someone: failed, or held with an error (`mismatch`, `conflict`). */
  problems?: boolean;
}

export type SyncLogEvent = { kind: "recorded"; entries: SyncLogEntry[] } | { kind: "cleared" };
export type SyncLogListener = (event: SyncLogEvent) => void;

export interface SyncLogLimits {
  /** Entries kept in the history (default 2,000). */
  history: number;
  /** Orders × targets kept in the latest view (default 5,000; the oldest are dropped first). */
  latest: number;
}

const MAX_TEXT = 2_000;
const MAX_ID = 200;
/** Links the panel may open: web pages (Salesforce Lightning) and the Tryton desktop client. */
const SAFE_URL = /^(https?|tryton):\/\//i;

function text(value: unknown, max: number): string | undefined {
  if (typeof value !== "string" && typeof value !== "number") return undefined;
  const s = redact(String(value));
  return s.length > max ? s.slice(0, max - 1) + "…" : s;
}

function cleanSource(source: ResultSource): ResultSource {
  const out: ResultSource = {
    nodeId: text(source.nodeId, MAX_ID) ?? "",
    nodeType: text(source.nodeType, MAX_ID) ?? "",
  };
  const config = text(source.magentoConfigId, MAX_ID);
  if (config) out.magentoConfigId = config;
  const intake = text(source.intakeNodeId, MAX_ID);
  if (intake) out.intakeNodeId = intake;
  return out;
}

/** A copy of `result` with only the known fields, scrubbed and size-limited; null when unusable. */
function cleanResult(result: SyncResult): SyncResult | null {
  if (!result || typeof result !== "object") return null;
  const target = syncTargets.includes(result.target) ? result.target : null;
  const action = syncActions.includes(result.action) ? result.action : null;
  if (!target || !action) return null;
  const orderId =
    typeof result.orderId === "number" && Number.isFinite(result.orderId) ? result.orderId : null;
  const out: SyncResult = { orderId, incrementId: text(result.incrementId, MAX_ID) ?? null, target, action };
  const targetId =
    typeof result.targetId === "number" && Number.isFinite(result.targetId)
      ? result.targetId
      : text(result.targetId, MAX_ID);
  if (targetId !== undefined && targetId !== "") out.targetId = targetId;
  const url = text(result.url, MAX_TEXT);
  if (url && SAFE_URL.test(url)) out.url = url;
  const state = text(result.state, MAX_ID);
  if (state) out.state = state;
  if (result.error && typeof result.error === "object") {
    out.error = {
      code: text(result.error.code, MAX_ID) ?? "error",
      message: text(result.error.message, MAX_TEXT) ?? "",
    };
    const field = text(result.error.field, MAX_ID);
    if (field) out.error.field = field;
  }
  return out;
}

function orderKey(r: SyncResult): string | null {
  if (r.orderId !== null) return `id:${r.orderId}`;
  if (r.incrementId) return `inc:${r.incrementId}`;
  return null;
}

export class SyncLog {
  private readonly limits: SyncLogLimits;
  private history: SyncLogEntry[] = [];
  /** Latest entry by `target|order`; Map order = least recently updated first. */
  private latest = new Map<string, SyncLogEntry>();
  private listeners = new Set<SyncLogListener>();
  private seq = 0;

  constructor(limits: Partial<SyncLogLimits> = {}) {
    this.limits = { history: limits.history ?? 2_000, latest: limits.latest ?? 5_000 };
  }

  /** Sequence number of the newest entry (0 when nothing was recorded). */
  get lastSeq(): number {
    return this.seq;
  }

  recordResults(source: ResultSource, results: readonly SyncResult[]): SyncLogEntry[] {
    if (!Array.isArray(results) || results.length === 0) return [];
    const from = cleanSource(source);
    const at = new Date().toISOString();
    const added: SyncLogEntry[] = [];
    for (const raw of results) {
      const result = cleanResult(raw);
      if (!result) continue;
      const entry: SyncLogEntry = { ...result, seq: ++this.seq, at, source: { ...from } };
      added.push(entry);
      this.history.push(entry);
      const order = orderKey(result);
      const key = order ? `${result.target}|${order}` : `${result.target}|seq:${entry.seq}`;
      this.latest.delete(key);
      this.latest.set(key, entry);
      // An order that reached a target made it through the intake: its old intake failure is history.
      if (order && result.target !== "magento") this.latest.delete(`magento|${order}`);
    }
    if (this.history.length > this.limits.history) {
      this.history.splice(0, this.history.length - this.limits.history);
    }
    while (this.latest.size > this.limits.latest) {
      const oldest = this.latest.keys().next().value;
      if (oldest === undefined) break;
      this.latest.delete(oldest);
    }
    if (added.length > 0) this.emit({ kind: "recorded", entries: added });
    return added;
  }

  /** Newest first. */
  query(q: SyncLogQuery = {}): SyncLogEntry[] {
    const limit = Math.max(1, Math.min(this.limits.history, Math.floor(Number(q.limit) || 200)));
    const actions = q.action === undefined ? null : new Set(Array.isArray(q.action) ? q.action : [q.action]);
    const needle = q.search?.trim().toLowerCase() ?? "";
    // Both lists are oldest first: the history by construction, the latest view because an
    // updated key is deleted and set again.
    const source = q.history ? this.history : [...this.latest.values()];
    const out: SyncLogEntry[] = [];
    for (let i = source.length - 1; i >= 0 && out.length < limit; i--) {
      const e = source[i];
      if (q.target && e.target !== q.target) continue;
      if (actions && !actions.has(e.action)) continue;
      if (q.problems && !isProblem(e)) continue;
      if (needle && !matches(e, needle)) continue;
      out.push(copy(e));
    }
    return out;
  }

  /**
   * Latest entries per action, for the panel's header; `held` counts results that carry an error
   * without having failed (a sale held for `mismatch` or `conflict`), apart from their action.
   */
  counts(target?: SyncTarget): Record<SyncAction | "held", number> {
    const counts = Object.fromEntries([...syncActions, "held"].map((a) => [a, 0])) as Record<
      SyncAction | "held",
      number
    >;
    for (const e of this.latest.values()) {
      if (target && e.target !== target) continue;
      counts[e.error && e.action !== "failed" ? "held" : e.action] += 1;
    }
    return counts;
  }

  subscribe(listener: SyncLogListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  clear(): void {
    this.history = [];
    this.latest.clear();
    this.emit({ kind: "cleared" });
  }

  private emit(event: SyncLogEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch {
        // A listener (the panel) must never break the node that recorded the results.
      }
    }
  }
}

/** Failed, or held in the target with an error. */
export function isProblem(r: SyncResult): boolean {
  return r.action === "failed" || r.error !== undefined;
}

function copy(e: SyncLogEntry): SyncLogEntry {
  return { ...e, source: { ...e.source }, ...(e.error ? { error: { ...e.error } } : {}) };
}

function matches(e: SyncLogEntry, needle: string): boolean {
  return [e.incrementId, e.orderId, e.targetId].some(
    (v) => v !== null && v !== undefined && String(v).toLowerCase().includes(needle),
  );
}

/**
 * One log per process, shared by every copy of this module that may be loaded (nodes and
 * the plugin are separate entry points; a second copy of the pack must not split the log).
 */
const GLOBAL_KEY = Symbol.for("@orderbridge/node-red-order-sync/sync-log");
type WithLog = typeof globalThis & { [GLOBAL_KEY]?: SyncLog };
export const syncLog: SyncLog = ((globalThis as WithLog)[GLOBAL_KEY] ??= new SyncLog());

export function recordResults(source: ResultSource, results: readonly SyncResult[]): SyncLogEntry[] {
  return syncLog.recordResults(source, results);
}
export function query(q?: SyncLogQuery): SyncLogEntry[] {
  return syncLog.query(q);
}
export function subscribe(listener: SyncLogListener): () => void {
  return syncLog.subscribe(listener);
}
export function clear(): void {
  syncLog.clear();
}

/**
 * Where a message's orders came from, read from `msg.magento` as `magento-order-in` sets it
 * (`{ node, config }`); empty when the message did not come from an intake node.
 */
export function intakeOf(msg: unknown): Pick<ResultSource, "intakeNodeId" | "magentoConfigId"> {
  const magento = (msg as { magento?: { node?: unknown; config?: unknown } } | null)?.magento;
  const out: Pick<ResultSource, "intakeNodeId" | "magentoConfigId"> = {};
  if (typeof magento?.node === "string" && magento.node) out.intakeNodeId = magento.node;
  if (typeof magento?.config === "string" && magento.config) out.magentoConfigId = magento.config;
  return out;
}
