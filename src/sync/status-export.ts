/**
 * Tryton status back to Magento (seed 000 "Exporting Order Status from Tryton to Magento",
 * done in full where trytond-magento only cancelled — reference anchors §1.6/§1.8):
 * cancelled sale → cancel; done customer shipment → Magento shipment with its quantities
 * and tracking numbers; posted invoice → Magento invoice (optional); a comment naming the
 * Tryton sale (optional).
 *
 * A run: find the store's sales changed since the cursor (`status-reader.ts`), then page by
 * page: read them from Tryton, fetch their Magento orders in one search, plan
 * (`status-plan.ts`) and write, one result per sale.
 *
 * The cursor (node context) is only an optimisation (DESIGN "idempotent by key, not by
 * memory"): every write is decided against what Magento has at that moment.
 * - `since`: the latest Tryton write time seen, not the local clock, so clock skew between
 *   Node-RED and Tryton does not matter. Searches start `overlapMs` earlier, because a
 *   transaction's rows can become visible after rows written later (PostgreSQL stamps
 *   `write_date` at transaction start).
 * - `exported`: the fingerprint of each sale exported inside that overlap, so a sale seen
 *   again unchanged costs no Magento call and no result.
 * - `retry`: sales whose export failed for a passing reason (HTTP 5xx/429), tried again on
 *   the next run even when they did not change.
 */
import type { MagentoClient } from "../magento/client";
import { MagentoError } from "../magento/errors";
import { fetchOrders } from "../magento/order-source";
import type { MagentoOrder } from "../magento/schema";
import { StatusWriter, type WriteOutcome } from "../magento/status-writer";
import type { TrytonClient } from "../tryton/rpc";
import { StatusReader, stampMicros, stampText, type SaleStatus } from "../tryton/status-reader";
import type { SyncError, SyncResult } from "./result";
import { defaultPlanOptions, planExport, type PlanOptions, type PlannedAction } from "./status-plan";

export interface StatusExportOptions extends PlanOptions {
  /** The store's reference prefix, as on `tryton-sale-out`. */
  referencePrefix: string;
  /** Sales per page (one Magento search and seven Tryton calls per page). */
  pageSize: number;
  /** How far before the cursor each search starts. */
  overlapMs: number;
}

export const defaultExportOptions: Readonly<StatusExportOptions> = Object.freeze({
  ...defaultPlanOptions,
  referencePrefix: "",
  pageSize: 100,
  overlapMs: 5 * 60_000,
});

export interface StatusCursor {
  /** Latest Tryton change seen, `YYYY-MM-DD HH:MM:SS.ffffff` UTC; null: from the beginning. */
  since: string | null;
  /** Sale id → fingerprint and change time (µs) of its last successful export, within the overlap. */
  exported: Record<string, { fp: string; at: number }>;
  /** Sale ids to try again. */
  retry: number[];
}

export interface CursorStore {
  load(): Promise<StatusCursor | null>;
  save(cursor: StatusCursor | null): Promise<void>;
}

export type ExportTrigger =
  | { kind: "incremental" }
  | { kind: "reset" }
  | { kind: "since"; since: number }
  | { kind: "orders"; orderIds: number[] };

export type SentAction = "comment" | "cancel" | "ship" | "invoice";

/** The per-order result (DESIGN.md), with the Tryton sale and what was written. */
export interface StatusResult extends SyncResult {
  saleId: number;
  saleNumber: string | null;
  /** What was written to Magento for this sale, in order (one `ship` per shipment). */
  sent: SentAction[];
}

export interface ExportPage {
  page: number;
  results: StatusResult[];
  failures: StatusResult[];
}

export interface ExportSummary {
  trigger: ExportTrigger["kind"];
  pages: number;
  /** Sales found changed (or asked for). */
  sales: number;
  updated: number;
  unchanged: number;
  failed: number;
  cursor: StatusCursor | null;
}

export interface ExportRunOptions {
  signal?: AbortSignal;
  onPage?: (page: ExportPage) => Promise<void> | void;
  progress?: (text: string) => void;
}

export class TriggerError extends Error {
  override name = "TriggerError";
}

