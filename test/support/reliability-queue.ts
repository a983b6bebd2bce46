/**
 * What the real-Node-RED reliability tests of the sync queue share: waiting for a condition
 * (never for a duration), reading the sync queues of a running Node-RED through the Order sync
 * panel's admin route, and reading a queue as the context store has it on disk.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { startNodeRed, type NodeRedInstance } from "../../src/sandbox/node-red-runtime";
import { sleep, waitUntil } from "./wait";

export { sleep };

/**
 * Waits for `ready` (checked every 250 ms, test/support/wait.ts). The cap only ends a test that
 * would never pass; on giving up, `explain` adds what was seen.
 */
export async function until(
  what: string,
  ready: () => Promise<boolean> | boolean,
  opts: { capMs?: number; explain?: () => Promise<string> | string } = {},
): Promise<void> {
  try {
    await waitUntil(what, ready, { capMs: opts.capMs ?? 300_000, everyMs: 250 });
  } catch (err) {
    if (!opts.explain) throw err;
    throw new Error(`${(err as Error).message}\n${await opts.explain()}`, { cause: err });
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
  const first = queue?.entries[0];
  let history = "";
  if (first) {
    const res = await fetch(
      `${nodeRed.url}/orderbridge/sync/results?history=1&search=${first.key.slice(first.key.indexOf(":") + 1)}`,
    );
    const body = (await res.json()) as {
      entries: Array<{ at: string; target: string; action: string; source: { nodeType: string } }>;
    };
    history = body.entries.map((e) => `${e.at} ${e.source.nodeType} ${e.target} ${e.action}`).join("\n    ");
  }
  return `  queue (${queue?.entries.length ?? "?"}): ${entries?.join("\n    ") ?? "unreadable"}\n  results of ${first?.key}:\n    ${history}\n  Node-RED log:\n    ${nodeRed.logs().slice(-20).join("\n    ")}`;
}

/**
 * One real Node-RED at a time on a user directory of its own with the persistent
 * (localfilesystem) context store: `start` (again after a `kill9`, on the same directory),
 * `stop` for the test's `afterEach` (SIGKILL, directory removed).
 */
export class PersistentNodeRed {
  instance: NodeRedInstance | undefined;
  private userDir: string | undefined;

  get dir(): string {
    this.userDir ??= mkdtempSync(path.join(os.tmpdir(), "orderbridge-queue-"));
    return this.userDir;
  }

  async start(flow?: { flows: object[]; credentials: Record<string, object> }): Promise<NodeRedInstance> {
    this.instance = await startNodeRed({
      userDir: this.dir,
      persistentContext: true,
      removeUserDir: false,
      ...(flow ? { flows: flow.flows, credentials: flow.credentials } : {}),
    });
    return this.instance;
  }

  async stop(): Promise<void> {
    await this.instance?.stop("SIGKILL");
    this.instance = undefined;
    if (this.userDir) rmSync(this.userDir, { recursive: true, force: true });
    this.userDir = undefined;
  }
}
