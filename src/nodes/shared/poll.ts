/**
 * The automatic sync of `magento-order-in` and `status-export`: a run at once and then every
 * interval, never overlapping (a tick that finds a run in progress is dropped; the next one
 * catches up). A failed run turns the status red and reaches Catch nodes.
 */
import type { Node, NodeMessage } from "node-red";
import { progressStatus, safeError } from "./report";
import type { SerialRunner } from "./serial";

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000 } as const;

/** Milliseconds of a dialog's interval and unit (`s`, `m`, `h`; anything else counts as seconds). */
export function intervalMs(interval: unknown, unit: unknown): number {
  return Number(interval) * (UNIT_MS[unit as keyof typeof UNIT_MS] ?? 1000);
}

/** Starts the timer; the returned function stops it (for the node's `close`). */
export function startPolling(
  node: Node,
  runner: SerialRunner,
  status: ReturnType<typeof progressStatus>,
  everyMs: number,
  run: () => Promise<unknown>,
): () => void {
  const tick = () => {
    if (runner.busy) return;
    run().catch((err: unknown) => {
      status.error(err);
      // Catch nodes see an error only when it carries a message.
      node.error(safeError(err), { payload: { trigger: "poll" } } as NodeMessage);
    });
  };
  const timer = setInterval(tick, everyMs);
  setImmediate(tick);
  return () => clearInterval(timer);
}
