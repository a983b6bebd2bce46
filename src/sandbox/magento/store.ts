/**
 * The simulator's live data: orders, the shipments and invoices written for them, and the
 * sequences Magento would hand out. Every write goes through `save`, which bumps updated_at
 * to the clock's now — never earlier than any existing updated_at, as a real save would be.
 */
import { formatMagentoDate, parseMagentoDate, type MagentoClock } from "./clock";
import { lines, num, refreshDerived } from "./order-math";
import { generateNewOrder, IdSequences, type SeedOptions } from "./seed";
import type { MagentoInvoiceRecord, MagentoOrderRecord, MagentoShipmentRecord } from "./types";

export class OrderStore {
  readonly orders = new Map<number, MagentoOrderRecord>();
  readonly shipments = new Map<number, MagentoShipmentRecord>();
  readonly invoices = new Map<number, MagentoInvoiceRecord>();
  private readonly documentIncrements = { shipment: new IdSequences(), invoice: new IdSequences() };

  constructor(
    seedOrders: MagentoOrderRecord[],
    readonly clock: MagentoClock,
    private readonly seed: number,
    private readonly seedOptions: SeedOptions = {},
  ) {
    for (const order of seedOrders) this.orders.set(order.entity_id, order);
    for (const order of seedOrders) this.deriveDocuments(order);
  }

  get(entityId: number): MagentoOrderRecord | undefined {
    return this.orders.get(entityId);
  }

  /** Now, in Magento format, but not before the latest updated_at (one-second resolution). */
  now(): string {
    let latest = this.clock.nowMs();
    for (const o of this.orders.values()) {
      if (typeof o.updated_at === "string") latest = Math.max(latest, parseMagentoDate(o.updated_at));
    }
    return formatMagentoDate(latest);
  }

  /** Persists a change: bumps updated_at (and the items' when they changed) and the embedded copies. */
  save(order: MagentoOrderRecord, itemsChanged = false): void {
    order.updated_at = this.now();
    if (itemsChanged) for (const item of order.items) item.updated_at = order.updated_at;
    refreshDerived(order);
  }

  touch(entityId: number, patch: Record<string, unknown> = {}): void {
    const order = this.orders.get(entityId);
    if (!order) throw new Error(`touchOrder: no order with entity_id ${entityId}`);
    order.updated_at = this.now();
    Object.assign(order, patch);
    refreshDerived(order);
  }

  add(partial: Record<string, unknown> = {}): MagentoOrderRecord {
    const entityId = Math.max(0, ...this.orders.keys()) + 1;
    const order = generateNewOrder(entityId, this.now(), this.seed, this.orders.values(), this.seedOptions);
    Object.assign(order, partial);
    refreshDerived(order);
    this.orders.set(order.entity_id, order);
    return order;
  }

  nextHistoryId(): number {
    return IdSequences.after(this.orders.values()).history + 1;
  }

  /** Stores a shipment, giving it the next entity_id and increment_id. */
  addShipment(shipment: MagentoShipmentRecord): MagentoShipmentRecord {
    const record: MagentoShipmentRecord = {
      ...shipment,
      entity_id: this.shipments.size + 1,
      increment_id: this.documentIncrements.shipment.nextIncrement(shipment.store_id),
    };
    this.shipments.set(record.entity_id, record);
    return record;
  }

  addInvoice(invoice: MagentoInvoiceRecord): MagentoInvoiceRecord {
    const record: MagentoInvoiceRecord = {
      ...invoice,
      entity_id: this.invoices.size + 1,
      increment_id: this.documentIncrements.invoice.nextIncrement(invoice.store_id),
    };
    this.invoices.set(record.entity_id, record);
    return record;
  }

