/**
 * Magento order → Tryton 6.0 sale, as plain data (no I/O). The importer resolves the
 * codes in a `SaleDraft` (currency, country, product, party) to Tryton ids and then asks
 * `saleValues` for what to send.
 *
 * What goes where (trytond-magento's mapping, reference anchors §1.3, with its gaps fixed):
 * - `reference` = prefix + increment id: the "Order Number" a merchant searches by.
 * - The Magento entity id, which matching uses, is kept in a marker line of the sale's
 *   `comment` (Text): `OrderBridge magento-order:<entity_id>; content:<hash>`. A Tryton 6.0
 *   sale has no free external-id field (`reference` is not unique and holds the increment
 *   id; `description` is a one-line Char shown in lists). `comment` is searchable with
 *   `ilike` (reference §9.1), holds several lines so a merchant's own notes survive, and
 *   the marker is rewritten in place, never duplicated. The content hash in the same line
 *   lets a re-import see that nothing changed without reading lines back.
 * - Lines: configurable items once (parent price, child SKU), bundles as the parent line
 *   or as its children (option), a shipping line, discount lines grouped by tax rate, all
 *   from the order's amounts as `src/magento/order-amounts.ts` reads them; a tax rounding
 *   line when Tryton would round tax differently from the shop (`reconcileTotal`,
 *   docs/money.md).
 * - Taxes by a map Magento tax percent → Tryton tax ids; an unmapped rate is an error,
 *   not a silently untaxed line.
 */
import { createHash } from "node:crypto";

import {
  shippingAddress,
  shippingMethod,
  type MagentoAddress,
  type MagentoOrder,
  type OrderLine,
} from "../magento/schema";
import { orderAmounts, type ItemAmounts, type OrderAmounts } from "../magento/order-amounts";
import type { SyncError } from "../sync/result";
import {
  abs,
  amount,
  amountText,
  decimalPlaces,
  decimalText,
  divide,
  roundHalfEven,
  roundTo,
  sum,
  times,
  type Amount,
} from "../sync/amounts";
import { predictTotal, type TaxSetup, type TrytonTax } from "./tax-prediction";
import { date, decimal } from "./values";

/** Tryton 6.0 `price_digits` (16, 4): `unit_price` and `list_price` take at most 4 decimals (reference trap 3). */
export const PRICE_DECIMALS = 4;

export type ProductType = "goods" | "service";

export interface TaxRate {
  /** Magento `tax_percent`, e.g. 8.25. */
  percent: Amount;
  taxes: number[];
}
export type TaxMap = readonly TaxRate[];

export interface MappingOptions {
  /** Put before the increment id in `reference` (trytond-magento used `mag_`). */
  referencePrefix: string;
  /** IANA zone in which `created_at` (UTC) becomes the sale date. */
  timeZone: string;
  bundle: "parent" | "children";
  taxMap: TaxMap;
  /** Product code of the shipping line (created as a service when missing). */
  shippingProduct: string;
  /** Product code of the discount lines (created as a service when missing). */
  discountProduct: string;
  /** Product code of the tax rounding line (created as a service when missing; docs/money.md). */
  roundingProduct: string;
  /** Type of products created for Magento SKUs; `auto`: virtual/downloadable → service, else goods. */
  productType: "auto" | ProductType;
}

export const defaultMappingOptions: Readonly<MappingOptions> = Object.freeze({
  referencePrefix: "",
  timeZone: "UTC",
  bundle: "parent",
  taxMap: [],
  shippingProduct: "SHIPPING",
  discountProduct: "DISCOUNT",
  roundingProduct: "ROUNDING",
  productType: "auto",
});

export interface PartyDraft {
  /** As Magento has it (trimmed); stored on new parties. */
  email: string;
  /** Lower case: parties are matched on it, guests and registered customers alike. */
  emailKey: string;
  name: string;
  phone?: string;
}

export interface AddressDraft {
  partyName: string;
  street: string;
  postalCode: string;
  city: string;
  countryCode: string;
  /** Tryton subdivision codes to try, e.g. `US-NY`. */
  subdivisionCodes: string[];
  /** Magento `region`, tried by name when no code matches. */
  regionName: string;
  /** Where the address is in the Magento order, for error messages. */
  field: string;
}

