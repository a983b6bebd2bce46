/**
 * The intake → filter → target path of a flow, run in-process with the pack's own domain
 * objects (what the nodes call), for soaks that need to count every order: it pulls
 * Magento with keyset paging, filters, hands each page to a target, and keeps the result
 * of every order. A page the target rejects as a whole is reported as one failed result
 * per order (what `tryton-sale-out` / `salesforce-order-out` send on output 2).
 */
import type { MagentoClient } from "../../src/magento/client";
import { pullSince } from "../../src/magento/order-source";
import type { OrderCursor } from "../../src/magento/search";
import { orderIdentity } from "../../src/magento/schema";
import { defaultFilterRules, filterOrders } from "../../src/sync/filter-rules";
import type { SyncResult } from "../../src/sync/result";

export interface Target {
  name: string;
  /** Resolves with one result per order of the page; rejects when the whole page failed. */
  write(orders: unknown[]): Promise<{ results: SyncResult[] }>;
}

export interface PipelineRun {
  pages: number;
  pulled: number;
  invalid: SyncResult[];
  skipped: SyncResult[];
  /** Last result per order and target. */
  results: Map<string, Map<number, SyncResult>>;
  /** Pages a target rejected as a whole, with the error. */
  pageFailures: Array<{ target: string; orders: number; error: string }>;
  cursor: OrderCursor | null;
}

export async function runPipeline(
  magento: MagentoClient,
  targets: Target[],
  opts: {
    pageSize: number;
    since?: OrderCursor | null;
    /** Called after each page (mid-run events: expire sessions …). */
    afterPage?: (page: number) => void | Promise<void>;
    /** Which orders a target takes (default all). */
    accepts?: (target: string, order: unknown) => boolean;
  },
): Promise<PipelineRun> {
  const run: PipelineRun = {
    pages: 0,
    pulled: 0,
    invalid: [],
    skipped: [],
    results: new Map(targets.map((t) => [t.name, new Map()])),
    pageFailures: [],
    cursor: opts.since ?? null,
  };
  for await (const page of pullSince(magento, { since: opts.since ?? null, pageSize: opts.pageSize })) {
    run.pages += 1;
    run.pulled += page.orders.length + page.invalid.length;
    run.invalid.push(...page.invalid.map((i) => i.result));
    const filtered = filterOrders(page.orders, defaultFilterRules);
    run.skipped.push(...filtered.held.map((h) => h.result));
    for (const target of targets) {
      const orders = filtered.passed.filter((o) => opts.accepts?.(target.name, o) ?? true);
      if (orders.length === 0) continue;
      const table = run.results.get(target.name)!;
      try {
        const { results } = await target.write(orders);
        for (const r of results) if (r.orderId !== null) table.set(r.orderId, r);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        run.pageFailures.push({ target: target.name, orders: orders.length, error: message });
        for (const o of orders) {
          const id = orderIdentity(o);
          if (id.orderId === null) continue;
          table.set(id.orderId, {
            ...id,
            target: target.name as SyncResult["target"],
            action: "failed",
            error: { code: "page_failed", message },
          });
        }
      }
    }
    run.cursor = page.cursor;
    await opts.afterPage?.(run.pages);
  }
  return run;
}

/** Counts of the actions in a result table. */
export function actionCounts(table: Map<number, SyncResult>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of table.values()) {
    const key = r.error && r.action !== "failed" ? `${r.action}+${r.error.code}` : r.action;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}
