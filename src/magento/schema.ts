import { z } from "zod";
import { fingerprint } from "./fingerprint";
import type { SyncError } from "../sync/result";

/*
 * The Magento 2.4 order entity as the pack reads it (reference §7). Objects are loose:
 * unknown fields (module extension attributes, future columns) pass through untouched.
 *
 * Numbers: Magento's REST serializer emits JSON numbers for money, quantities, ids and
 * 0/1 flags. Custom export endpoints and some proxies stringify them ("12.50"), so a
 * numeric string is accepted and becomes a number; anything else non-numeric is an
 * error naming the field. Nulls on optional fields read as "absent" (Magento usually
 * omits them, but not always, e.g. `payment.cc_last4: null`).
 */

const numericString = /^\s*-?\d+(\.\d+)?([eE][-+]?\d+)?\s*$/;

function toNumber(value: unknown): unknown {
  if (typeof value === "string" && numericString.test(value)) return Number(value);
  if (typeof value === "boolean") return value ? 1 : 0;
  return value;
}

/** Money and quantities: numbers or numeric text, never a boolean (only 0/1 flags and ids take those). */
function toAmount(value: unknown): unknown {
  return typeof value === "boolean" ? value : toNumber(value);
}

const num = z.preprocess(toAmount, z.number().finite());
const int = z.preprocess(toNumber, z.number().int());
/** Magento ids are positive: the targets key their records on them. */
const id = z.preprocess(toNumber, z.number().int().positive());
const text = z.string();
const nonEmpty = z.string().trim().min(1);
/** `YYYY-MM-DD HH:MM:SS` (Magento, UTC); ISO `T` tolerated. A calendar date and a clock time that exist. */
const dateTime = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}/, "expected a date-time")
  .refine(isRealDateTime, "expected a date-time that exists");

function isRealDateTime(text: string): boolean {
  const [y, mo, d, h, mi, s] = text
    .slice(0, 19)
    .split(/[- T:]/)
    .map(Number) as [number, number, number, number, number, number];
  const day = new Date(Date.UTC(y, mo - 1, d));
  return day.getUTCMonth() === mo - 1 && day.getUTCDate() === d && h < 24 && mi < 60 && s < 60;
}
const currency = z.string().regex(/^[A-Za-z]{3}$/, "expected a 3-letter currency code");
const email = z
  .string()
  .trim()
  .regex(/^[^\s@]+@[^\s@]+$/, "expected an e-mail address");

/** Optional and nullable on the wire, `T | undefined` to the reader. */
function opt<T extends z.ZodType>(schema: T) {
  return schema
    .nullish()
    .transform((v) => v ?? undefined)
    .optional();
}

export const addressSchema = z.looseObject({
  address_type: opt(text),
  entity_id: opt(int),
  parent_id: opt(int),
  customer_address_id: opt(int),
  firstname: opt(text),
  middlename: opt(text),
  lastname: opt(text),
  company: opt(text),
  /** Magento sends an array of lines; a single string is read as one line. */
  street: opt(z.preprocess((v) => (typeof v === "string" ? [v] : v), z.array(text))),
  city: opt(text),
  region: opt(text),
  region_code: opt(text),
  region_id: opt(int),
  postcode: opt(text),
  country_id: opt(text),
  telephone: opt(text),
  email: opt(text),
  vat_id: opt(text),
});
export type MagentoAddress = z.infer<typeof addressSchema>;

const itemFields = {
  item_id: id,
  order_id: opt(int),
  quote_item_id: opt(int),
  product_id: opt(int),
  sku: nonEmpty,
  name: opt(text),
  product_type: nonEmpty,
  is_virtual: opt(int),
  parent_item_id: opt(int),
  qty_ordered: num.refine((q) => q > 0, "expected a quantity above 0"),
  qty_invoiced: opt(num),
  qty_shipped: opt(num),
  qty_canceled: opt(num),
  qty_refunded: opt(num),
  price: num.refine((p) => p >= 0, "expected a price of 0 or more"),
  base_price: opt(num),
  original_price: opt(num),
  base_original_price: opt(num),
  price_incl_tax: opt(num),
  base_price_incl_tax: opt(num),
  row_total: opt(num),
  base_row_total: opt(num),
  row_total_incl_tax: opt(num),
  base_row_total_incl_tax: opt(num),
  tax_amount: opt(num),
  base_tax_amount: opt(num),
  tax_percent: opt(num),
  /** Positive on items (negative on the order header). */
  discount_amount: opt(num),
  base_discount_amount: opt(num),
  discount_percent: opt(num),
  /** The tax inside a discount taken from prices including tax (Magento's "hidden tax"). */
  discount_tax_compensation_amount: opt(num),
  base_discount_tax_compensation_amount: opt(num),
  weight: opt(num),
  row_weight: opt(num),
  created_at: opt(dateTime),
  updated_at: opt(dateTime),
};

