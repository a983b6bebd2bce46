/**
 * The first step of every `magento-order-in` run: pull again, by id, the orders that the target
 * nodes' sync queues hold for this intake and that are due. Each page carries
 * `msg.magento.retry` (target node id → queue keys), so that each target takes only what it
 * queued. An order Magento no longer returns (or that no longer passes validation) needs
 * attention in the queues that hold it.
 */
import { fetchOrders, type OrderSearcher, type PulledPage } from "../../magento/order-source";
import { orderIdentity } from "../../magento/schema";
import { queueRegistry, type QueueOwner } from "../../sync/queue-registry";
import { queueKey } from "../../sync/sync-queue";

export type RetryMap = Record<string, string[]>;

/** Both keys an order can be queued under (entity id and increment id). */
function keysOf(order: unknown): string[] {
  const { orderId, incrementId } = orderIdentity(order);
  const keys: string[] = [];
  if (orderId !== null) keys.push(`id:${orderId}`);
  if (incrementId) keys.push(`inc:${incrementId}`);
  return keys;
}

/** Resolves with the number of orders pulled again. */
export async function pullQueued(
  client: OrderSearcher,
  intakeId: string,
  opts: { pageSize: number; maxOrders?: number; signal?: AbortSignal },
  onPage: (page: PulledPage, retry: RetryMap) => void,
): Promise<number> {
  const due = queueRegistry.dueFor(intakeId);
  if (due.length === 0) return 0;
  const owners = new Map<string, QueueOwner[]>();
  for (const { owner, entries } of due)
    for (const e of entries) owners.set(e.key, [...(owners.get(e.key) ?? []), owner]);
  let keys = [...owners.keys()];
  if (opts.maxOrders && keys.length > opts.maxOrders) keys = keys.slice(0, opts.maxOrders);
  const taken = new Set(keys);
  for (const { owner } of due) await owner.queue.offer(keys.filter((k) => owner.queue.get(k)));

  const entityIds = keys.filter((k) => k.startsWith("id:")).map((k) => Number(k.slice(3)));
  const incrementIds = keys.filter((k) => k.startsWith("inc:")).map((k) => k.slice(4));
  let pulled = 0;
  const signal = opts.signal ? { signal: opts.signal } : {};
  for await (const page of fetchOrders(client, { entityIds, incrementIds }, opts.pageSize, signal)) {
    const retry: RetryMap = {};
    for (const order of page.orders) {
      for (const key of keysOf(order).filter((k) => taken.has(k))) {
        for (const owner of owners.get(key) ?? [])
          (retry[owner.nodeId] ??= []).push(queueKey(orderIdentity(order)) as string);
      }
    }
    for (const { raw, result } of page.invalid) {
      for (const key of keysOf(raw).filter((k) => taken.has(k))) {
        for (const owner of owners.get(key) ?? []) {
          if (result.error) await owner.queue.unreachable(key, result.error);
        }
      }
    }
    pulled += page.orders.length;
    onPage(page, retry);
  }
  return pulled;
}

/**
 * For an intake without automatic sync: runs `pull` (a queue-only run) when the next entry it
 * pulls again comes due, so queued orders are retried by themselves in flows driven only by
 * webhooks or by hand. Returns the function that stops it (the node's `close`).
 */
export function retryWhenDue(intakeId: string, pull: () => Promise<unknown>): () => void {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const plan = () => {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    timer = undefined;
    const at = queueRegistry.nextDueFor(intakeId);
    if (at === undefined) return;
    // At least a second apart; setTimeout cannot wait longer than ~24.8 days.
    const wait = Math.min(Math.max(1_000, at - Date.now()), 2 ** 31 - 1);
    timer = setTimeout(() => {
      timer = undefined;
      pull().finally(plan);
    }, wait);
    timer.unref?.();
  };
  const unsubscribe = queueRegistry.subscribe(plan);
  plan();
  return () => {
    stopped = true;
    unsubscribe();
    if (timer) clearTimeout(timer);
  };
}
