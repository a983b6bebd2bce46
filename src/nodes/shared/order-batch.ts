/**
 * The input wrapper every order-writing node shares (tryton-sale-out, salesforce-order-out):
 * take `msg.payload` (one Magento order or an array), run the target's batch one message at a
 * time, show progress and counts in the status, send the per-order results on output 1 and
 * the failures on output 2, and call `done(err)` only when the whole batch failed. Every order
 * that did not reach the target goes into the node's sync queue before `done`, so the intake may
 * move its cursor past the page; a page pulled again from the queue (`msg.magento.retry`) is
 * narrowed to the orders this node queued.
 */
import type { Node, NodeMessage, NodeMessageInFlow } from "node-red";
import { orderIdentity, orderLabel } from "../../magento/schema";
import { failed, type SyncResult, type SyncTarget } from "../../sync/result";
import { intakeOf, recordResults } from "../../sync/sync-log";
import { queueKey } from "../../sync/sync-queue";
import { queuedError } from "./flow-completion";
import type { NodeQueue } from "./node-queue";
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
  /** The node's sync queue. */
  queue: NodeQueue;
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
  const { queue } = options.queue;
  const target = targetOf[options.nodeType];
  node.on("input", (msg: NodeMessageInFlow, send, done) => {
    const source = { nodeId: node.id, nodeType: options.nodeType, ...intakeOf(msg) };
    /** Every order of the page failed: each gets a failed result (output 2, sync panel) and a queue entry. */
    const pageFailedWith = (err: unknown, orders: unknown[], cause: unknown) => {
      status.error(err);
      const failures = pageFailed(orders, options.nodeType, err);
      if (failures.length === 0) {
        done(safeError(err));
        return;
      }
      recordResults(source, failures);
      send([null, { ...(msg as NodeMessage), payload: failures }]);
      queue.record(source, failures, cause).then(
        () => done(queuedError(safeError(err))),
        // Not queued: the intake holds its cursor before this page.
        () => done(safeError(err)),
      );
    };
    let orders: unknown[];
    try {
      orders = ordersOf(msg.payload, options.nodeType);
    } catch (err) {
      status.error(err);
      done(safeError(err));
      return;
    }
    const retry = retryKeys(msg, node.id);
    if (retry) {
      orders = orders.filter((o) => retry.has(queueKey(orderIdentity(o)) ?? ""));
      if (orders.length === 0) {
        done();
        return;
      }
    }
    const problem = options.problem();
    if (problem) {
      // A node that cannot work (settings, configuration node) is a configuration cause: retried after a redeploy.
      pageFailedWith(problem, orders, { kind: "config" });
      return;
    }
    runner
      .run(async (signal) => {
        status.busy(`${orders.length} orders…`);
        const outcome = await options.run(orders, (text) => status.busy(text), signal);
        if (target) await queue.record(source, outcome.results);
        return outcome;
      })
      .then((outcome) => {
        const shown = resultCounts(outcome.results);
        const suffix = options.suffix?.(outcome);
        const queued = options.queue.statusSuffix();
        status.done(`${shown.text}${queued}${suffix ? ` · ${suffix}` : ""}`, shown.warn || queued !== "");
        recordResults(source, outcome.results);
        // The message itself goes on with the results (Node-RED's usual msg.payload = …; send(msg)),
        // so a `complete` node copies the results, not the page of orders it came with.
        const base = msg as NodeMessage;
        base.payload = outcome.results;
        send([base, outcome.failures.length ? { ...base, payload: outcome.failures } : null]);
        done();
      })
      .catch((err: unknown) => pageFailedWith(err, orders, err));
  });
  return { runner, status };
}

/**
 * The orders this node is asked to retry, when the message is a page pulled again from the sync
 * queues (`msg.magento.retry`: node id → queue keys); undefined for any other message.
 */
export function retryKeys(msg: unknown, nodeId: string): Set<string> | undefined {
  const retry = (msg as { magento?: { retry?: unknown } } | null)?.magento?.retry;
  if (!retry || typeof retry !== "object") return undefined;
  const keys = (retry as Record<string, unknown>)[nodeId];
  return new Set(Array.isArray(keys) ? keys.filter((k): k is string => typeof k === "string") : []);
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
