/**
 * Quantities, money and state of one order, shared by the seed generator and the write
 * routes so both follow the same rules. Lines are top-level items; children of a bundle or
 * configurable follow their parent (reference §7.2: use the parent or the children, never both),
 * which is also how ship/invoice are addressed ("Bundle: send only the parent order_item_id", §4).
 */
import type { MagentoOrderItem, MagentoOrderRecord, MagentoShippingAssignment } from "./types";

/** Default status of each state (Sales data patch, reference §7.5). */
export const defaultStatus: Record<string, string> = {
  new: "pending",
  pending_payment: "pending_payment",
  processing: "processing",
  complete: "complete",
  closed: "closed",
  canceled: "canceled",
  holded: "holded",
  payment_review: "payment_review",
};

/**
 * Magento computes money with 2 decimals whatever the currency (PriceCurrency::round) and stores
 * it in DECIMAL(20,4) columns, where the tax calculator's unrounded amounts keep 4 decimals
 * (docs/magento-tax-calculation.md §2): shares of a row are computed, sums and rests are stored.
 */
const computed = 2;
const stored = 4;

export function round(value: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round((value + Number.EPSILON) * f) / f;
}

export const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);

export function isChild(item: MagentoOrderItem): boolean {
  return item.parent_item_id !== undefined && item.parent_item_id !== null;
}

export function lines(order: MagentoOrderRecord): MagentoOrderItem[] {
  return order.items.filter((i) => !isChild(i));
}

export function childrenOf(order: MagentoOrderRecord, parent: MagentoOrderItem): MagentoOrderItem[] {
  return order.items.filter((i) => i.parent_item_id === parent.item_id);
}

/** Item::getSimpleQtyToShip — what is neither shipped, refunded nor canceled. */
function openQty(item: MagentoOrderItem): number {
  return Math.max(
    num(item.qty_ordered) - num(item.qty_shipped) - num(item.qty_refunded) - num(item.qty_canceled),
    0,
  );
}

export function qtyToShip(item: MagentoOrderItem): number {
  if (isChild(item) || num(item.is_virtual) === 1) return 0;
  return openQty(item);
}

export function qtyToInvoice(item: MagentoOrderItem): number {
  if (isChild(item)) return 0;
  return Math.max(num(item.qty_ordered) - num(item.qty_invoiced) - num(item.qty_canceled), 0);
}

export const canShipAny = (order: MagentoOrderRecord) => lines(order).some((i) => qtyToShip(i) > 0);
export const canInvoiceAny = (order: MagentoOrderRecord) => lines(order).some((i) => qtyToInvoice(i) > 0);

/** Adds `qty` of a line (and the matching share of its children) to a quantity field. */
function addQty(order: MagentoOrderRecord, line: MagentoOrderItem, field: string, qty: number): void {
  line[field] = num(line[field]) + qty;
  const ratio = qty / num(line.qty_ordered);
  for (const child of childrenOf(order, line))
    child[field] = num(child[field]) + num(child.qty_ordered) * ratio;
}

export function shipLines(
  order: MagentoOrderRecord,
  requested: Array<{ item: MagentoOrderItem; qty: number }>,
): void {
  for (const { item, qty } of requested) addQty(order, item, "qty_shipped", qty);
}

export interface InvoiceAmounts {
  subtotal: number;
  tax: number;
  discount: number;
  shipping: number;
  grand: number;
  base: { subtotal: number; tax: number; discount: number; shipping: number; grand: number };
  lines: Array<{ item: MagentoOrderItem; qty: number; row: number; tax: number; discount: number }>;
}

/**
 * Invoices `qty` of each requested line: item *_invoiced fields, order *_invoiced / total_paid.
 * Offline payment methods are paid on register (Invoice::register → pay()), so total_paid follows.
 * The last invoice takes what is left, so invoices always sum to grand_total.
 */