export const orderItemSchema = z.looseObject({
  ...itemFields,
  /** Magento embeds the whole parent row in each child; only its identity is read. */
  parent_item: opt(z.looseObject({ item_id: opt(int), product_type: opt(text), sku: opt(text) })),
});
export type MagentoOrderItem = z.infer<typeof orderItemSchema>;

export const paymentSchema = z.looseObject({
  method: nonEmpty,
  amount_ordered: opt(num),
  base_amount_ordered: opt(num),
  amount_paid: opt(num),
  shipping_amount: opt(num),
  additional_information: opt(z.array(z.unknown())),
  cc_last4: opt(text),
  entity_id: opt(int),
  parent_id: opt(int),
  account_status: opt(text),
});

export const statusHistorySchema = z.looseObject({
  comment: opt(text),
  created_at: opt(dateTime),
  entity_id: opt(int),
  entity_name: opt(text),
  is_customer_notified: opt(int),
  is_visible_on_front: opt(int),
  parent_id: opt(int),
  status: opt(text),
});

export const shippingSchema = z.looseObject({
  address: opt(addressSchema),
  method: opt(text),
  total: opt(z.looseObject({})),
});

export const shippingAssignmentSchema = z.looseObject({
  shipping: opt(shippingSchema),
  items: opt(z.array(z.unknown())),
});

const totals = [
  "subtotal",
  "subtotal_incl_tax",
  "shipping_amount",
  "shipping_incl_tax",
  "shipping_tax_amount",
  "shipping_discount_amount",
  "discount_amount",
  "tax_amount",
  "total_due",
  "total_paid",
  "total_invoiced",
  "total_canceled",
  "total_refunded",
  "discount_tax_compensation_amount",
  "shipping_discount_tax_compensation_amount",
] as const;

type TotalKey = (typeof totals)[number] | `base_${(typeof totals)[number]}` | "base_grand_total";

const totalFields = Object.fromEntries(
  [...totals, ...totals.map((t) => `base_${t}`), "base_grand_total"].map((k) => [k, opt(num)]),
) as Record<TotalKey, ReturnType<typeof opt<typeof num>>>;

export const orderSchema = z.looseObject({
  // identity, state
  entity_id: id,
  increment_id: z.preprocess((v) => (typeof v === "number" ? String(v) : v), nonEmpty),
  state: nonEmpty,
  status: nonEmpty,
  created_at: dateTime,
  updated_at: dateTime,
  store_id: opt(int),
  store_name: opt(text),
  quote_id: opt(int),
  remote_ip: opt(text),
  // customer
  customer_id: opt(int),
  customer_email: email,
  customer_firstname: opt(text),
  customer_middlename: opt(text),
  customer_lastname: opt(text),
  customer_group_id: opt(int),
  customer_is_guest: opt(int),
  customer_note: opt(text),
  customer_taxvat: opt(text),
  // currency
  order_currency_code: currency,
  base_currency_code: opt(currency),
  global_currency_code: opt(currency),
  store_currency_code: opt(currency),
  base_to_order_rate: opt(num),
  base_to_global_rate: opt(num),
  // totals
  grand_total: num,
  ...totalFields,
  // discount, shipping
  coupon_code: opt(text),
  discount_description: opt(text),
  applied_rule_ids: opt(z.preprocess((v) => (typeof v === "number" ? String(v) : v), text)),
  shipping_description: opt(text),
  // counts
  total_item_count: opt(num),
  total_qty_ordered: opt(num),
  weight: opt(num),
  is_virtual: opt(int),
  // children
  items: z
    .array(orderItemSchema)
    .min(1, "expected at least one item")
    .superRefine((items, ctx) => {
      // item_id is the key of each line in the targets: two rows with one id would overwrite each other.
      const seen = new Set<number>();
      items.forEach((item, i) => {
        if (seen.has(item.item_id))
          ctx.addIssue({
            code: "custom",
            path: [i, "item_id"],
            message: "expected an item id used once in the order",
          });
        seen.add(item.item_id);
      });
    }),
  billing_address: opt(addressSchema),
  payment: opt(paymentSchema),
  status_histories: opt(z.array(statusHistorySchema)),
  extension_attributes: opt(
    z.looseObject({
      shipping_assignments: opt(z.array(shippingAssignmentSchema)),
    }),
  ),
});

export type MagentoOrder = z.infer<typeof orderSchema>;

export type OrderValidation = { ok: true; order: MagentoOrder } | { ok: false; error: SyncError };

