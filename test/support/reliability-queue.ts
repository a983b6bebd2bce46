/**
 * What the real-Node-RED reliability tests of the sync queue share: waiting for a condition
 * (never for a duration), reading the sync queues of a running Node-RED through the Order sync
 * panel's admin route, and reading a queue as the context store has it on disk.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type { NodeRedInstance } from "../../src/sandbox/node-red-runtime";

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits for `ready` (checked every 250 ms). The cap only ends a test that would never pass; on
 * giving up, `explain` adds what was seen.
 */
export async function until(
  what: string,
  ready: () => Promise<boolean> | boolean,
  opts: { capMs?: number; explain?: () => Promise<string> | string } = {},
): Promise<void> {
  const capMs = opts.capMs ?? 300_000;
  const started = Date.now();
  while (!(await ready())) {
    if (Date.now() - started > capMs) {
      const seen = opts.explain ? `\n${await opts.explain()}` : "";
      throw new Error(`gave up after ${capMs / 1000} s waiting for: ${what}${seen}`);
    }
    await sleep(250);
  }
}

export interface QueueView {
  entries: Array<{
    key: string;
    nodeId: string;
    state: string;
    retryClass: string;
    attempts: number;
    error: { code: string; message: string };
  }>;
  counts: { pending: number; retrying: number; attention: number };
}

/** The sync queues of a running Node-RED, read through the Order sync panel's admin route. */
export async function queueOf(nodeRed: NodeRedInstance): Promise<QueueView> {
  const res = await fetch(`${nodeRed.url}/orderbridge/sync/queue?limit=500`);
  assert.equal(res.status, 200);
  return (await res.json()) as QueueView;
}

/** Entries of a target node's sync queue as the localfilesystem context store has them on disk. */
export function queuedOnDisk(userDir: string, tab: string, nodeId: string): number {
  const file = path.join(userDir, "context", tab, `${nodeId}.json`);
  if (!existsSync(file)) return 0;
  try {
    const data = JSON.parse(readFileSync(file, "utf8")) as { syncQueue?: Record<string, unknown> };
    return Object.keys(data.syncQueue ?? {}).length;
  } catch {
    return 0; // being renamed into place
  }
}

/** What a failed wait shows: the queue's first entries and the end of the Node-RED log. */
export async function queueDiagnosis(nodeRed: NodeRedInstance): Promise<string> {
  const queue = await queueOf(nodeRed).catch(() => undefined);
  const entries = queue?.entries
    .slice(0, 5)
    .map((e) => `${e.key} ${e.state} ×${e.attempts} ${e.error.message}`);
  return `  queue (${queue?.entries.length ?? "?"}): ${entries?.join("\n    ") ?? "unreadable"}\n  Node-RED log:\n    ${nodeRed.logs().slice(-20).join("\n    ")}`;
}