export interface LineDraft {
  kind: "item" | "shipping" | "discount" | "rounding";
  productCode: string;
  productName: string;
  productType: ProductType;
  description: string;
  quantity: number;
  unitPrice: string;
  taxes: number[];
  /** The Magento tax percent the taxes were mapped from (tax map key), when taxed. */
  taxPercent?: string;
  /** Magento field the quantity came from (`items.3.qty_ordered`), for errors. */
  quantityField: string;
  /** Magento field naming the product (`items.3.sku`), for errors. */
  skuField: string;
}

export interface SaleDraft {
  orderId: number;
  incrementId: string;
  magentoState: string;
  reference: string;
  description: string;
  saleDate: string;
  currencyCode: string;
  grandTotal: string;
  /** `grand_total` at the currency's minor unit (`OrderAmounts.payable`): what the sale must total. */
  payable: string;
  party: PartyDraft;
  invoiceAddress: AddressDraft;
  shipmentAddress: AddressDraft;
  lines: LineDraft[];
  /** How the order's amounts were read (`src/magento/order-amounts.ts`). */
  reading: AmountReading;
  /** Digest of the Magento content the sale is built from (not of the options). */
  contentHash: string;
}

export interface AmountReading {
  /** Items not read as price × quantity, e.g. `items.2: row total`. */
  items: string[];
  /** How the payable total was taken, when it differs from `grand_total`. */
  payableNote?: string;
  taxAfterDiscount: boolean;
  /** Why Magento's own amounts do not add up, when they do not. */
  unbalanced?: string;
  /** At most how many amounts Magento rounded (`OrderAmounts.roundings`). */
  roundings: number;
}

export type MappingResult = { ok: true; draft: SaleDraft } | { ok: false; error: SyncError };