/** How an order is named in messages: increment id when readable, else entity id. */
export function orderLabel(raw: unknown): string {
  const { incrementId, orderId } = orderIdentity(raw);
  if (incrementId) return `#${incrementId}`;
  if (orderId !== null) return `with entity_id ${orderId}`;
  return "(no readable id)";
}

/** The ids of a raw order, as far as they can be read without validating it. */
export function orderIdentity(raw: unknown): { orderId: number | null; incrementId: string | null } {
  const r = raw && typeof raw === "object" ? (raw as Record<string, unknown>) : {};
  const id = toNumber(r.entity_id);
  const inc = r.increment_id;
  return {
    orderId: typeof id === "number" && Number.isInteger(id) ? id : null,
    incrementId:
      typeof inc === "string" && inc.trim() !== "" ? inc : typeof inc === "number" ? String(inc) : null,
  };
}

function valueAt(raw: unknown, path: PropertyKey[]): unknown {
  let at: unknown = raw;
  for (const key of path) {
    if (at === null || typeof at !== "object") return undefined;
    at = (at as Record<PropertyKey, unknown>)[key];
  }
  return at;
}

function describeIssue(raw: unknown, issue: z.core.$ZodIssue): string {
  const value = valueAt(raw, issue.path);
  if (value === undefined && issue.code === "invalid_type") return "is missing";
  const detail = issue.message.replace(/^Invalid input: /, "");
  let shown = "";
  if (value === null) shown = " (got null)";
  else if (["string", "number", "boolean"].includes(typeof value)) {
    const json = JSON.stringify(value);
    shown = ` (got ${json.length > 40 ? `${json.slice(0, 40)}…` : json})`;
  }
  return `is invalid: ${detail}${shown}`;
}

/*
 * Orders this process validated, by the object validation returned, with a fingerprint of their
 * content then. Node-RED hands a message's payload to the next node as the same object (it copies
 * only for a second wire), so `magento-order-in` → `sync-filter` → `salesforce-order-out` would
 * validate each order three times: the later nodes take the earlier result instead, unless the
 * order changed on the way (a function node editing it in place changes its fingerprint, and it
 * is validated again). Validation allocates ~140 KB per order (zod), which made most of the
 * garbage of a streaming flow (docs/benchmarks.md); the fingerprint walk next to nothing.
 */
const validated = new WeakMap<object, string>();

/**
 * Check one order as Magento returned it. The error names the order and the field
 * path (`items.2.qty_ordered`) in `message` and `field`, code `invalid_order`.
 */
export function validateOrder(raw: unknown): OrderValidation {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    return {
      ok: false,
      error: {
        code: "invalid_order",
        message: "Magento sent an order that is not an object; it was skipped.",
      },
    };
  }
  const seen = validated.get(raw);
  if (seen !== undefined && seen === fingerprint(raw)) return { ok: true, order: raw as MagentoOrder };
  const parsed = orderSchema.safeParse(raw);
  if (parsed.success) {
    const print = fingerprint(parsed.data);
    if (print !== undefined) validated.set(parsed.data, print);
    return { ok: true, order: parsed.data };
  }
  const [first, ...rest] = parsed.error.issues;
  const field = first.path.map(String).join(".");
  const more =
    rest.length > 0
      ? ` (and ${rest.length} more: ${rest
          .slice(0, 3)
          .map((i) => i.path.map(String).join(".") || "(order)")
          .join(", ")}${rest.length > 3 ? ", …" : ""})`
      : "";
  const message = `Magento order ${orderLabel(raw)} cannot be synced: ${field || "the order"} ${describeIssue(raw, first)}${more}.`;
  return {
    ok: false,
    error: field ? { code: "invalid_order", message, field } : { code: "invalid_order", message },
  };
}

// ---------------------------------------------------------------------------------
// What the targets read from an order
// ---------------------------------------------------------------------------------

export interface OrderLine {
  /** The `order_item_id` Magento expects back for ship/invoice/refund (the parent for configurables). */
  itemId: number;
  sku: string;
  name: string;
  productType: string;
  qty: number;
  /** Unit price in the order currency, excluding tax. */
  price: number;
  rowTotal: number;
  taxPercent: number;
  taxAmount: number;
  /** Positive amount, as on Magento items. */
  discountAmount: number;
  /** The tax inside the discount when the shop discounts prices including tax. */
  discountTaxCompensation: number;
  isVirtual: boolean;
  /** The bundle this line belongs to, when the line is a bundle child. */
  parentItemId?: number;
  /** The row the price came from. */
  item: MagentoOrderItem;
}

export interface LineItemOptions {
  /**
   * Dynamic-price bundles carry prices on the parent and on each child: sell either the
   * bundle as one line (`parent`, default) or its components (`children`) — never both.
   * Fixed-price bundles have zero-priced children, so `children` gives zero lines there.
   */
  bundle?: "parent" | "children";
}