export function invoiceLines(
  order: MagentoOrderRecord,
  requested: Array<{ item: MagentoOrderItem; qty: number }>,
): InvoiceAmounts {
  const d = stored;
  const out: InvoiceAmounts = {
    subtotal: 0,
    tax: 0,
    discount: 0,
    shipping: 0,
    grand: 0,
    base: { subtotal: 0, tax: 0, discount: 0, shipping: 0, grand: 0 },
    lines: [],
  };
  for (const { item, qty } of requested) {
    const completes = num(item.qty_invoiced) + qty >= num(item.qty_ordered) - num(item.qty_canceled);
    const share = (field: string, done: string) =>
      completes
        ? round(num(item[field]) - num(item[done]), stored)
        : round((num(item[field]) * qty) / num(item.qty_ordered), computed);
    const row = share("row_total", "row_invoiced");
    const tax = share("tax_amount", "tax_invoiced");
    const discount = share("discount_amount", "discount_invoiced");
    const baseRow = share("base_row_total", "base_row_invoiced");
    const baseTax = share("base_tax_amount", "base_tax_invoiced");
    const baseDiscount = share("base_discount_amount", "base_discount_invoiced");
    for (const target of [item, ...childrenOf(order, item)]) {
      const ratio = target === item ? 1 : num(target.row_total) / Math.max(num(item.row_total), 1e-9);
      target.row_invoiced = round(num(target.row_invoiced) + row * ratio, d);
      target.tax_invoiced = round(num(target.tax_invoiced) + tax * ratio, d);
      target.discount_invoiced = round(num(target.discount_invoiced) + discount * ratio, d);
      target.base_row_invoiced = round(num(target.base_row_invoiced) + baseRow * ratio, d);
      target.base_tax_invoiced = round(num(target.base_tax_invoiced) + baseTax * ratio, d);
      target.base_discount_invoiced = round(num(target.base_discount_invoiced) + baseDiscount * ratio, d);
    }
    addQty(order, item, "qty_invoiced", qty);
    out.lines.push({ item, qty, row, tax, discount });
    out.subtotal += row;
    out.tax += tax;
    out.discount -= discount;
    out.base.subtotal += baseRow;
    out.base.tax += baseTax;
    out.base.discount -= baseDiscount;
  }
  if (order.shipping_invoiced === undefined && num(order.shipping_amount) > 0) {
    out.shipping = num(order.shipping_amount);
    out.base.shipping = num(order.base_shipping_amount);
  }
  out.grand = round(out.subtotal + out.tax + out.discount + out.shipping, d);
  out.base.grand = round(out.base.subtotal + out.base.tax + out.base.discount + out.base.shipping, d);
  if (!canInvoiceAny(order)) {
    out.grand = round(num(order.grand_total) - num(order.total_invoiced), d);
    out.base.grand = round(num(order.base_grand_total) - num(order.base_total_invoiced), d);
  }
  const add = (field: string, value: number, decimals: number) => {
    order[field] = round(num(order[field]) + value, decimals);
  };
  add("subtotal_invoiced", out.subtotal, d);
  add("base_subtotal_invoiced", out.base.subtotal, d);
  add("tax_invoiced", out.tax, d);
  add("base_tax_invoiced", out.base.tax, d);
  add("discount_invoiced", out.discount, d);
  add("base_discount_invoiced", out.base.discount, d);
  add("shipping_invoiced", out.shipping, d);
  add("base_shipping_invoiced", out.base.shipping, d);
  add("total_invoiced", out.grand, d);
  add("base_total_invoiced", out.base.grand, d);
  add("total_paid", out.grand, d);
  add("base_total_paid", out.base.grand, d);
  order.total_due = round(num(order.grand_total) - num(order.total_paid), d);
  order.base_total_due = round(num(order.base_grand_total) - num(order.base_total_paid), d);
  const payment = order.payment as Record<string, unknown> | undefined;
  if (payment) {
    payment.amount_paid = order.total_paid;
    payment.base_amount_paid = order.base_total_paid;
  }
  return out;
}

/** After a shipment or invoice: Complete once nothing is left to ship or invoice, else Processing. */
export function fulfilmentState(order: MagentoOrderRecord): "complete" | "processing" {
  return canShipAny(order) || canInvoiceAny(order) ? "processing" : "complete";
}