class MappingError extends Error {
  constructor(
    readonly code: string,
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------

/**
 * The tax map from user settings: `{"8.25": [3], "19": [4, 5]}` (object or JSON text),
 * a bare id standing for a one-element list. Percent keys are compared exactly as decimals.
 */
export function taxMapFrom(input: unknown): TaxMap {
  if (input === undefined || input === null || input === "") return [];
  let raw: unknown = input;
  if (typeof input === "string") {
    try {
      raw = JSON.parse(input);
    } catch {
      throw new TypeError(`tax map is not valid JSON: ${input.slice(0, 60)}`);
    }
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new TypeError(
      'tax map must be an object of Magento tax percent → Tryton tax ids, e.g. {"8.25": [3]}',
    );
  }
  const rates: TaxRate[] = [];
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    let percent: Amount;
    try {
      percent = amount(key);
    } catch {
      throw new TypeError(`tax map: "${key}" is not a tax percent`);
    }
    const ids = Array.isArray(value) ? value : [value];
    if (!ids.every((id) => Number.isInteger(id) && (id as number) > 0)) {
      throw new TypeError(`tax map: "${key}" must map to Tryton tax ids (positive integers)`);
    }
    rates.push({ percent, taxes: ids as number[] });
  }
  return rates;
}

/** Throws a RangeError for a zone the runtime does not know. */
export function checkTimeZone(zone: string): string {
  new Intl.DateTimeFormat("en-CA", { timeZone: zone });
  return zone;
}

// ---------------------------------------------------------------------------------
// Marker
// ---------------------------------------------------------------------------------

const markerLine = /^OrderBridge magento-order:(\d+); content:([0-9a-f]+)$/m;

export function saleMarker(orderId: number, contentHash: string): string {
  return `OrderBridge magento-order:${orderId}; content:${contentHash}`;
}

/** `ilike` pattern finding a sale by its marker (no `_`: LIKE wildcards only over-match, and matches are re-checked). */
export function markerPattern(orderId: number): string {
  return `%magento-order:${orderId};%`;
}

export function parseMarker(comment: unknown): { orderId: number; contentHash: string } | undefined {
  if (typeof comment !== "string") return undefined;
  const m = markerLine.exec(comment);
  return m ? { orderId: Number(m[1]), contentHash: m[2] as string } : undefined;
}

/** The comment with the marker replaced (or appended), the merchant's own text kept. */
export function commentWithMarker(comment: unknown, marker: string): string {
  const text = typeof comment === "string" ? comment : "";
  if (markerLine.test(text)) return text.replace(markerLine, marker);
  return text.trim() ? `${text.replace(/\s+$/, "")}\n${marker}` : marker;
}

// ---------------------------------------------------------------------------------
// Order → draft
// ---------------------------------------------------------------------------------

export function mapOrder(order: MagentoOrder, options: MappingOptions): MappingResult {
  try {
    return { ok: true, draft: buildDraft(order, options) };
  } catch (err) {
    if (err instanceof MappingError) {
      return { ok: false, error: { code: err.code, field: err.field, message: err.message } };
    }
    throw err;
  }
}

function label(order: MagentoOrder): string {
  return `Magento order #${order.increment_id}`;
}

function buildDraft(order: MagentoOrder, options: MappingOptions): SaleDraft {
  const email = (order.customer_email ?? "").trim();
  if (!email) {
    throw new MappingError(
      "invalid_order",
      "customer_email",
      `${label(order)} has no customer e-mail (customer_email).`,
    );
  }
  const currencyCode = order.order_currency_code.toUpperCase();
  const billing = order.billing_address;
  if (!billing) {
    throw new MappingError("invalid_order", "billing_address", `${label(order)} has no billing address.`);
  }
  const invoiceAddress = addressDraft(order, billing, "billing_address");
  const shipping = shippingAddress(order);
  const shipmentAddress = shipping
    ? addressDraft(order, shipping, "extension_attributes.shipping_assignments.0.shipping.address")
    : invoiceAddress;

  const amounts = orderAmounts(order, { bundle: options.bundle });
  const lines = saleLines(order, amounts, options);
  return {
    orderId: order.entity_id,
    incrementId: order.increment_id,
    magentoState: order.state,
    reference: `${options.referencePrefix}${order.increment_id}`,
    description: `Magento order #${order.increment_id}`,
    saleDate: localDate(order.created_at, options.timeZone),
    currencyCode,
    grandTotal: decimalText(order.grand_total),
    payable: amountText(amounts.payable),
    party: {
      email,
      emailKey: email.toLowerCase(),
      name: partyName(order) || email,
      ...(billing.telephone?.trim() ? { phone: billing.telephone.trim() } : {}),
    },
    invoiceAddress,
    shipmentAddress,
    lines,
    reading: {
      items: amounts.readings,
      ...(amounts.payableNote ? { payableNote: amounts.payableNote } : {}),
      taxAfterDiscount: amounts.taxAfterDiscount,
      roundings: amounts.roundings,
      ...(amounts.unbalanced ? { unbalanced: amounts.unbalanced } : {}),
    },
    contentHash: contentHash(order),
  };
}

function joinName(...parts: Array<string | undefined>): string {
  return parts
    .map((p) => (p ?? "").trim())
    .filter(Boolean)
    .join(" ");
}

function partyName(order: MagentoOrder): string {
  const customer = joinName(order.customer_firstname, order.customer_middlename, order.customer_lastname);
  if (customer) return customer;
  const b = order.billing_address;
  return b ? joinName(b.firstname, b.middlename, b.lastname) || (b.company ?? "").trim() : "";
}

function addressDraft(order: MagentoOrder, a: MagentoAddress, field: string): AddressDraft {
  const country = (a.country_id ?? "").trim().toUpperCase();
  if (!country) {
    throw new MappingError(
      "invalid_order",
      `${field}.country_id`,
      `${label(order)}: ${field} has no country_id.`,
    );
  }
  const person = joinName(a.firstname, a.middlename, a.lastname);
  const company = (a.company ?? "").trim();
  const regionCode = (a.region_code ?? "").trim().toUpperCase();
  const subdivisionCodes = regionCode
    ? regionCode.includes("-")
      ? [regionCode]
      : [`${country}-${regionCode}`]
    : [];
  return {
    partyName: [company, person].filter(Boolean).join(", "),
    street: (a.street ?? [])
      .map((s) => s.trim())
      .filter(Boolean)
      .join("\n"),
    postalCode: (a.postcode ?? "").trim(),
    city: (a.city ?? "").trim(),
    countryCode: country,
    subdivisionCodes,
    regionName: (a.region ?? "").trim(),
    field,
  };
}

// Building an Intl.DateTimeFormat costs ~100 µs; one per zone is kept.
const dayFormats = new Map<string, Intl.DateTimeFormat>();

function dayFormat(zone: string): Intl.DateTimeFormat {
  let format = dayFormats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-CA", {
      timeZone: zone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
    });
    dayFormats.set(zone, format);
  }
  return format;
}

