/**
 * What Tryton says → what to write to Magento, for one sale and its Magento order (no I/O).
 *
 * Never twice: every decision compares Tryton with what Magento already has — the order's
 * state and cancelled quantities, each item's `qty_shipped` and `qty_invoiced`, its history
 * comments — so planning again after the writes went through plans nothing.
 *
 * Item links. The importer keeps no id of the Magento item on a sale line (a line `note`
 * would be printed on the customer's invoice), so the link is derived here from the order
 * itself, re-read from Magento: the importer creates one line per sellable Magento row, in
 * Magento's order (`sequence` 1, 2, …), with the row's SKU as product code — configurables
 * once with the child's SKU (shipped as the parent `order_item_id`), bundles as the parent
 * line or as their children (importer option). Sale lines are matched in sequence order to
 * the first unused row with the same SKU (and the same quantity when there is a choice).
 * Lines no row matches (shipping, discount, lines added in Tryton) are not exported.
 * Bundle children count towards their parent, which is what Magento ships and invoices
 * (reference §4): the parent's quantity is the smallest share its children reached.
 */
import { lineItems, type MagentoOrder, type MagentoOrderItem } from "../magento/schema";
import type { ItemQty, Track } from "../magento/status-writer";
import type { SaleLineInfo, SaleStatus, ShipmentInfo } from "../tryton/status-reader";

export interface PlanOptions {
  cancel: boolean;
  ship: boolean;
  /** `off`: never; `offline`: capture offline (registered as paid); `online`: capture through the gateway. */
  invoice: "off" | "offline" | "online";
  /** One comment on the Magento order naming the Tryton sale. */
  comment: boolean;
  /** Magento e-mails the customer about shipments and invoices. */
  notify: boolean;
  /** Magento `carrier_code` of tracking numbers (`custom` is Magento's free-text carrier). */
  carrierCode: string;
  /** Track title when the Tryton shipment names no carrier. */
  carrierTitle: string;
}

export const defaultPlanOptions: Readonly<PlanOptions> = Object.freeze({
  cancel: true,
  ship: true,
  invoice: "off",
  comment: false,
  notify: false,
  carrierCode: "custom",
  carrierTitle: "Tracking number",
});

export type PlannedAction =
  | { kind: "comment"; text: string; status: string }
  | { kind: "cancel" }
  | { kind: "ship"; shipment: ShipmentInfo; items: ItemQty[]; tracks: Track[]; comment: string }
  | { kind: "invoice"; items: ItemQty[]; comment: string };

export interface ItemLink {
  /** The `order_item_id` Magento ships and invoices. */
  itemId: number;
  /** For a bundle child: its quantity per bundle (Tryton units per Magento unit); 1 otherwise. */
  perUnit: number;
  bundleChild: boolean;
}

const EPSILON = 1e-6;
const round = (q: number) => Math.round(q * 1e6) / 1e6;
const num = (v: number | undefined) => v ?? 0;

interface Candidate {
  sku: string;
  qty: number;
  link: ItemLink;
}

/** Sale line id → Magento item, as described at the top. */
export function linkSaleLines(order: MagentoOrder, lines: readonly SaleLineInfo[]): Map<number, ItemLink> {
  const candidates: Candidate[] = lineItems(order, { bundle: "parent" }).map((l) => ({
    sku: l.sku.trim(),
    qty: l.qty,
    link: { itemId: l.itemId, perUnit: 1, bundleChild: false },
  }));
  const byId = new Map(order.items.map((i) => [i.item_id, i]));
  for (const child of lineItems(order, { bundle: "children" })) {
    const parent = child.parentItemId !== undefined ? byId.get(child.parentItemId) : undefined;
    if (!parent || !parent.qty_ordered) continue;
    candidates.push({
      sku: child.sku.trim(),
      qty: child.qty,
      link: { itemId: parent.item_id, perUnit: child.qty / parent.qty_ordered, bundleChild: true },
    });
  }
  const ordered = [...lines].sort(
    (a, b) =>
      (a.sequence ?? Number.MAX_SAFE_INTEGER) - (b.sequence ?? Number.MAX_SAFE_INTEGER) || a.id - b.id,
  );
  const used = new Set<Candidate>();
  const links = new Map<number, ItemLink>();
  const pick = (line: SaleLineInfo, sameQty: boolean) =>
    candidates.find(
      (c) =>
        !used.has(c) &&
        c.sku === (line.productCode ?? "").trim() &&
        (!sameQty || Math.abs(c.qty - line.quantity) < EPSILON),
    );
  for (const sameQty of [true, false]) {
    for (const line of ordered) {
      if (links.has(line.id) || !line.productCode) continue;
      const found = pick(line, sameQty);
      if (!found) continue;
      used.add(found);
      links.set(line.id, found.link);
    }
  }
  return links;
}

/** Tryton quantities per sale line → Magento quantities per order item. */
export function itemQuantities(
  perLine: ReadonlyMap<number, number>,
  links: ReadonlyMap<number, ItemLink>,
): Map<number, number> {
  const out = new Map<number, number>();
  const bundles = new Map<number, number>();
  for (const [lineId, link] of links) {
    const qty = perLine.get(lineId) ?? 0;
    if (!link.bundleChild) {
      out.set(link.itemId, round((out.get(link.itemId) ?? 0) + qty));
      continue;
    }
    const share = qty / link.perUnit;
    bundles.set(link.itemId, Math.min(bundles.get(link.itemId) ?? Infinity, share));
  }
  for (const [itemId, share] of bundles) {
    out.set(itemId, round((out.get(itemId) ?? 0) + Math.floor(share + EPSILON)));
  }
  return out;
}

