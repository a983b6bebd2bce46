/**
 * What a Magento order's amounts say, read so that they add up to `grand_total` exactly —
 * the one reading both targets build their lines from (docs/money.md).
 *
 * Magento's order carries each amount twice over (unit and row, with and without tax, item
 * and order discounts); real shops' orders do not all fill them the same way. Each item's
 * amount before discount is read from `price × qty_ordered` unless the row says otherwise:
 * - `row_total`: a bundle parent's price is its row total ÷ quantity, rounded, so the row
 *   total is the amount (33.33 × 3 ≠ 100.00);
 * - `row_total already net of discount`: the row total is `price × qty − discount_amount`
 *   while the order still carries the discount in `discount_amount`; the row is read from the
 *   price, so the discount is counted once.
 * The reading is kept only if the order balances under it:
 *   Σ items − discount (excl. tax) + shipping + tax = grand_total,
 * where a discount taken from prices including tax holds the tax Magento reports as
 * `discount_tax_compensation_amount` (and `shipping_discount_tax_compensation_amount`).
 */
import { abs, amount, amountText, roundTo, sum, times, type Amount } from "../sync/amounts";
import { lineItems, type LineItemOptions, type MagentoOrder, type OrderLine } from "./schema";

export type ItemReading = "price" | "row_total" | "row_total_net_of_discount";

export interface ItemAmounts {
  line: OrderLine;
  reading: ItemReading;
  /** The quantity's amount before discount, excluding tax. */
  gross: Amount;
  /** The item's discount excluding tax, positive. */
  discount: Amount;
  taxPercent: Amount;
  /** Magento's tax on the row. */
  tax: Amount;
}

export interface OrderAmounts {
  items: ItemAmounts[];
  /** Shipping excluding tax. */
  shipping: Amount;
  shippingTax: Amount;
  /** The whole order's discount excluding tax, positive (items' and what they do not explain). */
  discount: Amount;
  tax: Amount;
  grandTotal: Amount;
  /**
   * `grand_total` at the currency's minor unit (ISO 4217), half up: what a customer can be
   * charged. Magento rounds to 2 decimals whatever the currency (fractional yen) and leaves a
   * percent discount on shipping unrounded (60.228 EUR); the targets hold this amount.
   */
  payable: Amount;
  /** Says how `payable` was taken, when it differs from `grand_total`. */
  payableNote?: string;
  /** Whether tax was taken after the discount ("Apply Customer Tax: After Discount"). */
  taxAfterDiscount: boolean;
  /** Items not read as `price × qty_ordered`, e.g. `items.2: row_total`. */
  readings: string[];
  /**
   * At most how many amounts Magento rounded on the way to `grand_total`: per unit of a taxed
   * row its price (from a price incl. tax) and its tax (per-unit shops), a discount per row,
   * shipping's amount and tax, and the order.
   */
  roundings: number;
  /** Why Magento's own amounts do not add up to `grand_total`, under any reading. */
  unbalanced?: string;
}

export function orderAmounts(order: MagentoOrder, options: LineItemOptions = {}): OrderAmounts {
  const index = new Map(order.items.map((item, i) => [item, i]));
  const lines = lineItems(order, options);
  const chosen = lines.map((line) => readItem(line, itemReading(line)));
  const totals = orderTotals(order);
  const candidates: ItemAmounts[][] = [
    chosen,
    lines.map((line) => readItem(line, "price")),
    lines.map((line) => readItem(line, "row_total")),
  ];
  const items = candidates.find((c) => balance(c, totals) === 0n) ?? chosen;
  const gap = balance(items, totals);
  const taxAfterDiscount = tookTaxAfterDiscount(items);
  const payable = payableOf(totals.grandTotal, order.order_currency_code);
  return {
    payable,
    ...(payable === totals.grandTotal
      ? {}
      : {
          payableNote: `grand_total ${amountText(totals.grandTotal)} ${order.order_currency_code} taken as ${amountText(payable)}, the currency's smallest unit`,
        }),
    items,
    shipping: totals.shipping,
    shippingTax: totals.shippingTax,
    discount: totals.discount,
    tax: totals.tax,
    grandTotal: totals.grandTotal,
    taxAfterDiscount,
    roundings: magentoRoundings(order),
    readings: items
      .filter((it) => it.reading !== "price")
      .map((it) => `items.${index.get(it.line.item) ?? "?"}: ${it.reading.replaceAll("_", " ")}`),
    ...(gap === 0n ? {} : { unbalanced: unbalancedText(items, totals) }),
  };
}

