/**
 * The input wrapper every order-writing node shares (tryton-sale-out, salesforce-order-out):
 * take `msg.payload` (one Magento order or an array), run the target's batch one message at a
 * time, show progress and counts in the status, send the per-order results on output 1 and
 * the failures on output 2, and call `done(err)` only when the whole batch failed.
 */
import type { Node, NodeMessage, NodeMessageInFlow } from "node-red";
import { orderIdentity, orderLabel } from "../../magento/schema";
import { failed, type SyncResult, type SyncTarget } from "../../sync/result";
import { intakeOf, recordResults } from "../../sync/sync-log";
import { errorText, progressStatus, safeError } from "./report";
import { SerialRunner } from "./serial";

export interface BatchOutcome {
  results: SyncResult[];
  failures: SyncResult[];
}

export interface OrderBatchOptions<T extends BatchOutcome> {
  /** Node type, for messages ("salesforce-order-out: msg.payload must be …"). */
  nodeType: string;
  /** Returns the error that keeps the node from working (missing config …), if any. */
  problem: () => Error | undefined;
  /** Runs one batch; `progress` sets a blue status text. */
  run: (orders: unknown[], progress: (text: string) => void, signal: AbortSignal) => Promise<T>;
  /** Text appended to the counts in the done status (e.g. API usage). */
  suffix?: (outcome: T) => string | undefined;
}

/** msg.payload: one order or a page of them. */
export function ordersOf(payload: unknown, nodeType: string): unknown[] {
  if (Array.isArray(payload)) return payload;
  if (payload && typeof payload === "object") return [payload];
  throw new Error(`${nodeType}: msg.payload must be a Magento order or an array of orders.`);
}

/** "3 new, 1 upd, 5 same, 1 failed" and whether anything needs attention. */
export function resultCounts(results: SyncResult[]): { text: string; warn: boolean } {
  const n = (a: string) => results.filter((r) => r.action === a && !r.error).length;
  const attention = results.filter((r) => r.error).length;
  const parts = [
    [n("created"), "new"],
    [n("updated"), "upd"],
    [n("unchanged") + n("skipped"), "same"],
    [attention, "failed"],
  ].filter(([count]) => count);
  const text = parts.map(([count, what]) => `${count} ${what}`).join(", ") || "0 orders";
  return { text, warn: attention > 0 };
}

/**
 * Installs the input handler on `node`; returns the runner (for `close`: `runner.stop()`) and
 * the status helper.
 */
export function handleOrderBatches<T extends BatchOutcome>(node: Node, options: OrderBatchOptions<T>) {
  const status = progressStatus(node);
  const runner = new SerialRunner();
  node.on("input", (msg: NodeMessageInFlow, send, done) => {
    let orders: unknown[];
    try {
      const problem = options.problem();
      if (problem) throw problem;
      orders = ordersOf(msg.payload, options.nodeType);
    } catch (err) {
      status.error(err);
      done(safeError(err));
      return;
    }
    runner
      .run((signal) => {
        status.busy(`${orders.length} orders…`);
        return options.run(orders, (text) => status.busy(text), signal);
      })
      .then((outcome) => {
        const shown = resultCounts(outcome.results);
        const suffix = options.suffix?.(outcome);
        status.done(suffix ? `${shown.text} · ${suffix}` : shown.text, shown.warn);
        recordResults({ nodeId: node.id, nodeType: options.nodeType, ...intakeOf(msg) }, outcome.results);
        // The message itself goes on with the results (Node-RED's usual msg.payload = …; send(msg)),
        // so a `complete` node copies the results, not the page of orders it came with.
        const base = msg as NodeMessage;
        base.payload = outcome.results;
        send([base, outcome.failures.length ? { ...base, payload: outcome.failures } : null]);
        done();
      })
      .catch((err: unknown) => {
        status.error(err);
        // No order of the page may vanish: each gets a failed result (output 2, sync panel) besides done(err).
        const failures = pageFailed(orders, options.nodeType, err);
        if (failures.length) {
          recordResults({ nodeId: node.id, nodeType: options.nodeType, ...intakeOf(msg) }, failures);
          send([null, { ...(msg as NodeMessage), payload: failures }]);
        }
        done(safeError(err));
      });
  });
  return { runner, status };
}

const targetOf: Record<string, SyncTarget> = {
  "tryton-sale-out": "tryton",
  "salesforce-order-out": "salesforce",
};

/** One failed result per order of a page that failed as a whole (login refused, server gone after retries …). */
export function pageFailed(orders: unknown[], nodeType: string, err: unknown): SyncResult[] {
  const target = targetOf[nodeType];
  if (!target) return [];
  const reason = errorText(err);
  return orders.map((order) =>
    failed(orderIdentity(order), target, {
      code: "page_failed",
      message: `Magento order ${orderLabel(order)} was not synced: ${reason}`,
    }),
  );
}
