import { failed, type SyncResult } from "../sync/result";
import type { MagentoClient } from "./client";
import { MagentoError } from "./errors";
import { orderIdentity, validateOrder, type MagentoOrder } from "./schema";
import { clampPageSize, compareCursors, keysetCriteria, type FilterGroup, type OrderCursor } from "./search";

/** One page of intake, as the `magento-order-in` node emits it. */
export interface PulledPage {
  /** Valid orders, in Magento's order (updated_at, entity_id ascending for pulls). */
  orders: MagentoOrder[];
  /** Orders that failed validation (or ids not found), each with its failed result. */
  invalid: Array<{ raw: unknown; result: SyncResult }>;
  /** Position after this page (store it to resume); always null for `fetchOrders`. */
  cursor: OrderCursor | null;
  /** 1-based page number within this run. */
  page: number;
  /** Rows received from Magento so far in this run (for progress). */
  fetched: number;
}

/** The part of the client the intake needs (lets tests and other sources stand in). */
export type OrderSearcher = Pick<MagentoClient, "searchOrders">;

const magentoDate = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})/;

/** Where a raw row sits in the keyset order, if its updated_at and entity_id are readable. */
function positionOf(raw: unknown): OrderCursor | null {
  const { orderId } = orderIdentity(raw);
  const updated = raw && typeof raw === "object" ? (raw as Record<string, unknown>).updated_at : undefined;
  const m = typeof updated === "string" ? magentoDate.exec(updated) : null;
  if (orderId === null || !m) return null;
  return { updatedAt: `${m[1]} ${m[2]}`, entityId: orderId };
}

function intake(raw: unknown, orders: MagentoOrder[], invalid: PulledPage["invalid"]): void {
  const checked = validateOrder(raw);
  if (checked.ok) orders.push(checked.order);
  else invalid.push({ raw, result: failed(orderIdentity(raw), "magento", checked.error) });
}

/**
 * Incremental pull with keyset paging (reference §6): always `currentPage=1`, the
 * watermark moves to the greatest (updated_at, entity_id) of each page, and the run
 * stops at the first page shorter than `pageSize`. One page → one yield.
 *
 * - The cursor advances past every row that was emitted, valid or not: an order that
 *   fails validation is reported once on `invalid`, not fetched again on every run
 *   (it comes back by itself when it is edited in Magento, since updated_at moves).
 * - Duplicates are dropped by entity_id: a row already emitted in this run with the same
 *   updated_at is a Magento paging duplicate and is skipped. A row whose updated_at moved
 *   (the order was edited while the run was going) is a real change and is emitted again;
 *   dropping it would lose the change, because the cursor moves past it.
 * - Aborting through `signal` ends the generator quietly between pages.
 */
export async function* pullSince(
  client: OrderSearcher,
  opts: { since: OrderCursor | null; pageSize: number; extraGroups?: FilterGroup[]; signal?: AbortSignal },
): AsyncGenerator<PulledPage> {
  const pageSize = clampPageSize(opts.pageSize);
  const emitted = new Map<number, string>();
  let cursor = opts.since;
  let page = 0;
  let fetched = 0;
  for (;;) {
    if (opts.signal?.aborted) return;
    let rows: unknown[];
    try {
      const signal = opts.signal ? { signal: opts.signal } : {};
      rows = (await client.searchOrders(keysetCriteria(cursor, pageSize, opts.extraGroups), signal)).items;
    } catch (err) {
      if (opts.signal?.aborted && err instanceof MagentoError && err.code === "aborted") return;
      throw err;
    }
    if (rows.length === 0) return;
    page += 1;
    fetched += rows.length;
    const orders: MagentoOrder[] = [];
    const invalid: PulledPage["invalid"] = [];
    let next = cursor;
    for (const raw of rows) {
      const at = positionOf(raw);
      if (at && (!next || compareCursors(at, next) > 0)) next = at;
      if (at) {
        if (emitted.get(at.entityId) === at.updatedAt) continue;
        emitted.set(at.entityId, at.updatedAt);
      }
      intake(raw, orders, invalid);
    }
    if (!next || (cursor && compareCursors(next, cursor) <= 0)) {
      // Without progress the same page would come back forever.
      throw new MagentoError({
        code: "invalid_response",
        call: "GET /V1/orders",
        summary:
          "the keyset page did not move past the last position (rows without readable updated_at/entity_id, or filters ignored)",
      });
    }
    cursor = next;
    yield { orders, invalid, cursor, page, fetched };
    if (rows.length < pageSize) return;
  }
}

