/**
 * The write routes of reference §3/§4: cancel, hold, unhold, comments, ship, invoice.
 * Refusals use Magento's messages (OrderManagement, Order\Validation\CanShip / CanInvoice,
 * Shipment\Validation\QuantityValidator, InvoiceQuantityValidator); document validation
 * errors are one 400 listing every message, like ShipOrder / InvoiceOrder.
 */
import { badRequest, bodies, documentValidation, invalidType, MagentoHttpError, required } from "./errors";
import {
  canCancel,
  cancelOrder,
  canInvoiceAny,
  canShipAny,
  defaultStatus,
  fulfilmentState,
  invoiceLines,
  lines,
  qtyToInvoice,
  qtyToShip,
  shipLines,
} from "./order-math";
import { integer, readDataObject } from "./search-criteria";
import { invoiceRecord, shipmentRecord, type OrderStore } from "./store";
import type { MagentoOrderItem, MagentoOrderRecord, MagentoStatusHistory } from "./types";

export function cancel(store: OrderStore, order: MagentoOrderRecord): boolean {
  if (!canCancel(order)) return false;
  cancelOrder(order);
  store.save(order, true);
  return true;
}

export function hold(store: OrderStore, order: MagentoOrderRecord): boolean {
  if (["payment_review", "canceled", "complete", "closed", "holded"].includes(order.state)) {
    throw new MagentoHttpError(400, bodies.holdNotAllowed);
  }
  order.hold_before_state = order.state;
  order.hold_before_status = order.status;
  order.state = "holded";
  order.status = defaultStatus.holded;
  store.save(order);
  return true;
}

export function unhold(store: OrderStore, order: MagentoOrderRecord): boolean {
  if (order.state !== "holded") throw new MagentoHttpError(400, bodies.unholdNotAllowed);
  order.state = typeof order.hold_before_state === "string" ? order.hold_before_state : "new";
  order.status =
    typeof order.hold_before_status === "string" ? order.hold_before_status : defaultStatus[order.state];
  delete order.hold_before_state;
  delete order.hold_before_status;
  store.save(order);
  return true;
}

const historyFields = [
  "comment",
  "created_at",
  "entity_id",
  "entity_name",
  "is_customer_notified",
  "is_visible_on_front",
  "parent_id",
  "status",
  "extension_attributes",
];

/** OrderManagement::addComment → Order::addStatusHistory: a sent status becomes the order's status. */
export function addComment(store: OrderStore, order: MagentoOrderRecord, body: unknown): boolean {
  const params = objectBody(body);
  if (params.statusHistory === undefined || params.statusHistory === null) {
    throw new MagentoHttpError(400, required("statusHistory"));
  }
  const input = readDataObject(params.statusHistory, historyFields, "OrderStatusHistoryInterface");
  const at = store.now();
  const status = typeof input.status === "string" && input.status !== "" ? input.status : order.status;
  const notified = integer(input.is_customer_notified);
  const history: MagentoStatusHistory = {
    ...(input.comment === undefined || input.comment === null ? {} : { comment: String(input.comment) }),
    created_at: at,
    entity_id: store.nextHistoryId(),
    entity_name: "order",
    ...(notified === undefined ? {} : { is_customer_notified: notified }),
    is_visible_on_front: integer(input.is_visible_on_front) ?? 0,
    parent_id: order.entity_id,
    status,
  };
  order.status = status;
  order.status_histories = [history, ...(order.status_histories ?? [])];
  store.save(order);
  return true;
}

interface Requested {
  item: MagentoOrderItem;
  qty: number;
}

function quantity(raw: unknown): number {
  if (typeof raw === "number" && Number.isFinite(raw)) return raw;
  if (typeof raw === "string" && raw.trim() !== "" && Number.isFinite(Number(raw))) return Number(raw);
  throw invalidType(raw, "float");
}

/**
 * Resolves `items` of a ship/invoice body to order lines. Ids that are not lines of this order
 * (unknown ids, and children — address the parent, reference §4) are dropped, as Magento's
 * document factories only take order items; quantities above what is left are refused.
 */