/** `msg.payload` → what to export: any message exports what changed; `{reset}`, `{since}`, `{orderIds}` ask for more. */
export function exportTriggerOf(payload: unknown): ExportTrigger {
  if (payload === null || typeof payload !== "object" || Array.isArray(payload))
    return { kind: "incremental" };
  const p = payload as Record<string, unknown>;
  if (p.orderIds !== undefined) {
    const list = Array.isArray(p.orderIds) ? p.orderIds : [p.orderIds];
    const ids = list.map(Number);
    if (ids.length === 0 || !ids.every((id) => Number.isInteger(id) && id > 0)) {
      throw new TriggerError(
        "msg.payload.orderIds: expected Magento order entity ids (positive whole numbers)",
      );
    }
    return { kind: "orders", orderIds: ids };
  }
  if (p.since !== undefined) {
    const text = p.since instanceof Date ? p.since.toISOString() : String(p.since).trim();
    const iso = /^\d{4}-\d{2}-\d{2}$/.test(text)
      ? `${text}T00:00:00Z`
      : /^\d{4}-\d{2}-\d{2}[ T][\d:.]+$/.test(text)
        ? `${text.replace(" ", "T")}Z`
        : text;
    const ms = Date.parse(iso);
    if (Number.isNaN(ms)) {
      throw new TriggerError(
        `msg.payload.since: "${text}" is not a date (use ISO 8601, e.g. 2024-05-01T10:00:00Z, or 2024-05-01 10:00:00 UTC)`,
      );
    }
    return { kind: "since", since: ms * 1000 };
  }
  if (p.reset === true) return { kind: "reset" };
  return { kind: "incremental" };
}

// Exports to one Magento store run one at a time in this process: a plan is only right
// while nobody else writes the same orders between its read and its writes.
const queues = new Map<string, Promise<unknown>>();
async function exclusive<T>(key: string, job: () => Promise<T>): Promise<T> {
  const before = queues.get(key) ?? Promise.resolve();
  const run = before.then(job, job);
  const tail = run.then(
    () => undefined,
    () => undefined,
  );
  queues.set(key, tail);
  try {
    return await run;
  } finally {
    if (queues.get(key) === tail) queues.delete(key);
  }
}

/** Failures that say Magento cannot be used at all: the whole run stops (and is retried as a whole). */
function stopsTheRun(err: MagentoError | undefined): boolean {
  if (!err) return false;
  return (
    ["network", "timeout", "aborted", "config"].includes(err.code) || err.status === 401 || err.status === 403
  );
}