/** Order::canCancel (reference §3: `false` when the order cannot be canceled). */
export function canCancel(order: MagentoOrderRecord): boolean {
  if (["holded", "payment_review", "canceled", "complete", "closed"].includes(order.state)) return false;
  return canInvoiceAny(order);
}

/**
 * Order::registerCancellation: cancels what is neither invoiced nor shipped. An order with
 * invoiced, unrefunded quantities stays processing (or complete when nothing is left to ship).
 */
export function cancelOrder(order: MagentoOrderRecord): void {
  const d = stored;
  let subtotal = 0;
  let baseSubtotal = 0;
  for (const line of lines(order)) {
    const toShip = Math.max(
      num(line.qty_ordered) - num(line.qty_shipped) - num(line.qty_refunded) - num(line.qty_canceled),
      0,
    );
    const qty = num(line.is_virtual) === 1 ? qtyToInvoice(line) : Math.min(qtyToInvoice(line), toShip);
    if (qty <= 0) continue;
    subtotal += (num(line.row_total) * qty) / num(line.qty_ordered);
    baseSubtotal += (num(line.base_row_total) * qty) / num(line.qty_ordered);
    addQty(order, line, "qty_canceled", qty);
  }
  order.subtotal_canceled = round(num(order.subtotal_canceled) + subtotal, d);
  order.base_subtotal_canceled = round(num(order.base_subtotal_canceled) + baseSubtotal, d);
  order.total_canceled = round(num(order.grand_total) - num(order.total_invoiced), d);
  order.base_total_canceled = round(num(order.base_grand_total) - num(order.base_total_invoiced), d);
  const refundable = lines(order).some((i) => num(i.qty_invoiced) - num(i.qty_refunded) > 0);
  const state = !refundable ? "canceled" : canShipAny(order) ? "processing" : "complete";
  order.state = state;
  order.status = defaultStatus[state];
  const payment = order.payment as Record<string, unknown> | undefined;
  if (payment) payment.amount_canceled = order.total_canceled;
}

/** Refunds everything (seed data for closed orders). */
export function refundAll(order: MagentoOrderRecord): void {
  const d = stored;
  for (const item of order.items) {
    item.qty_refunded = num(item.qty_invoiced);
    item.amount_refunded = round(num(item.row_invoiced) - num(item.discount_invoiced), d);
    item.base_amount_refunded = round(num(item.base_row_invoiced) - num(item.base_discount_invoiced), d);
  }
  const copy = (from: string, to: string) => {
    if (order[from] !== undefined) order[to] = order[from];
  };
  copy("total_invoiced", "total_refunded");
  copy("base_total_invoiced", "base_total_refunded");
  copy("total_invoiced", "total_offline_refunded");
  copy("base_total_invoiced", "base_total_offline_refunded");
  copy("subtotal_invoiced", "subtotal_refunded");
  copy("base_subtotal_invoiced", "base_subtotal_refunded");
  copy("tax_invoiced", "tax_refunded");
  copy("base_tax_invoiced", "base_tax_refunded");
  copy("shipping_invoiced", "shipping_refunded");
  copy("base_shipping_invoiced", "base_shipping_refunded");
  const payment = order.payment as Record<string, unknown> | undefined;
  if (payment) {
    payment.amount_refunded = order.total_refunded;
    payment.base_amount_refunded = order.base_total_refunded;
  }
}

function withoutParent(item: MagentoOrderItem): MagentoOrderItem {
  const copy = structuredClone(item);
  delete copy.parent_item;
  return copy;
}

/**
 * Re-derives the copies Magento embeds: each child's `parent_item{…}` and the item list of
 * `extension_attributes.shipping_assignments` (reference §7.2, §7.4). Call after every change.
 */
export function refreshDerived(order: MagentoOrderRecord): void {
  const byId = new Map(order.items.map((i) => [i.item_id, i]));
  for (const item of order.items) {
    if (!isChild(item)) continue;
    const parent = byId.get(item.parent_item_id as number);
    if (parent) item.parent_item = withoutParent(parent);
  }
  const ext = order.extension_attributes as
    { shipping_assignments?: MagentoShippingAssignment[] } | undefined;
  for (const assignment of ext?.shipping_assignments ?? []) assignment.items = structuredClone(order.items);
}
