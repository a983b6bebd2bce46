import { z } from "zod";
import type { MagentoClient } from "./client";
import { cursorFromDate, fetchOrders, pullSince, type PulledPage } from "./order-source";
import type { OrderCursor } from "./search";
import { validateOrder } from "./schema";

/**
 * What a message asks `magento-order-in` to do (DESIGN.md "magento-order-in"):
 * an incremental pull from the stored cursor, a pull since a date, a reset,
 * a manual sync of chosen orders (the seeds' "Sync with Salesforce" action), or
 * a webhook-driven sync of one order.
 */
export type PullTrigger =
  | { kind: "incremental" }
  | { kind: "since"; since: OrderCursor }
  | { kind: "reset" }
  | { kind: "ids"; entityIds: number[]; incrementIds: string[] }
  | { kind: "webhook"; order?: unknown; entityId: number }
  /** Only what the sync queues hold and is due (the sidebar's "sync again" on queued orders). */
  | { kind: "queue" };

const positiveId = z.coerce.number().int().positive();
const idList = z.array(positiveId).min(1);
const incrementIdList = z.array(z.coerce.string().min(1)).min(1);
const triggerPayload = z.looseObject({
  reset: z.boolean().optional(),
  since: z.union([z.string().min(1), z.date()]).optional(),
  orderIds: z.union([idList, positiveId.transform((id) => [id])]).optional(),
  incrementIds: z
    .union([
      incrementIdList,
      z.coerce
        .string()
        .min(1)
        .transform((id) => [id]),
    ])
    .optional(),
  order: z.looseObject({ entity_id: positiveId }).optional(),
  entity_id: positiveId.optional(),
  retryQueue: z.boolean().optional(),
});

export class TriggerError extends Error {
  override name = "TriggerError";
}

/** Reads the trigger from `msg.payload`; anything that is not an object means "pull what is new". */
export function triggerOf(payload: unknown): PullTrigger {
  if (payload === null || typeof payload !== "object" || Array.isArray(payload))
    return { kind: "incremental" };
  const parsed = triggerPayload.safeParse(payload);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new TriggerError(`msg.payload.${issue.path.join(".")}: ${issue.message}`);
  }
  const p = parsed.data;
  if (p.orderIds || p.incrementIds) {
    return { kind: "ids", entityIds: p.orderIds ?? [], incrementIds: p.incrementIds ?? [] };
  }
  if (p.order) return { kind: "webhook", order: p.order, entityId: p.order.entity_id };
  if (p.entity_id !== undefined) return { kind: "webhook", entityId: p.entity_id };
  if (p.since !== undefined) {
    try {
      return { kind: "since", since: cursorFromDate(p.since) };
    } catch (err) {
      throw new TriggerError(`msg.payload.since: ${(err as Error).message}`);
    }
  }
  if (p.reset) return { kind: "reset" };
  if (p.retryQueue) return { kind: "queue" };
  return { kind: "incremental" };
}

/** Where the incremental cursor lives (node context in Node-RED; persistent if the user configures it). */
export interface CursorStore {
  load(): Promise<OrderCursor | null>;
  save(cursor: OrderCursor | null): Promise<void>;
}

export function isAfter(a: OrderCursor, b: OrderCursor | null): boolean {
  if (!b) return true;
  return a.updatedAt > b.updatedAt || (a.updatedAt === b.updatedAt && a.entityId > b.entityId);
}

export interface PullSummary {
  trigger: PullTrigger["kind"];
  pages: number;
  orders: number;
  invalid: number;
  cursor: OrderCursor | null;
}

export interface PullOptions {
  pageSize: number;
  /**
   * Incremental, since and reset pulls stop after this many pages, the cursor saved after the
   * last one, so the next trigger goes on from there; absent or 0 = until caught up. With the
   * next trigger sent when the target has finished a page, a flow holds one page in memory
   * however large the backlog.
   */
  maxPages?: number;
  signal?: AbortSignal;
  /** Called for each page; the cursor is saved only after it resolves, so it never passes an order that was not emitted. */
  onPage(page: PulledPage): Promise<void> | void;
}

export async function runPull(
  client: MagentoClient,
  trigger: PullTrigger,
  cursors: CursorStore,
  opts: PullOptions,
): Promise<PullSummary> {
  const summary: PullSummary = { trigger: trigger.kind, pages: 0, orders: 0, invalid: 0, cursor: null };
  const count = async (page: PulledPage) => {
    await opts.onPage(page);
    summary.pages += 1;
    summary.orders += page.orders.length;
    summary.invalid += page.invalid.length;
  };

  if (trigger.kind === "webhook" && trigger.order !== undefined) {
    const checked = validateOrder(trigger.order);
    if (checked.ok) {
      await count({ orders: [checked.order], invalid: [], cursor: null, page: 1, fetched: 1 });
      summary.cursor = await cursors.load();
      return summary;
    }
    // A partial webhook body: fetch the order itself rather than guessing the rest.
  }
  if (trigger.kind === "queue") {
    summary.cursor = await cursors.load();
    return summary;
  }
  if (trigger.kind === "webhook" || trigger.kind === "ids") {
    const selection =
      trigger.kind === "webhook"
        ? { entityIds: [trigger.entityId] }
        : { entityIds: trigger.entityIds, incrementIds: trigger.incrementIds };
    for await (const page of fetchOrders(client, selection, opts.pageSize)) await count(page);
    summary.cursor = await cursors.load();
    return summary;
  }

  if (trigger.kind === "reset") await cursors.save(null);
  const stored = trigger.kind === "reset" ? null : await cursors.load();
  const since = trigger.kind === "since" ? trigger.since : stored;
  let saved = stored;
  for await (const page of pullSince(client, { since, pageSize: opts.pageSize, signal: opts.signal })) {
    await count(page);
    if (page.cursor && isAfter(page.cursor, saved)) {
      await cursors.save(page.cursor);
      saved = page.cursor;
    }
    if (opts.maxPages && summary.pages >= opts.maxPages) break;
  }
  summary.cursor = saved;
  return summary;
}