function lineFrom(row: MagentoOrderItem, priceRow: MagentoOrderItem = row): OrderLine {
  const qty = priceRow.qty_ordered;
  return {
    itemId: priceRow.item_id,
    sku: row.sku,
    name: row.name ?? priceRow.name ?? row.sku,
    productType: priceRow.product_type,
    qty,
    price: priceRow.price,
    rowTotal: priceRow.row_total ?? priceRow.price * qty,
    taxPercent: priceRow.tax_percent ?? 0,
    taxAmount: priceRow.tax_amount ?? 0,
    discountAmount: Math.abs(priceRow.discount_amount ?? 0),
    discountTaxCompensation: priceRow.discount_tax_compensation_amount ?? 0,
    isVirtual: (priceRow.is_virtual ?? row.is_virtual ?? 0) === 1,
    ...(row !== priceRow || row.parent_item_id === undefined ? {} : { parentItemId: row.parent_item_id }),
    item: priceRow,
  };
}

/**
 * A dynamic-price bundle sold as one line: Magento prices the parent but keeps tax and discount
 * on the children (the parent's `tax_percent` is empty or 0), so the line takes the children's rate and
 * the sums of their tax and discounts. Undefined when the children have different rates: one
 * line cannot carry two taxes, so the bundle is sold as its children.
 */
function bundleLine(parent: MagentoOrderItem, children: MagentoOrderItem[]): OrderLine | undefined {
  const line = lineFrom(parent);
  if (parent.tax_percent) return line;
  const rates = new Set(children.map((c) => c.tax_percent ?? 0));
  if (rates.size > 1) return undefined;
  const total = (pick: (c: MagentoOrderItem) => number | undefined) =>
    Math.round(children.reduce((s, c) => s + Math.abs(pick(c) ?? 0), 0) * 1e4) / 1e4;
  return {
    ...line,
    taxPercent: [...rates][0] ?? 0,
    taxAmount: parent.tax_amount || total((c) => c.tax_amount),
    discountAmount: Math.abs(parent.discount_amount ?? 0) || total((c) => c.discount_amount),
    discountTaxCompensation:
      parent.discount_tax_compensation_amount || total((c) => c.discount_tax_compensation_amount),
  };
}

/**
 * The sellable lines of an order, each counted once (reference §7.2):
 * - configurable: one line with the parent's price, quantity, tax and discount and the
 *   child's SKU (the simple product actually shipped); the child row is skipped;
 * - bundle: the parent row or its children, per `opts.bundle`;
 * - anything without parent/child links (simple, virtual, downloadable …): the row.
 * A child whose parent row is missing is kept as a line of its own.
 */
export function lineItems(order: MagentoOrder, opts: LineItemOptions = {}): OrderLine[] {
  const bundleMode = opts.bundle ?? "parent";
  const byId = new Map(order.items.map((item) => [item.item_id, item]));
  const childrenOf = new Map<number, MagentoOrderItem[]>();
  for (const item of order.items) {
    if (item.parent_item_id !== undefined && byId.has(item.parent_item_id)) {
      const list = childrenOf.get(item.parent_item_id) ?? [];
      list.push(item);
      childrenOf.set(item.parent_item_id, list);
    }
  }
  const lines: OrderLine[] = [];
  for (const item of order.items) {
    const parent = item.parent_item_id !== undefined ? byId.get(item.parent_item_id) : undefined;
    if (parent) {
      // Children are emitted from their parent, in the parent's position.
      continue;
    }
    const children = childrenOf.get(item.item_id) ?? [];
    if (children.length === 0) {
      lines.push(lineFrom(item));
    } else if (item.product_type === "configurable") {
      lines.push(lineFrom(children[0], item));
    } else {
      const whole = bundleMode === "parent" ? bundleLine(item, children) : undefined;
      if (whole) lines.push(whole);
      else for (const child of children) lines.push(lineFrom(child));
    }
  }
  return lines;
}

/** The shipping address lives only in the first shipping assignment (reference §7.4); absent for virtual orders. */
export function shippingAddress(order: MagentoOrder): MagentoAddress | undefined {
  return order.extension_attributes?.shipping_assignments?.[0]?.shipping?.address;
}

/** `flatrate_flatrate`, `tablerate_bestway` …, when the order ships. */
export function shippingMethod(order: MagentoOrder): string | undefined {
  return order.extension_attributes?.shipping_assignments?.[0]?.shipping?.method;
}

/** Guest checkout: flagged as such, or no customer account to link to. */
export function isGuest(order: MagentoOrder): boolean {
  return order.customer_is_guest === 1 || order.customer_id === undefined;
}