/** `created_at` is UTC (`YYYY-MM-DD HH:MM:SS`); the sale date is its calendar day in `zone`. */
export function localDate(createdAt: string, zone: string): string {
  const utc = new Date(`${createdAt.trim().replace(" ", "T").slice(0, 19)}Z`);
  if (Number.isNaN(utc.getTime())) return createdAt.slice(0, 10);
  const parts = dayFormat(zone).formatToParts(utc);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  return `${get("year")}-${get("month")}-${get("day")}`;
}

function checkPrice(order: MagentoOrder, value: number, field: string, what: string): string {
  const text = decimalText(value);
  if (decimalPlaces(text) > PRICE_DECIMALS) {
    throw new MappingError(
      "invalid_price",
      field,
      `${label(order)}: ${what} ${text} (${field}) has more than ${PRICE_DECIMALS} decimals, which a Tryton price cannot hold.`,
    );
  }
  return text;
}

function taxesFor(order: MagentoOrder, percent: number | undefined, field: string, map: TaxMap) {
  if (percent === undefined || percent === 0) return { key: "", taxes: [] as number[] };
  const wanted = amount(percent);
  const rate = map.find((r) => r.percent === wanted);
  if (!rate) {
    throw new MappingError(
      "unmapped_tax",
      field,
      `${label(order)}: no Tryton tax is mapped for Magento tax rate ${amountText(wanted)}% (${field}); add it to the tax map.`,
    );
  }
  return { key: amountText(wanted), taxes: rate.taxes };
}

function productTypeOf(line: OrderLine, option: MappingOptions["productType"]): ProductType {
  if (option !== "auto") return option;
  return line.isVirtual || line.productType === "virtual" || line.productType === "downloadable"
    ? "service"
    : "goods";
}

/**
 * The unit price that reproduces the item's amount: Magento's price, unless the amount was
 * read from the row (a bundle parent: 100.00 for 3 is 33.3333 with Tryton's 4 decimals).
 */
function unitPriceOf(order: MagentoOrder, it: ItemAmounts, field: string): string {
  const price = checkPrice(order, it.line.price, field, `the price of ${it.line.sku}`);
  if (it.reading !== "row_total" || !it.line.qty) return price;
  return amountText(divide(it.gross, amount(it.line.qty), PRICE_DECIMALS));
}

type DiscountGroups = Map<string, { taxes: number[]; total: Amount }>;
type ShippingTax = ReturnType<typeof shippingTaxesOf>;

function saleLines(order: MagentoOrder, amounts: OrderAmounts, options: MappingOptions): LineDraft[] {
  const discounts: DiscountGroups = new Map();
  const itemRates = new Set<string>();
  const lines = itemLines(order, amounts, options, discounts, itemRates);
  const shippingTax = shippingTaxesOf(order, options.taxMap, itemRates);
  const shipping = shippingLine(order, options, shippingTax);
  if (shipping) lines.push(shipping);
  if (amounts.discount !== 0n) lines.push(...discountLines(order, amounts, options, discounts, shippingTax));
  return lines;
}

/** The item lines; their discounts are added to `discounts` by tax rate, their rates to `itemRates`. */
function itemLines(
  order: MagentoOrder,
  amounts: OrderAmounts,
  options: MappingOptions,
  discounts: DiscountGroups,
  itemRates: Set<string>,
): LineDraft[] {
  const index = new Map(order.items.map((item, i) => [item, i]));
  return amounts.items.map((it) => {
    const line = it.line;
    const i = index.get(line.item) ?? order.items.findIndex((row) => row.item_id === line.itemId);
    const tax = taxesFor(order, line.taxPercent, `items.${i}.tax_percent`, options.taxMap);
    if (tax.key) itemRates.add(tax.key);
    if (it.discount !== 0n) {
      // Tax before discount: the discount lowers the price, not the tax. The item's tax goes no
      // lower than 0: a discount beyond the item (taken from prices incl. tax) is left to the rest.
      const key = amounts.taxAfterDiscount ? tax.key : "";
      const group = discounts.get(key) ?? { taxes: amounts.taxAfterDiscount ? tax.taxes : [], total: 0n };
      group.total += key && it.discount > it.gross ? it.gross : it.discount;
      discounts.set(key, group);
    }
    return {
      kind: "item",
      productCode: line.sku.trim(),
      productName: line.name.trim() || line.sku.trim(),
      productType: productTypeOf(line, options.productType),
      description: line.name.trim() || line.sku.trim(),
      quantity: line.qty,
      unitPrice: unitPriceOf(order, it, `items.${i}.price`),
      taxes: tax.taxes,
      ...(tax.key ? { taxPercent: tax.key } : {}),
      quantityField: `items.${i}.qty_ordered`,
      skuField: `items.${i}.sku`,
    };
  });
}