function cumulative(maps: ReadonlyArray<ReadonlyMap<number, number>>, upTo: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const m of maps.slice(0, upTo)) for (const [k, v] of m) out.set(k, (out.get(k) ?? 0) + v);
  return out;
}

function sorted(items: Map<number, number>): ItemQty[] {
  return [...items.entries()]
    .filter(([, qty]) => qty > EPSILON)
    .sort(([a], [b]) => a - b)
    .map(([order_item_id, qty]) => ({ order_item_id, qty: round(qty) }));
}

/**
 * One Magento shipment per done Tryton shipment, oldest first. Shipment k carries what its
 * cumulative range (total after k−1, total after k] holds beyond what Magento already shipped,
 * so shipments made earlier (by a previous run or by hand in Magento) are never sent again,
 * and a partial Tryton shipment ships only its own quantities.
 */
export function plannedShipments(
  sale: SaleStatus,
  order: MagentoOrder,
  links: ReadonlyMap<number, ItemLink>,
  options: Pick<PlanOptions, "carrierCode" | "carrierTitle">,
): Array<Extract<PlannedAction, { kind: "ship" }>> {
  const items = new Map(order.items.map((i) => [i.item_id, i]));
  const perShipment = sale.shipments.map((s) => s.quantities);
  const out: Array<Extract<PlannedAction, { kind: "ship" }>> = [];
  let before = new Map<number, number>();
  sale.shipments.forEach((shipment, k) => {
    const after = itemQuantities(cumulative(perShipment, k + 1), links);
    const send = new Map<number, number>();
    for (const [itemId, total] of after) {
      const item = items.get(itemId);
      if (!item || item.is_virtual === 1) continue;
      const cap = item.qty_ordered - num(item.qty_canceled) - num(item.qty_refunded);
      const upper = Math.min(total, cap);
      const lower = Math.max(Math.min(before.get(itemId) ?? 0, cap), num(item.qty_shipped));
      if (upper - lower > EPSILON) send.set(itemId, upper - lower);
    }
    before = after;
    const list = sorted(send);
    if (list.length === 0) return;
    out.push({
      kind: "ship",
      shipment,
      items: list,
      tracks: shipment.tracking.map((number) => ({
        track_number: number,
        title: shipment.carrier ?? options.carrierTitle,
        carrier_code: options.carrierCode,
      })),
      comment: `Tryton shipment ${shipment.number ?? shipment.id} of sale ${sale.number ?? sale.saleId}`,
    });
  });
  return out;
}

/** One Magento invoice for what posted Tryton invoices hold beyond Magento's `qty_invoiced`. */
export function plannedInvoice(
  sale: SaleStatus,
  order: MagentoOrder,
  links: ReadonlyMap<number, ItemLink>,
): Extract<PlannedAction, { kind: "invoice" }> | undefined {
  if (sale.invoices.length === 0) return undefined;
  const items = new Map(order.items.map((i) => [i.item_id, i]));
  const total = itemQuantities(
    cumulative(
      sale.invoices.map((i) => i.quantities),
      sale.invoices.length,
    ),
    links,
  );
  const send = new Map<number, number>();
  for (const [itemId, qty] of total) {
    const item = items.get(itemId);
    if (!item) continue;
    const open = Math.min(qty, item.qty_ordered - num(item.qty_canceled)) - num(item.qty_invoiced);
    if (open > EPSILON) send.set(itemId, open);
  }
  const list = sorted(send);
  if (list.length === 0) return undefined;
  const numbers = sale.invoices.map((i) => i.number ?? String(i.id));
  return {
    kind: "invoice",
    items: list,
    comment: `Tryton invoice ${numbers.join(", ")} of sale ${sale.number ?? sale.saleId}`,
  };
}

/** Nothing Magento could still cancel: canceled or closed, or every open quantity already cancelled. */
export function isCancelledInMagento(order: MagentoOrder): boolean {
  if (order.state === "canceled" || order.state === "closed") return true;
  const top = order.items.filter((i) => i.parent_item_id === undefined);
  const open = (i: MagentoOrderItem) => i.qty_ordered - num(i.qty_canceled) - num(i.qty_invoiced);
  return top.some((i) => num(i.qty_canceled) > 0) && top.every((i) => open(i) <= EPSILON);
}

/** The comment text naming the sale; also how an earlier one is recognised. */
export function saleComment(sale: Pick<SaleStatus, "number" | "reference">): string {
  return `Tryton sale ${sale.number} (reference ${sale.reference})`;
}

export function hasSaleComment(order: MagentoOrder, number: string): boolean {
  const escaped = number.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const pattern = new RegExp(`Tryton sale ${escaped}(?![\\w-])`);
  return (order.status_histories ?? []).some((h) => typeof h.comment === "string" && pattern.test(h.comment));
}

/** Everything to write for one sale, in order: comment, then cancel — or shipments, then invoice. */
export function planExport(sale: SaleStatus, order: MagentoOrder, options: PlanOptions): PlannedAction[] {
  const actions: PlannedAction[] = [];
  if (options.comment && sale.number && !hasSaleComment(order, sale.number)) {
    actions.push({ kind: "comment", text: saleComment(sale), status: order.status });
  }
  if (sale.state === "cancelled") {
    if (options.cancel && !isCancelledInMagento(order)) actions.push({ kind: "cancel" });
    return actions;
  }
  const links = linkSaleLines(order, sale.lines);
  if (options.ship) actions.push(...plannedShipments(sale, order, links, options));
  if (options.invoice !== "off") {
    const invoice = plannedInvoice(sale, order, links);
    if (invoice) actions.push(invoice);
  }
  return actions;
}
