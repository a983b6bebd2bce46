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
 *   or as its children (option), a shipping line, discount lines grouped by tax rate so
 *   the taxes Tryton computes match Magento's "tax after discount" totals.
 * - Taxes by a map Magento tax percent → Tryton tax ids; an unmapped rate is an error,
 *   not a silently untaxed line.
 */
import { createHash } from "node:crypto";

import {
  lineItems,
  shippingAddress,
  shippingMethod,
  type MagentoAddress,
  type MagentoOrder,
  type OrderLine,
} from "../magento/schema";
import type { SyncError } from "../sync/result";
import {
  abs,
  amount,
  amountText,
  decimalPlaces,
  decimalText,
  divide,
  roundTo,
  sum,
  times,
  type Amount,
} from "../sync/amounts";
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
  kind: "item" | "shipping" | "discount";
  productCode: string;
  productName: string;
  productType: ProductType;
  description: string;
  quantity: number;
  unitPrice: string;
  taxes: number[];
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
  party: PartyDraft;
  invoiceAddress: AddressDraft;
  shipmentAddress: AddressDraft;
  lines: LineDraft[];
  /** Digest of the Magento content the sale is built from (not of the options). */
  contentHash: string;
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

  const lines = saleLines(order, options);
  return {
    orderId: order.entity_id,
    incrementId: order.increment_id,
    magentoState: order.state,
    reference: `${options.referencePrefix}${order.increment_id}`,
    description: `Magento order #${order.increment_id}`,
    saleDate: localDate(order.created_at, options.timeZone),
    currencyCode,
    grandTotal: decimalText(order.grand_total),
    party: {
      email,
      emailKey: email.toLowerCase(),
      name: partyName(order) || email,
      ...(billing.telephone?.trim() ? { phone: billing.telephone.trim() } : {}),
    },
    invoiceAddress,
    shipmentAddress,
    lines,
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

/**
 * The unit price, unless it does not reproduce Magento's row total: a bundle parent's
 * price is its row total divided by the quantity, rounded to the currency (33.33 × 3 ≠
 * 100.00). Then the row total over the quantity with Tryton's 4 decimals is closer.
 */
function unitPriceOf(line: OrderLine, price: string): string {
  if (!line.qty) return price;
  const qty = amount(line.qty);
  const row = amount(line.rowTotal);
  const given = amount(price);
  if (times(given, qty) === row) return price;
  const spread = divide(row, qty, PRICE_DECIMALS);
  return abs(times(spread, qty) - row) < abs(times(given, qty) - row) ? amountText(spread) : price;
}

function productTypeOf(line: OrderLine, option: MappingOptions["productType"]): ProductType {
  if (option !== "auto") return option;
  return line.isVirtual || line.productType === "virtual" || line.productType === "downloadable"
    ? "service"
    : "goods";
}

function saleLines(order: MagentoOrder, options: MappingOptions): LineDraft[] {
  const index = new Map(order.items.map((item, i) => [item, i]));
  const lines: LineDraft[] = [];
  const discountsByTax = new Map<string, { taxes: number[]; total: Amount }>();
  const itemRates = new Set<string>();

  for (const line of lineItems(order, { bundle: options.bundle })) {
    const i = index.get(line.item) ?? order.items.findIndex((it) => it.item_id === line.itemId);
    const price = unitPriceOf(
      line,
      checkPrice(order, line.price, `items.${i}.price`, `the price of ${line.sku}`),
    );
    const tax = taxesFor(order, line.taxPercent, `items.${i}.tax_percent`, options.taxMap);
    if (tax.key) itemRates.add(tax.key);
    lines.push({
      kind: "item",
      productCode: line.sku.trim(),
      productName: line.name.trim() || line.sku.trim(),
      productType: productTypeOf(line, options.productType),
      description: line.name.trim() || line.sku.trim(),
      quantity: line.qty,
      unitPrice: price,
      taxes: tax.taxes,
      quantityField: `items.${i}.qty_ordered`,
      skuField: `items.${i}.sku`,
    });
    if (line.discountAmount) {
      const group = discountsByTax.get(tax.key) ?? { taxes: tax.taxes, total: 0n };
      group.total += amount(line.discountAmount);
      discountsByTax.set(tax.key, group);
    }
  }

  const shippingAmount = order.shipping_amount ?? 0;
  const shippingTaxes = shippingTaxesOf(order, options.taxMap, itemRates);
  const method = shippingMethod(order);
  if (shippingAmount !== 0 || method) {
    const price = checkPrice(order, shippingAmount, "shipping_amount", "the shipping amount");
    lines.push({
      kind: "shipping",
      productCode: options.shippingProduct,
      productName: "Shipping",
      productType: "service",
      description: (order.shipping_description ?? "").trim() || method || "Shipping",
      quantity: 1,
      unitPrice: price,
      taxes: shippingTaxes,
      quantityField: "shipping_amount",
      skuField: "shipping_amount",
    });
  }

  const orderDiscount = order.discount_amount ?? 0;
  if (orderDiscount !== 0) {
    checkPrice(order, orderDiscount, "discount_amount", "the discount");
    const total = abs(amount(orderDiscount));
    const title = (order.discount_description ?? "").trim() || (order.coupon_code ?? "").trim();
    const describe = (suffix: string) => `Discount${title ? ` (${title})` : ""}${suffix}`;
    const groups = [...discountsByTax.entries()].filter(([, g]) => g.total !== 0n);
    for (const [key, group] of groups) {
      lines.push(discountLine(options, describe(key ? ` · tax ${key}%` : ""), group.total, group.taxes));
    }
    // What the items do not explain (e.g. a shipping discount) is taxed like shipping.
    const rest = total - sum(groups.map(([, g]) => g.total));
    if (rest !== 0n)
      lines.push(discountLine(options, describe(groups.length ? " · other" : ""), rest, shippingTaxes));
  }
  return lines;
}

function discountLine(
  options: MappingOptions,
  description: string,
  total: Amount,
  taxes: number[],
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
    quantityField: "discount_amount",
    skuField: "discount_amount",
  };
}

/** Magento gives no shipping tax rate: take the mapped rate that reproduces `shipping_tax_amount`. */
function shippingTaxesOf(order: MagentoOrder, map: TaxMap, itemRates: Set<string>): number[] {
  const taxAmount = order.shipping_tax_amount ?? 0;
  const base = order.shipping_amount ?? 0;
  if (!taxAmount || !base) return [];
  const wanted = amount(taxAmount);
  const cent = amount("0.01");
  const candidates = [...map].sort(
    (a, b) => Number(itemRates.has(amountText(b.percent))) - Number(itemRates.has(amountText(a.percent))),
  );
  for (const rate of candidates) {
    const computed = roundTo(times(amount(base), rate.percent) / 100n, cent);
    if (abs(computed - wanted) <= cent) return rate.taxes;
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
