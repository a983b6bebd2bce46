import helper from "node-red-node-test-helper";
import type { NodeMessage } from "node-red";
import { WAIT_CAP_MS, waitUntil } from "./wait";

helper.init(require.resolve("node-red"));

export { helper };
export { sleep } from "./wait";

type Listener = (msg: NodeMessage & Record<string, unknown>) => void;

/** Collects every message a `helper` node receives, and waits for a condition on them. */
export class Collector {
  readonly messages: Array<NodeMessage & Record<string, unknown>> = [];
  private waiters: Array<() => void> = [];

  constructor(nodeId: string) {
    const node = helper.getNode(nodeId);
    const listener: Listener = (msg) => {
      this.messages.push(msg);
      for (const wake of this.waiters.splice(0)) wake();
    };
    node.on("input", listener);
  }

  /** Resolves when `ready(messages)` is true; rejects after `timeoutMs` (a cap) with what arrived so far. */
  until(
    ready: (messages: Array<NodeMessage & Record<string, unknown>>) => boolean,
    timeoutMs = WAIT_CAP_MS,
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out after ${timeoutMs} ms with ${this.messages.length} message(s)`)),
        timeoutMs,
      );
      const check = () => {
        if (ready(this.messages)) {
          clearTimeout(timer);
          resolve();
        } else this.waiters.push(check);
      };
      check();
    });
  }

  count(n: number, timeoutMs?: number): Promise<void> {
    return this.until((m) => m.length >= n, timeoutMs);
  }
}

/** Everything a run showed a user: messages, status texts, log lines, as one string to scan for secrets. */
export function everythingShown(collectors: Collector[]): string {
  const logSpy = helper.log() as unknown as { args: unknown[][] } | undefined;
  const logs = logSpy ? logSpy.args.map((a) => JSON.stringify(a, replacer)) : [];
  const messages = collectors.flatMap((c) => c.messages.map((m) => JSON.stringify(m, replacer)));
  return [...logs, ...messages].join("\n");
}

function replacer(_key: string, value: unknown) {
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  return value;
}

/**
 * Hands `msg` to node `nodeId` and waits until the node is done with it: one more message at the
 * Complete and Catch nodes scoped to it (their `helper` nodes' collectors).
 */
export async function deliver(nodeId: string, msg: object, watchers: Collector[]): Promise<void> {
  const finished = () => watchers.reduce((n, w) => n + w.messages.length, 0);
  const before = finished();
  helper.getNode(nodeId).receive(msg as never);
  await waitUntil(`${nodeId} to finish with the message`, () => finished() > before);
}