function chunks<T>(list: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

/**
 * Manual sync of chosen orders: `in` filters on entity_id and on increment_id, in chunks
 * of `pageSize`, one yield per chunk. Ids Magento does not return come back as failed
 * results with code `not_found`; malformed ids as `invalid_id`. An order asked for by
 * both ids is emitted once. The cursor is never moved by a manual sync (null).
 */
export async function* fetchOrders(
  client: OrderSearcher,
  sel: { entityIds?: number[]; incrementIds?: string[] },
  pageSize: number,
  opts: { signal?: AbortSignal } = {},
): AsyncGenerator<PulledPage> {
  const size = clampPageSize(pageSize);
  const seen = new Set<number>();
  let page = 0;
  let fetched = 0;
  const lookups: Array<{ field: "entity_id" | "increment_id"; ids: Array<number | string> }> = [
    { field: "entity_id", ids: [...new Set(sel.entityIds ?? [])] },
    { field: "increment_id", ids: [...new Set(sel.incrementIds ?? [])] },
  ];
  for (const { field, ids } of lookups) {
    const usable = ids.filter((id) => isUsableId(field, id));
    const unusable = ids.filter((id) => !isUsableId(field, id));
    if (unusable.length > 0) {
      page += 1;
      yield {
        orders: [],
        invalid: unusable.map((id) => notFound(field, id, "invalid_id")),
        cursor: null,
        page,
        fetched,
      };
    }
    for (const chunk of chunks(usable, size)) {
      if (opts.signal?.aborted) return;
      const orders: MagentoOrder[] = [];
      const invalid: PulledPage["invalid"] = [];
      const found = new Set<string>();
      // The id set is fixed and sorted by entity_id, so offset paging is stable here.
      for (let currentPage = 1; ; currentPage++) {
        const result = await client.searchOrders(
          {
            filterGroups: [{ filters: [{ field, value: chunk, conditionType: "in" }] }],
            sortOrders: [{ field: "entity_id", direction: "ASC" }],
            pageSize: size,
            currentPage,
          },
          opts.signal ? { signal: opts.signal } : {},
        );
        fetched += result.items.length;
        for (const raw of result.items) {
          const identity = orderIdentity(raw);
          const key = field === "entity_id" ? identity.orderId : identity.incrementId;
          if (key !== null) found.add(String(key));
          if (identity.orderId !== null) {
            if (seen.has(identity.orderId)) continue;
            seen.add(identity.orderId);
          }
          intake(raw, orders, invalid);
        }
        // Stop rule valid on every 2.x version (reference §5.1): never "until empty page".
        if (result.items.length === 0 || currentPage * size >= result.total_count) break;
      }
      for (const id of chunk) if (!found.has(String(id))) invalid.push(notFound(field, id, "not_found"));
      page += 1;
      yield { orders, invalid, cursor: null, page, fetched };
    }
  }
}

function isUsableId(field: "entity_id" | "increment_id", id: number | string): boolean {
  if (field === "entity_id") return typeof id === "number" && Number.isInteger(id) && id > 0;
  // A comma would split the `in` list.
  return typeof id === "string" && id.trim() !== "" && !id.includes(",");
}

function notFound(
  field: "entity_id" | "increment_id",
  id: number | string,
  code: "not_found" | "invalid_id",
): { raw: unknown; result: SyncResult } {
  const byEntity = field === "entity_id";
  const label = byEntity ? `with entity_id ${JSON.stringify(id)}` : `#${String(id)}`;
  const message =
    code === "not_found"
      ? `Magento order ${label} was not found (GET /V1/orders, ${field} filter).`
      : `Magento order ${label} cannot be looked up: not a valid ${byEntity ? "entity id (a positive whole number)" : "increment id"}.`;
  return {
    raw: { [field]: id },
    result: failed(
      {
        orderId: byEntity && typeof id === "number" && Number.isInteger(id) ? id : null,
        incrementId: byEntity ? null : String(id),
      },
      "magento",
      { code, message, field },
    ),
  };
}

/**
 * Cursor for "orders updated since": ISO 8601 (zone honoured; none means UTC), Magento's
 * `YYYY-MM-DD HH:MM:SS` (UTC) or a bare date, or a Date. entityId 0 includes every
 * order updated exactly at that second.
 */
export function cursorFromDate(since: string | Date): OrderCursor {
  let at: Date;
  if (since instanceof Date) {
    at = since;
  } else {
    const text = String(since).trim();
    let iso = text;
    if (/^\d{4}-\d{2}-\d{2}$/.test(text)) iso = `${text}T00:00:00Z`;
    else if (/^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text))
      iso = `${text.replace(" ", "T")}Z`;
    at = new Date(iso);
  }
  if (Number.isNaN(at.getTime())) {
    throw new RangeError(
      `"${String(since)}" is not a date: use ISO 8601 (2024-05-01T10:00:00Z) or Magento's format (2024-05-01 10:00:00, UTC).`,
    );
  }
  return { updatedAt: at.toISOString().slice(0, 19).replace("T", " "), entityId: 0 };
}