/** The reading an item's own fields point to. */
function itemReading(line: OrderLine): ItemReading {
  const byPrice = times(amount(line.price), amount(line.qty));
  const row = amount(line.rowTotal);
  if (row === byPrice) return "price";
  const discount = amount(line.discountAmount);
  if (discount !== 0n && row === byPrice - discount) return "row_total_net_of_discount";
  return "row_total";
}

function readItem(line: OrderLine, reading: ItemReading): ItemAmounts {
  const compensation = amount(line.discountTaxCompensation);
  return {
    line,
    reading,
    gross: reading === "row_total" ? amount(line.rowTotal) : times(amount(line.price), amount(line.qty)),
    discount: amount(line.discountAmount) - compensation,
    taxPercent: amount(line.taxPercent),
    tax: amount(line.taxAmount),
  };
}

interface OrderTotals {
  currency: string;
  shipping: Amount;
  shippingTax: Amount;
  discount: Amount;
  tax: Amount;
  grandTotal: Amount;
}

function orderTotals(order: MagentoOrder): OrderTotals {
  // Bundle children carry their compensation, a configurable its parent: every row counts.
  const itemCompensation = sum(order.items.map((it) => amount(it.discount_tax_compensation_amount ?? 0)));
  const compensation =
    order.discount_tax_compensation_amount === undefined
      ? itemCompensation
      : amount(order.discount_tax_compensation_amount);
  // Magento reports shipping's compensation beside the items' (the grand total adds both).
  const shippingCompensation = amount(order.shipping_discount_tax_compensation_amount ?? 0);
  return {
    currency: order.order_currency_code,
    shipping: amount(order.shipping_amount ?? 0),
    shippingTax: amount(order.shipping_tax_amount ?? 0),
    discount: abs(amount(order.discount_amount ?? 0)) - compensation - shippingCompensation,
    tax: amount(order.tax_amount ?? 0),
    grandTotal: amount(order.grand_total),
  };
}

/** grand_total − (items − discount + shipping + tax): 0 when the order adds up. */
/** Compared at the currency's minor unit, as the amount to pay is (`payable`). */
function balance(items: ItemAmounts[], totals: OrderTotals): Amount {
  const parts = sum(items.map((it) => it.gross)) - totals.discount + totals.shipping + totals.tax;
  return payableOf(totals.grandTotal, totals.currency) - payableOf(parts, totals.currency);
}

function unbalancedText(items: ItemAmounts[], totals: OrderTotals): string {
  const t = amountText;
  const gross = sum(items.map((it) => it.gross));
  const parts = gross - totals.discount + totals.shipping + totals.tax;
  return (
    `Magento's own amounts do not add up: items ${t(gross)} − discount ${t(totals.discount)} + ` +
    `shipping ${t(totals.shipping)} + tax ${t(totals.tax)} = ${t(parts)}, grand_total is ${t(totals.grandTotal)}`
  );
}

const taxOn = (base: Amount, percent: Amount): Amount => times(base, percent) / 100n;

/** The reading of "tax after discount" under which the items' tax is closer to Magento's. */
function tookTaxAfterDiscount(items: ItemAmounts[]): boolean {
  const taxed = items.filter((it) => it.taxPercent !== 0n && it.discount !== 0n);
  if (taxed.length === 0) return true;
  const reported = sum(taxed.map((it) => it.tax));
  const after = sum(taxed.map((it) => taxOn(it.gross - it.discount, it.taxPercent)));
  const before = sum(taxed.map((it) => taxOn(it.gross, it.taxPercent)));
  return abs(reported - after) <= abs(reported - before);
}

function magentoRoundings(order: MagentoOrder): number {
  let count = 3;
  for (const item of order.items) {
    if (item.tax_percent) count += 2 * Math.max(1, Math.ceil(item.qty_ordered));
    if (item.discount_amount) count += 1;
  }
  return count;
}

// ISO 4217 minor units: the currencies with other than 2 decimals.
const NO_DECIMALS = new Set("BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF".split(" "));
const THREE_DECIMALS = new Set("BHD IQD JOD KWD LYD OMR TND".split(" "));

/** The smallest amount of a currency by ISO 4217 (`JPY` → 1, `BHD` → 0.001, others 0.01). */
export function minorUnitStep(currencyCode: string): Amount {
  const code = currencyCode.toUpperCase();
  return amount(NO_DECIMALS.has(code) ? "1" : THREE_DECIMALS.has(code) ? "0.001" : "0.01");
}

/** An amount at the currency's minor unit, half away from zero (PHP's and Magento's rounding). */
export function payableOf(value: Amount, currencyCode: string): Amount {
  return roundTo(value, minorUnitStep(currencyCode));
}