function shippingLine(order: MagentoOrder, options: MappingOptions, tax: ShippingTax): LineDraft | undefined {
  const shippingAmount = order.shipping_amount ?? 0;
  const method = shippingMethod(order);
  if (shippingAmount === 0 && !method) return undefined;
  return {
    kind: "shipping",
    productCode: options.shippingProduct,
    productName: "Shipping",
    productType: "service",
    description: (order.shipping_description ?? "").trim() || method || "Shipping",
    quantity: 1,
    unitPrice: checkPrice(order, shippingAmount, "shipping_amount", "the shipping amount"),
    taxes: tax.taxes,
    ...(tax.key ? { taxPercent: tax.key } : {}),
    quantityField: "shipping_amount",
    skuField: "shipping_amount",
  };
}

/** One discount line per tax rate of the items, and one for what the items do not explain. */
function discountLines(
  order: MagentoOrder,
  amounts: OrderAmounts,
  options: MappingOptions,
  discounts: DiscountGroups,
  shippingTax: ShippingTax,
): LineDraft[] {
  checkPrice(order, order.discount_amount ?? 0, "discount_amount", "the discount");
  const title = (order.discount_description ?? "").trim() || (order.coupon_code ?? "").trim();
  const describe = (suffix: string) => `Discount${title ? ` (${title})` : ""}${suffix}`;
  const groups = [...discounts.entries()].filter(([, g]) => g.total !== 0n);
  const lines = groups.map(([key, group]) =>
    discountLine(options, describe(key ? ` · tax ${key}%` : ""), group.total, group.taxes, key),
  );
  // The rest (e.g. a shipping discount) is taxed like shipping only when shipping was taxed after it.
  const rest = amounts.discount - sum(groups.map(([, g]) => g.total));
  const [taxes, key] = shippingTax.afterDiscount ? [shippingTax.taxes, shippingTax.key] : [[], ""];
  if (rest !== 0n)
    lines.push(discountLine(options, describe(groups.length ? " · other" : ""), rest, taxes, key));
  return lines;
}

function discountLine(
  options: MappingOptions,
  description: string,
  total: Amount,
  taxes: number[],
  taxPercent: string,
): LineDraft {
  return {
    kind: "discount",
    productCode: options.discountProduct,
    productName: "Discount",
    productType: "service",
    description,
    quantity: 1,
    unitPrice: amountText(-total),
    taxes,
    ...(taxPercent ? { taxPercent } : {}),
    quantityField: "discount_amount",
    skuField: "discount_amount",
  };
}

/**
 * Magento gives no shipping tax rate: take the mapped rate that reproduces
 * `shipping_tax_amount` to within one unit of the currency (an identification, not a total check).
 */
function shippingTaxesOf(order: MagentoOrder, map: TaxMap, itemRates: Set<string>) {
  const taxAmount = order.shipping_tax_amount ?? 0;
  const base = order.shipping_amount ?? 0;
  if (!taxAmount || !base) return { key: "", taxes: [] as number[], afterDiscount: false };
  const wanted = amount(taxAmount);
  const step = MAGENTO_STEP;
  const candidates = [...map].sort(
    (a, b) => Number(itemRates.has(amountText(b.percent))) - Number(itemRates.has(amountText(a.percent))),
  );
  // Taxed after a shipping discount, the base is what is left of the shipping, with the tax the discount held.
  const discounted =
    amount(base) -
    abs(amount(order.shipping_discount_amount ?? 0)) +
    amount(order.shipping_discount_tax_compensation_amount ?? 0);
  for (const rate of candidates) {
    for (const taxable of [amount(base), discounted]) {
      const computed = roundTo(times(taxable, rate.percent) / 100n, step);
      if (abs(computed - wanted) <= step) {
        const afterDiscount = taxable === discounted && discounted !== amount(base);
        return { key: amountText(rate.percent), taxes: rate.taxes, afterDiscount };
      }
    }
  }
  throw new MappingError(
    "unmapped_tax",
    "shipping_tax_amount",
    `${label(order)}: no mapped tax rate gives the shipping tax ${decimalText(taxAmount)} on ${decimalText(base)} (shipping_tax_amount); add the rate to the tax map.`,
  );
}