function requestedLines(
  order: MagentoOrderRecord,
  rawItems: unknown,
  left: (item: MagentoOrderItem) => number,
  tooMuch: (sku: string) => string,
  messages: string[],
): Requested[] {
  const asked = Array.isArray(rawItems)
    ? rawItems
    : rawItems === undefined || rawItems === null
      ? []
      : [rawItems];
  if (asked.length === 0) {
    return lines(order)
      .filter((item) => left(item) > 0)
      .map((item) => ({ item, qty: left(item) }));
  }
  const out: Requested[] = [];
  for (const raw of asked) {
    const input = readDataObject(
      raw,
      ["order_item_id", "qty", "extension_attributes"],
      "ItemCreationInterface",
    );
    const id = integer(input.order_item_id);
    const qty = quantity(input.qty ?? 0);
    const item = lines(order).find((i) => i.item_id === id);
    if (!item || qty <= 0) continue;
    if (qty > left(item)) messages.push(tooMuch(item.sku));
    else out.push({ item, qty });
  }
  return out;
}

function objectBody(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null || body === "") return {};
  if (typeof body !== "object" || Array.isArray(body)) throw badRequest("Decoding error.");
  return body as Record<string, unknown>;
}

function commentOf(raw: unknown): Record<string, unknown> | undefined {
  if (raw === undefined || raw === null) return undefined;
  const c = readDataObject(
    raw,
    ["comment", "is_visible_on_front", "extension_attributes"],
    "CommentCreationInterface",
  );
  return { comment: c.comment, is_visible_on_front: integer(c.is_visible_on_front) ?? 0 };
}

/** POST /V1/order/:orderId/ship → the new shipment's id. */
export function ship(store: OrderStore, order: MagentoOrderRecord, body: unknown): number {
  const params = objectBody(body);
  const messages: string[] = [];
  if (["payment_review", "holded", "canceled"].includes(order.state) || order.is_virtual === 1) {
    messages.push(`A shipment cannot be created when an order has a status of ${order.status}`);
  } else if (!canShipAny(order)) {
    messages.push("The order does not allow a shipment to be created.");
  }
  const requested = requestedLines(
    order,
    params.items,
    qtyToShip,
    (sku) => `The quantity to ship must not be greater than the unshipped quantity for product SKU "${sku}".`,
    messages,
  );
  if (requested.reduce((s, r) => s + r.qty, 0) <= 0)
    messages.push("You can't create a shipment without products.");
  const tracks = (Array.isArray(params.tracks) ? params.tracks : []).map((raw) =>
    readDataObject(
      raw,
      ["track_number", "title", "carrier_code", "extension_attributes"],
      "ShipmentTrackCreationInterface",
    ),
  );
  // Shipment\Validation\TrackValidator (unverified wording).
  if (tracks.some((t) => !t.track_number)) messages.push("Please enter a tracking number.");
  if (messages.length > 0) throw documentValidation("Shipment", messages);

  shipLines(order, requested);
  order.state = fulfilmentState(order);
  order.status = defaultStatus[order.state];
  store.save(order, true);
  const args = readDataObject(
    params.arguments,
    ["extension_attributes"],
    "ShipmentCreationArgumentsInterface",
  );
  const sourceCode = (args.extension_attributes as { source_code?: unknown } | undefined)?.source_code;
  const shipment = store.addShipment(
    shipmentRecord(
      order,
      requested,
      tracks.map((t) => ({ track_number: t.track_number, title: t.title, carrier_code: t.carrier_code })),
      order.updated_at,
      {
        comment: commentOf(params.comment),
        sourceCode: typeof sourceCode === "string" ? sourceCode : undefined,
      },
    ),
  );
  return shipment.entity_id;
}

/** POST /V1/order/:orderId/invoice → the new invoice's id. */
export function invoice(store: OrderStore, order: MagentoOrderRecord, body: unknown): number {
  const params = objectBody(body);
  const messages: string[] = [];
  if (["payment_review", "holded", "canceled", "complete", "closed"].includes(order.state)) {
    messages.push(`An invoice cannot be created when an order has a status of ${order.status}`);
  } else if (!canInvoiceAny(order)) {
    messages.push("The order does not allow an invoice to be created.");
  }
  const requested = requestedLines(
    order,
    params.items,
    qtyToInvoice,
    (sku) =>
      `The quantity to invoice must not be greater than the uninvoiced quantity for product SKU "${sku}".`,
    messages,
  );
  if (requested.reduce((s, r) => s + r.qty, 0) <= 0) {
    messages.push("The invoice can't be created without products. Add products and try again.");
  }
  if (messages.length > 0) throw documentValidation("Invoice", messages);

  const amounts = invoiceLines(order, requested);
  order.state = fulfilmentState(order);
  order.status = defaultStatus[order.state];
  store.save(order, true);
  const record = store.addInvoice(
    invoiceRecord(
      order,
      amounts.lines,
      { ...amounts, baseGrand: amounts.base.grand },
      order.updated_at,
      commentOf(params.comment),
    ),
  );
  return record.entity_id;
}
