/**
 * A target node's sync queue (src/sync/sync-queue.ts) kept in the node's context, in the default
 * context store: it survives a restart and `kill -9` when that store is persistent (e.g.
 * `localfilesystem`), and is only in memory otherwise — the node then says so once.
 */
import type { Node, NodeAPI } from "node-red";
import type { SyncTarget } from "../../sync/result";
import { readContext, writeContext } from "./context-value";
import { queueRegistry } from "../../sync/queue-registry";
import { defaultRetryPolicy, SyncQueue, type QueueStorage, type RetryPolicy } from "../../sync/sync-queue";

const QUEUE_KEY = "syncQueue";

/** The retry settings of a target node's dialog (seconds and minutes, as typed). */
export interface RetryDef {
  retryFirst?: number | string;
  retryMax?: number | string;
  retryAttempts?: number | string;
  limitWait?: number | string;
}

function positive(value: unknown, scale: number, fallback: number): number {
  const n = Number(value);
  return value !== "" && value !== undefined && Number.isFinite(n) && n > 0 ? n * scale : fallback;
}

export function retryPolicyOf(def: RetryDef): Partial<RetryPolicy> {
  return {
    firstDelayMs: positive(def.retryFirst, 1000, defaultRetryPolicy.firstDelayMs),
    maxDelayMs: positive(def.retryMax, 60_000, defaultRetryPolicy.maxDelayMs),
    maxAttempts: Math.floor(positive(def.retryAttempts, 1, defaultRetryPolicy.maxAttempts)),
    limitWaitMs: positive(def.limitWait, 60_000, defaultRetryPolicy.limitWaitMs),
  };
}

type StoreSettings = Record<string, { module?: unknown } | string | undefined>;

/** Whether the runtime's default context store keeps data across restarts (settings.js `contextStorage`). */
export function defaultStoreIsPersistent(RED: Pick<NodeAPI, "settings">): boolean {
  let stores: StoreSettings | undefined;
  try {
    stores = (RED.settings as unknown as { contextStorage?: StoreSettings }).contextStorage;
  } catch {
    return false;
  }
  if (!stores || typeof stores !== "object") return false;
  let chosen = stores.default ?? stores[Object.keys(stores)[0]];
  if (typeof chosen === "string") chosen = stores[chosen];
  const module = typeof chosen === "object" && chosen ? chosen.module : undefined;
  return module !== undefined && module !== "memory";
}

function contextStorage(node: Node): QueueStorage {
  const context = node.context();
  return {
    load: () => readContext(context, QUEUE_KEY),
    save: (entries) => writeContext(context, QUEUE_KEY, Object.keys(entries).length ? entries : undefined),
  };
}

export interface NodeQueue {
  queue: SyncQueue;
  /** Whether the queue survives a restart. */
  durable: boolean;
  /** " · 3 queued (1 stuck)" for the status, "" when empty. */
  statusSuffix(): string;
  close(): void;
}

export function openNodeQueue(
  RED: Pick<NodeAPI, "settings">,
  node: Node & { name?: string },
  nodeType: string,
  target: SyncTarget,
  def: RetryDef,
): NodeQueue {
  const durable = defaultStoreIsPersistent(RED);
  const queue = new SyncQueue({ target, storage: contextStorage(node), policy: retryPolicyOf(def) });
  queue.ready.catch((err: unknown) =>
    node.error(`The sync queue could not be read from the context store: ${String(err)}`),
  );
  let warned = false;
  const unsubscribe = queue.subscribe((q) => {
    if (durable || warned || q.size === 0) return;
    warned = true;
    node.warn(
      "Orders are waiting in this node's sync queue, which is kept in memory only: a restart of Node-RED " +
        "forgets them. Configure a persistent context store (contextStorage in settings.js, e.g. localfilesystem).",
    );
  });
  const unregister = queueRegistry.addQueue({ nodeId: node.id, nodeType, name: node.name ?? "", queue });
  return {
    queue,
    durable,
    statusSuffix: () => {
      const { attention } = queue.counts();
      if (queue.size === 0) return "";
      return ` · ${queue.size} queued${attention ? ` (${attention} stuck)` : ""}`;
    },
    close: () => {
      unsubscribe();
      unregister();
    },
  };
}