// ---------------------------------------------------------------------------------
// Content hash: what the sale is built from, on the Magento side only. Status,
// payments, comments and `updated_at` do not count, and neither do the node's options
// (changing a setting applies to new imports, it does not rewrite old sales).
// ---------------------------------------------------------------------------------

function addressDigest(a: MagentoAddress | undefined) {
  if (!a) return null;
  return [
    a.firstname,
    a.middlename,
    a.lastname,
    a.company,
    a.street,
    a.city,
    a.postcode,
    a.region_code,
    a.region,
    a.country_id,
  ].map((v) => v ?? null);
}

export function contentHash(order: MagentoOrder): string {
  const digest = {
    increment_id: order.increment_id,
    created_at: order.created_at,
    currency: order.order_currency_code,
    email: (order.customer_email ?? "").trim().toLowerCase(),
    totals: [
      order.grand_total,
      order.shipping_amount,
      order.shipping_tax_amount,
      order.discount_amount,
      order.tax_amount,
    ],
    shipping: [order.shipping_description, shippingMethod(order)],
    billing: addressDigest(order.billing_address),
    delivery: addressDigest(shippingAddress(order)),
    items: order.items.map((i) => [
      i.item_id,
      i.parent_item_id ?? null,
      i.sku,
      i.name ?? null,
      i.product_type,
      i.qty_ordered,
      i.price,
      i.tax_percent ?? null,
      i.discount_amount ?? null,
      i.is_virtual ?? null,
    ]),
  };
  return createHash("sha256").update(JSON.stringify(digest)).digest("hex").slice(0, 16);
}

// ---------------------------------------------------------------------------------
// Draft + resolved ids → Tryton values
// ---------------------------------------------------------------------------------

export interface ResolvedProduct {
  id: number;
  /** The product's sale unit. */
  unit: number;
}

export interface ResolvedSale {
  party: number;
  invoiceAddress: number;
  shipmentAddress: number;
  currency: number;
  products: ReadonlyMap<string, ResolvedProduct>;
}

/** `sale.line` create values, in Magento's order (`sequence`). No on_change runs server side: everything is explicit. */
export function lineValues(draft: SaleDraft, resolved: ResolvedSale): Record<string, unknown>[] {
  return draft.lines.map((line, i) => {
    const product = resolved.products.get(line.productCode);
    if (!product) throw new Error(`product ${line.productCode} was not resolved`);
    return {
      type: "line",
      sequence: i + 1,
      product: product.id,
      unit: product.unit,
      // sale.line.quantity is a Float field in 6.0; its digits come from the unit.
      quantity: line.quantity,
      unit_price: decimal(line.unitPrice),
      description: line.description,
      ...(line.taxes.length ? { taxes: [["add", line.taxes]] } : {}),
    };
  });
}

/** Header values for `sale.sale.create`/`write`; `comment` keeps existing text around the marker. */
export function saleHeader(
  draft: SaleDraft,
  resolved: ResolvedSale,
  existingComment?: unknown,
): Record<string, unknown> {
  return {
    party: resolved.party,
    invoice_address: resolved.invoiceAddress,
    shipment_address: resolved.shipmentAddress,
    currency: resolved.currency,
    reference: draft.reference,
    description: draft.description,
    comment: commentWithMarker(existingComment, saleMarker(draft.orderId, draft.contentHash)),
    sale_date: date(draft.saleDate),
  };
}

export function saleValues(draft: SaleDraft, resolved: ResolvedSale): Record<string, unknown> {
  return { ...saleHeader(draft, resolved), lines: [["create", lineValues(draft, resolved)]] };
}

/** Whether a quantity fits a unit's digits (`u` has 0: 1.5 is refused by Tryton). */
export function quantityFits(quantity: number, unitDigits: number): boolean {
  return decimalPlaces(quantity) <= unitDigits;
}