  /** Seed orders that are already shipped or invoiced get the matching documents. */
  private deriveDocuments(order: MagentoOrderRecord): void {
    const shipped = lines(order).filter((i) => num(i.qty_shipped) > 0);
    if (shipped.length > 0) {
      this.addShipment(
        shipmentRecord(
          order,
          shipped.map((item) => ({ item, qty: num(item.qty_shipped) })),
          [
            {
              track_number: `1Z999AA1${String(order.entity_id).padStart(8, "0")}`,
              title: "United Parcel Service",
              carrier_code: "ups",
            },
          ],
          order.updated_at,
        ),
      );
    }
    const invoiced = lines(order).filter((i) => num(i.qty_invoiced) > 0);
    if (invoiced.length > 0) {
      this.addInvoice(
        invoiceRecord(
          order,
          invoiced.map((item) => ({
            item,
            qty: num(item.qty_invoiced),
            row: num(item.row_invoiced),
            tax: num(item.tax_invoiced),
            discount: num(item.discount_invoiced),
          })),
          {
            subtotal: num(order.subtotal_invoiced),
            tax: num(order.tax_invoiced),
            discount: num(order.discount_invoiced),
            shipping: num(order.shipping_invoiced),
            grand: num(order.total_invoiced),
            baseGrand: num(order.base_total_invoiced),
          },
          order.updated_at,
        ),
      );
    }
  }
}

type Line = { item: MagentoOrderRecord["items"][number]; qty: number };

/** ShipmentInterface as GET /V1/shipments returns it. */
export function shipmentRecord(
  order: MagentoOrderRecord,
  shipped: Line[],
  tracks: Array<Record<string, unknown>>,
  at: string,
  extra: { comment?: Record<string, unknown>; sourceCode?: string } = {},
): MagentoShipmentRecord {
  return {
    entity_id: 0,
    increment_id: "",
    billing_address_id: order.billing_address_id,
    created_at: at,
    ...(typeof order.customer_id === "number" ? { customer_id: order.customer_id } : {}),
    email_sent: 0,
    order_id: order.entity_id,
    ...(order.is_virtual ? {} : { shipping_address_id: num(order.billing_address_id) - 1 }),
    store_id: order.store_id,
    total_qty: shipped.reduce((s, l) => s + l.qty, 0),
    updated_at: at,
    packages: [],
    tracks: tracks.map((t, i) => ({
      order_id: order.entity_id,
      created_at: at,
      entity_id: i + 1,
      updated_at: at,
      ...t,
    })),
    items: shipped.map(({ item, qty }) => ({
      name: item.name,
      price: item.price,
      product_id: item.product_id,
      sku: item.sku,
      weight: item.weight,
      order_item_id: item.item_id,
      qty,
    })),
    comments: extra.comment ? [{ ...extra.comment, created_at: at }] : [],
    ...(extra.sourceCode ? { extension_attributes: { source_code: extra.sourceCode } } : {}),
  };
}

/** InvoiceInterface as GET /V1/invoices returns it (state 2 = paid: offline methods pay on register). */
export function invoiceRecord(
  order: MagentoOrderRecord,
  invoiced: Array<Line & { row: number; tax: number; discount: number }>,
  totals: {
    subtotal: number;
    tax: number;
    discount: number;
    shipping: number;
    grand: number;
    baseGrand: number;
  },
  at: string,
  comment?: Record<string, unknown>,
): MagentoInvoiceRecord {
  return {
    entity_id: 0,
    increment_id: "",
    base_currency_code: order.base_currency_code,
    base_grand_total: totals.baseGrand,
    billing_address_id: order.billing_address_id,
    created_at: at,
    discount_amount: totals.discount,
    grand_total: totals.grand,
    order_currency_code: order.order_currency_code,
    order_id: order.entity_id,
    shipping_amount: totals.shipping,
    state: 2,
    store_id: order.store_id,
    subtotal: totals.subtotal,
    tax_amount: totals.tax,
    total_qty: invoiced.reduce((s, l) => s + l.qty, 0),
    updated_at: at,
    items: invoiced.map(({ item, qty, row, tax, discount }) => ({
      name: item.name,
      order_item_id: item.item_id,
      price: item.price,
      product_id: item.product_id,
      qty,
      row_total: row,
      sku: item.sku,
      tax_amount: tax,
      discount_amount: discount,
    })),
    comments: comment ? [{ ...comment, created_at: at }] : [],
  };
}