function chunks<T>(list: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

const actionWords: Record<PlannedAction["kind"], string> = {
  comment: "add the comment naming the Tryton sale to",
  cancel: "cancel",
  ship: "create the shipment for",
  invoice: "create the invoice for",
};

export class StatusExporter {
  readonly options: Readonly<StatusExportOptions>;
  private readonly reader: StatusReader;
  private readonly writer: StatusWriter;

  constructor(
    readonly tryton: TrytonClient,
    readonly magento: MagentoClient,
    settings: Partial<StatusExportOptions> = {},
  ) {
    const given = Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined));
    const merged = { ...defaultExportOptions, ...given } as StatusExportOptions;
    merged.pageSize = Math.min(300, Math.max(1, Math.floor(Number(merged.pageSize) || 100)));
    merged.overlapMs = Math.max(0, Number(merged.overlapMs) || 0);
    this.options = Object.freeze(merged);
    this.reader = new StatusReader(tryton, {
      referencePrefix: merged.referencePrefix,
      invoices: merged.invoice !== "off",
    });
    this.writer = new StatusWriter(magento);
  }

  /** One run. Rejects only when the whole run failed (Tryton or Magento unusable); orders fail one by one. */
  async run(
    trigger: ExportTrigger,
    cursors: CursorStore,
    opts: ExportRunOptions = {},
  ): Promise<ExportSummary> {
    const summary: ExportSummary = {
      trigger: trigger.kind,
      pages: 0,
      sales: 0,
      updated: 0,
      unchanged: 0,
      failed: 0,
      cursor: null,
    };
    const manual = trigger.kind === "orders";
    if (trigger.kind === "reset") await cursors.save(null);
    const stored = trigger.kind === "reset" ? null : await cursors.load();
    const cursor: StatusCursor = {
      since: stored?.since ?? null,
      exported: { ...(stored?.exported ?? {}) },
      retry: [...(stored?.retry ?? [])],
    };
    opts.progress?.("reading Tryton…");

    let ids: number[];
    let highWater: number | null = null;
    if (trigger.kind === "orders") {
      ids = await this.reader.salesForOrders(trigger.orderIds);
    } else {
      const from = trigger.kind === "since" ? trigger.since : stampMicros(cursor.since);
      const found = await this.reader.changedSince(
        from === null ? null : from - this.options.overlapMs * 1000,
        opts.signal,
      );
      ids = [...new Set([...found.ids, ...(stored?.retry ?? [])])].sort((a, b) => a - b);
      highWater = found.highWater;
    }
    summary.sales = ids.length;

    const key = `${this.magento.baseUrl}|${this.magento.storeCode}`;
    for (const pageIds of chunks(ids, this.options.pageSize)) {
      opts.signal?.throwIfAborted();
      const page = await exclusive(key, () => this.exportPage(pageIds, manual ? null : cursor, opts.signal));
      summary.pages += 1;
      for (const r of page.results) {
        if (r.action === "updated") summary.updated += 1;
        else if (r.action === "failed") summary.failed += 1;
        else summary.unchanged += 1;
      }
      if (page.results.length) {
        await opts.onPage?.({ page: summary.pages, results: page.results, failures: page.failures });
      }
      opts.progress?.(`page ${summary.pages} · ${summary.updated} upd`);
      if (!manual) await cursors.save(cursor);
    }

    if (!manual) {
      const before = stampMicros(cursor.since);
      const since = highWater === null ? before : before === null ? highWater : Math.max(before, highWater);
      cursor.since = since === null ? null : stampText(since);
      const keepFrom = since === null ? 0 : since - this.options.overlapMs * 1000;
      cursor.exported = Object.fromEntries(
        Object.entries(cursor.exported).filter(([, e]) => e.at >= keepFrom),
      );
      await cursors.save(cursor);
      summary.cursor = cursor;
    }
    return summary;
  }

  /** One page: Tryton reads, one Magento search, the writes, one Magento search of the orders written. */
  private async exportPage(
    saleIds: number[],
    cursor: StatusCursor | null,
    signal: AbortSignal | undefined,
  ): Promise<{ results: StatusResult[]; failures: StatusResult[] }> {
    const optionsKey = JSON.stringify(this.options);
    const statuses = (await this.reader.read(saleIds)).filter((s) => {
      const seen = cursor?.exported[String(s.saleId)];
      return !seen || seen.fp !== `${s.fingerprint}|${optionsKey}`;
    });
    const { orders, missing } = await this.fetch(
      statuses.map((s) => s.orderId),
      signal,
    );
    const results: StatusResult[] = [];
    const written = new Set<number>();
    const firstSale = new Map<number, number>();
    for (const sale of statuses) {
      signal?.throwIfAborted();
      const result = await this.exportSale(
        sale,
        orders.get(sale.orderId),
        missing.get(sale.orderId),
        firstSale,
      );
      if (result.sent.length) written.add(sale.orderId);
      results.push(result);
    }
    if (written.size) {
      const after = await this.fetch([...written], signal);
      for (const r of results) {
        const order = r.orderId !== null ? after.orders.get(r.orderId) : undefined;
        if (order && r.sent.length) r.state = order.state;
      }
    }
    if (cursor) {
      // Saved after every page: a run that stops half-way keeps the retries of the pages not reached.
      cursor.retry = cursor.retry.filter((id) => !saleIds.includes(id));
      for (const r of results) {
        const sale = statuses.find((s) => s.saleId === r.saleId)!;
        if (r.action !== "failed") {
          cursor.exported[String(r.saleId)] = { fp: `${sale.fingerprint}|${optionsKey}`, at: sale.changedAt };
        } else {
          delete cursor.exported[String(r.saleId)];
          if (isPassing(r.error)) cursor.retry.push(r.saleId);
        }
      }
    }
    return { results, failures: results.filter((r) => r.error) };
  }

  private async fetch(orderIds: number[], signal: AbortSignal | undefined) {
    const orders = new Map<number, MagentoOrder>();
    const missing = new Map<number, SyncError>();
    const ids = [...new Set(orderIds)];
    if (ids.length === 0) return { orders, missing };
    for await (const page of fetchOrders(this.magento, { entityIds: ids }, this.options.pageSize, {
      signal,
    })) {
      for (const o of page.orders) orders.set(o.entity_id, o);
      for (const bad of page.invalid) {
        if (bad.result.orderId !== null && bad.result.error)
          missing.set(bad.result.orderId, bad.result.error);
      }
    }
    return { orders, missing };
  }

  private async exportSale(
    sale: SaleStatus,
    order: MagentoOrder | undefined,
    missing: SyncError | undefined,
    firstSale: Map<number, number>,
  ): Promise<StatusResult> {
    const prefix = this.options.referencePrefix;
    const base: StatusResult = {
      orderId: sale.orderId,
      incrementId:
        order?.increment_id ??
        (sale.reference.startsWith(prefix) ? sale.reference.slice(prefix.length) : null),
      target: "magento",
      action: "unchanged",
      targetId: sale.orderId,
      saleId: sale.saleId,
      saleNumber: sale.number,
      sent: [],
    };
    const saleText = `Tryton sale ${sale.number ?? `id ${sale.saleId}`}`;
    const fail = (error: SyncError): StatusResult => ({ ...base, action: "failed", error });
    if (!order) {
      return fail(
        missing ?? {
          code: "not_found",
          message: `${saleText}: Magento order with entity_id ${sale.orderId} was not found.`,
        },
      );
    }
    base.state = order.state;
    const label = `Magento order #${order.increment_id}`;
    if (sale.reference !== `${prefix}${order.increment_id}`) {
      return fail({
        code: "mismatch",
        field: "reference",
        message:
          `${saleText} has reference "${sale.reference}", but ${label} (entity_id ${order.entity_id}) would be ` +
          `"${prefix}${order.increment_id}": the sale comes from another store or was edited; nothing was written.`,
      });
    }
    const first = firstSale.get(order.entity_id);
    if (first !== undefined && first !== sale.saleId) {
      return fail({
        code: "conflict",
        message: `${label} has two Tryton sales (ids ${first} and ${sale.saleId}); only the first one is exported.`,
      });
    }
    firstSale.set(order.entity_id, sale.saleId);

    for (const action of planExport(sale, order, this.options)) {
      const outcome = await this.write(order.entity_id, action);
      if (!outcome.ok) {
        if (stopsTheRun(outcome.error)) throw outcome.error;
        const done = base.sent.length ? ` (already written: ${base.sent.join(", ")})` : "";
        return {
          ...fail({
            code: outcome.code,
            message: `${label}: Magento refused to ${actionWords[action.kind]} the order for ${saleText}${done}: ${outcome.message}`,
          }),
          sent: base.sent,
        };
      }
      base.sent.push(action.kind);
      base.action = "updated";
    }
    return base;
  }

  private write(orderId: number, action: PlannedAction): Promise<WriteOutcome> {
    const notify = this.options.notify;
    switch (action.kind) {
      case "comment":
        return this.writer.comment(orderId, { comment: action.text, status: action.status });
      case "cancel":
        return this.writer.cancel(orderId);
      case "ship":
        return this.writer.ship(orderId, {
          items: action.items,
          tracks: action.tracks,
          comment: action.comment,
          notify,
        });
      case "invoice":
        return this.writer.invoice(orderId, {
          items: action.items,
          capture: this.options.invoice === "online",
          comment: action.comment,
          notify,
        });
    }
  }
}

/** HTTP 5xx and 429 after the client's own retries: worth another run. */
function isPassing(error: SyncError | undefined): boolean {
  return !!error && /^http_(5\d\d|429)$/.test(error.code);
}