// ---------------------------------------------------------------------------------
// Total: what Tryton will compute against Magento's grand_total (docs/money.md)
// ---------------------------------------------------------------------------------

export interface Reconciled {
  draft: SaleDraft;
  /** The rounding line's amount, when one was added. */
  rounding?: string;
  /** Why the total cannot be made equal, to name in a `mismatch`. */
  problem?: string;
}

/**
 * The draft with, when Tryton's total would differ from `grand_total` only by how the two
 * round tax, an explicit rounding line (untaxed, on `roundingProduct`) for the difference.
 * "Only by rounding": every mapped Tryton tax has Magento's rate, and the difference is no
 * larger than half a currency unit per amount either side rounds (each unit of quantity, when
 * the shop rounds per unit, each line, each tax). Anything else is left for the total check.
 */
export function reconcileTotal(
  draft: SaleDraft,
  setup: TaxSetup,
  step: Amount,
  options: MappingOptions,
): Reconciled {
  if (draft.reading.unbalanced) return { draft, problem: draft.reading.unbalanced };
  const rateProblem = rateDifference(draft, setup);
  if (rateProblem) return { draft, problem: rateProblem };
  const priced = draft.lines.map((l) => ({
    taxes: l.taxes,
    unitPrice: amount(l.unitPrice),
    quantity: amount(l.quantity),
  }));
  const predicted = predictTotal(priced, setup, step);
  if (!predicted.ok)
    return { draft, problem: `OrderBridge cannot foresee Tryton's total: ${predicted.reason}` };
  const payable = amount(draft.payable);
  if (roundHalfEven(payable, step) !== payable) {
    return {
      draft,
      problem: `${draft.payable} ${draft.currencyCode} has smaller units than Tryton's currency (rounding ${amountText(step)})`,
    };
  }
  const difference = payable - predicted.total;
  if (difference === 0n) return { draft };
  if (abs(difference) * 2n > roundingReach(draft, step)) {
    return {
      draft,
      problem:
        `Tryton would total ${amountText(predicted.total)} (tax ${amountText(predicted.tax)}), ` +
        `${amountText(abs(difference))} ${difference > 0n ? "less" : "more"} than grand_total: more than tax rounding explains`,
    };
  }
  const text = amountText(difference);
  const line: LineDraft = {
    kind: "rounding",
    productCode: options.roundingProduct,
    productName: "Rounding",
    productType: "service",
    description: `Tax rounding (Magento's rounding, Tryton's per ${setup.rounding})`,
    quantity: 1,
    unitPrice: text,
    taxes: [],
    quantityField: "grand_total",
    skuField: "grand_total",
  };
  return { draft: { ...draft, lines: [...draft.lines, line] }, rounding: text };
}

/** Magento rounds every amount to 2 decimals, whatever the currency (docs/magento-tax-calculation.md). */
const MAGENTO_STEP = amount("0.01");

/**
 * Twice the largest difference rounding alone can make: half a Magento unit per amount Magento
 * rounds (`AmountReading.roundings`), half a Tryton unit per amount Tryton rounds (each line,
 * each tax on it).
 */
function roundingReach(draft: SaleDraft, step: Amount): Amount {
  const tryton = draft.lines.reduce((n, l) => n + 1 + l.taxes.length, 0);
  return MAGENTO_STEP * BigInt(draft.reading.roundings) + step * BigInt(tryton);
}

/** A mapped Tryton tax whose rate is not Magento's: no rounding line can make up for it. */
function rateDifference(draft: SaleDraft, setup: TaxSetup): string | undefined {
  for (const line of draft.lines) {
    if (!line.taxPercent || line.taxes.length === 0) continue;
    const taxes = line.taxes.map((id) => setup.taxes.get(id));
    if (taxes.some((t) => !t || t.type !== "percentage")) continue;
    const rate = sum(taxes.map((t) => (t as TrytonTax).rate)) * 100n;
    if (rate !== amount(line.taxPercent)) {
      return (
        `Magento's tax rate ${line.taxPercent}% is mapped to Tryton tax ${line.taxes.join(", ")} ` +
        `of ${amountText(rate)}%; correct the tax map`
      );
    }
  }
  return undefined;
}
