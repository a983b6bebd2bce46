/**
 * What each route answers. Reads return Magento's shapes; writes go through order-actions.
 * ACL resources are those of 2.4.8 (reference §3; Store routes: Magento_Backend::store).
 */
import { columnsFor } from "./columns";
import { badRequest, notFound } from "./errors";
import { addComment, cancel, hold, invoice, ship, unhold } from "./order-actions";
import type { PhpArray } from "./query";
import type { RouteDef } from "./routes";
import { echoSearchCriteria, integer, parseSearchCriteria, search } from "./search-criteria";
import type { OrderStore } from "./store";
import type { MagentoOrderRecord, StoreView } from "./types";

export interface RouteContext {
  params: Record<string, string>;
  query: PhpArray;
  body: unknown;
  store: OrderStore;
  storeViews: StoreView[];
  inputLimit: boolean;
  overflowMode: "empty" | "repeat-last";
  /** Issues an admin token (anonymous route). */
  issueAdminToken: (body: unknown) => string;
}

export type Handler = (ctx: RouteContext) => unknown;

/** OrderRepository::get: the id must be an int, not 0, and exist. */
function orderOf(ctx: RouteContext, param = "id"): MagentoOrderRecord {
  const id = integer(ctx.params[param]);
  if (!id) throw badRequest("An ID is needed. Set the ID and try again.");
  const order = ctx.store.get(id);
  if (!order) throw notFound();
  return order;
}

function searchList(
  ctx: RouteContext,
  rows: Array<Record<string, unknown>>,
  table: "orders" | "shipments" | "invoices",
) {
  const sc = parseSearchCriteria(ctx.query, { inputLimit: ctx.inputLimit });
  const { items, total_count } = search(rows, sc, columnsFor[table], ctx.overflowMode);
  return { items, search_criteria: echoSearchCriteria(sc), total_count };
}

const sales = (resource: string) => [`Magento_Sales::${resource}`];

export const routes: Array<RouteDef<Handler>> = [
  {
    method: "POST",
    path: "/V1/integration/admin/token",
    acl: [],
    handle: (ctx) => ctx.issueAdminToken(ctx.body),
  },
  {
    method: "GET",
    path: "/V1/orders",
    acl: sales("actions_view"),
    handle: (ctx) => searchList(ctx, [...ctx.store.orders.values()], "orders"),
  },
  { method: "GET", path: "/V1/orders/:id", acl: sales("actions_view"), handle: (ctx) => orderOf(ctx) },
  {
    method: "GET",
    path: "/V1/orders/:id/statuses",
    acl: sales("actions_view"),
    handle: (ctx) => orderOf(ctx).status,
  },
  {
    method: "POST",
    path: "/V1/orders/:id/cancel",
    acl: sales("cancel"),
    handle: (ctx) => cancel(ctx.store, orderOf(ctx)),
  },
  {
    method: "POST",
    path: "/V1/orders/:id/hold",
    acl: sales("hold"),
    handle: (ctx) => hold(ctx.store, orderOf(ctx)),
  },
  {
    method: "POST",
    path: "/V1/orders/:id/unhold",
    acl: sales("unhold"),
    handle: (ctx) => unhold(ctx.store, orderOf(ctx)),
  },
  {
    method: "POST",
    path: "/V1/orders/:id/emails",
    acl: sales("emails"),
    handle: (ctx) => Boolean(orderOf(ctx)),
  },
  {
    method: "POST",
    path: "/V1/orders/:id/comments",
    acl: sales("comment"),
    handle: (ctx) => addComment(ctx.store, orderOf(ctx), ctx.body),
  },
  {
    // getCommentsList searches the history table by parent_id: no order lookup (an unknown
    // id gives an empty list) and no sort, so the oldest comment comes first.
    method: "GET",
    path: "/V1/orders/:id/comments",
    acl: sales("actions_view"),
    handle: (ctx) => {
      const id = integer(ctx.params.id);
      const items = [...(ctx.store.get(id ?? 0)?.status_histories ?? [])].sort(
        (a, b) => a.entity_id - b.entity_id,
      );
      return {
        items,
        search_criteria: {
          filter_groups: [{ filters: [{ field: "parent_id", value: String(id), condition_type: "eq" }] }],
        },
        total_count: items.length,
      };
    },
  },
  {
    method: "POST",
    path: "/V1/order/:orderId/ship",
    acl: sales("ship"),
    handle: (ctx) => ship(ctx.store, orderOf(ctx, "orderId"), ctx.body),
  },
  {
    method: "POST",
    path: "/V1/order/:orderId/invoice",
    acl: sales("invoice"),
    handle: (ctx) => invoice(ctx.store, orderOf(ctx, "orderId"), ctx.body),
  },
  {
    method: "GET",
    path: "/V1/shipments",
    acl: sales("shipment"),
    handle: (ctx) => searchList(ctx, [...ctx.store.shipments.values()], "shipments"),
  },
  {
    method: "GET",
    path: "/V1/invoices",
    acl: sales("sales_invoice"),
    handle: (ctx) => searchList(ctx, [...ctx.store.invoices.values()], "invoices"),
  },
  {
    method: "GET",
    path: "/V1/store/storeViews",
    acl: ["Magento_Backend::store"],
    handle: (ctx) => ctx.storeViews,
  },
];
