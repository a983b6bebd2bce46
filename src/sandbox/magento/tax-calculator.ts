/**
 * Order money the way Magento 2's quote totals collectors compute it, for every tax setting of
 * Stores > Configuration > Sales > Tax > Calculation Settings. Pure: a cart in, the order and
 * item money fields out, as Magento stores them. Rules, sources and rounding facts:
 * docs/magento-tax-calculation.md.
 */
import { phpRound } from "./php-round";
import { lineDiscounts, shippingDiscount, type Coupon, type DiscountTarget } from "./tax-discounts";
import {
  parentFromChildren,
  TaxLineCalculator,
  type TaxLine,
  type TaxLineResult,
  type TaxMethod,
} from "./tax-rates";

export type { Coupon, CouponKind } from "./tax-discounts";
export type { TaxMethod } from "./tax-rates";

export interface TaxSettings {
  catalogPricesIncludeTax: boolean;
  shippingPricesIncludeTax: boolean;
  /** "Apply Customer Tax": after discount (true) or before (false). */
  applyTaxAfterDiscount: boolean;
  /** "Apply Discount On Prices": including tax (true) or excluding (false). */
  discountOnPricesIncludingTax: boolean;
  method: TaxMethod;
  /** Cross border trade is off: the store rate is the customer rate here (one rate per line). */
  crossBorderTrade: false;
}

export type CartProductType = "simple" | "virtual" | "downloadable" | "configurable" | "bundle";

export interface CartChild {
  sku: string;
  name: string;
  /** Bundle child: its own catalog price. Configurable child: ignored (the parent carries it). */
  price: number;
  /** Units per one parent unit. */
  qty: number;
  taxPercent: number;
}

export interface CartLine {
  sku: string;
  name: string;
  productType: CartProductType;
  /** Catalog unit price in the base currency (incl. tax when the catalog includes tax); bundle: unused. */
  price: number;
  qty: number;
  taxPercent: number;
  /** An item-only fixed discount per unit (base currency), applied before the coupon. */
  fixedDiscount?: number;
  /** Bundle (dynamic price): priced children. Configurable: the one chosen simple. */
  children?: CartChild[];
}

export interface TaxCart {
  lines: CartLine[];
  /** Shipping in the base currency (incl. tax when shipping prices include tax); 0 for virtual carts. */
  shipping: number;
  shippingTaxPercent: number;
  coupon: Coupon;
  settings: TaxSettings;
  /** Display decimals of the order currency (JPY 0, BHD/KWD 3): Magento still computes with 2. */
  currencyDecimals: 0 | 2 | 3;
  /** Order currency per base currency unit (default 1). */
  baseToOrderRate?: number;
}

const itemMoneyKeys = [
  "price",
  "original_price",
  "price_incl_tax",
  "row_total",
  "row_total_incl_tax",
  "tax_amount",
  "discount_amount",
  "discount_tax_compensation_amount",
] as const;
const orderMoneyKeys = [
  "subtotal",
  "subtotal_incl_tax",
  "shipping_amount",
  "shipping_incl_tax",
  "shipping_tax_amount",
  "shipping_discount_amount",
  "shipping_discount_tax_compensation_amount",
  "discount_amount",
  "tax_amount",
  "discount_tax_compensation_amount",
  "grand_total",
] as const;

type ItemMoneyKey = (typeof itemMoneyKeys)[number];
type OrderMoneyKey = (typeof orderMoneyKeys)[number];
type Money<K extends string> = Record<K | `base_${K}`, number>;

export interface ItemMoney extends Money<ItemMoneyKey> {
  sku: string;
  name: string;
  productType: CartProductType;
  qty: number;
  /** Index (in `items`) of the parent row, for bundle and configurable children. */
  parentIndex?: number;
  tax_percent: number;
  discount_percent: number;
}

export type OrderMoney = Money<OrderMoneyKey>;

export interface TaxTotals {
  items: ItemMoney[];
  order: OrderMoney;
}

/** One row of the order: a top-level line or a child. */
interface Row {
  code: string;
  sku: string;
  name: string;
  productType: CartProductType;
  qty: number;
  /** Catalog price in the base currency, as the calculator receives it. */
  price: number;
  taxPercent: number;
  fixedDiscount?: number;
  role: "line" | "bundleParent" | "bundleChild" | "configurableChild";
  parentIndex?: number;
}

function rowsOf(cart: TaxCart): Row[] {
  const rows: Row[] = [];
  cart.lines.forEach((line) => {
    const parentIndex = rows.length;
    const isBundle = line.productType === "bundle";
    const role = isBundle ? "bundleParent" : "line";
    rows.push({ ...lineIdentity(line), code: `sequence-${rows.length + 1}`, role });
    for (const child of line.children ?? []) {
      rows.push({
        code: `sequence-${rows.length + 1}`,
        sku: child.sku,
        name: child.name,
        productType: "simple",
        qty: child.qty * line.qty,
        price: isBundle ? child.price : 0,
        taxPercent: isBundle ? child.taxPercent : line.taxPercent,
        role: isBundle ? "bundleChild" : "configurableChild",
        parentIndex,
      });
    }
  });
  return rows;
}

function lineIdentity(line: CartLine): Omit<Row, "code" | "role"> {
  const { sku, name, productType, qty, price, taxPercent, fixedDiscount } = line;
  return { sku, name, productType, qty, price, taxPercent, fixedDiscount };
}

/** Rows the tax calculator sees on its own (bundle parents come from their children). */
const isTaxed = (row: Row): boolean => row.role === "line" || row.role === "bundleChild";

export { rowsOf as cartRows };
export type { Row as CartRow };

/** Per currency: the tax results of every row, in row order (undefined: no tax line). */
type RowResults = Array<TaxLineResult | undefined>;

function taxLine(row: Row, rate: number, cart: TaxCart, discount: number): TaxLine {
  return {
    code: row.code,
    unitPrice: row.price * rate,
    qty: row.qty,
    taxPercent: row.taxPercent,
    priceIncludesTax: cart.settings.catalogPricesIncludeTax,
    discount,
  };
}

function shippingLine(cart: TaxCart, rate: number, discount: number): TaxLine {
  return {
    code: "shipping",
    unitPrice: cart.shipping * rate,
    qty: 1,
    taxPercent: cart.shippingTaxPercent,
    rateId: "shipping",
    priceIncludesTax: cart.settings.shippingPricesIncludeTax,
    discount,
  };
}

/** One "calculate tax" call over the rows (and the shipping last, when given). */
function calculateRows(
  rows: Row[],
  cart: TaxCart,
  rate: number,
  discounts: number[],
  shipping?: TaxLine,
): { rows: RowResults; shipping?: TaxLineResult } {
  const calculator = new TaxLineCalculator({
    method: cart.settings.method,
    applyTaxAfterDiscount: cart.settings.applyTaxAfterDiscount,
  });
  const results: RowResults = rows.map(() => undefined);
  rows.forEach((row, i) => {
    if (isTaxed(row)) results[i] = calculator.calculate(taxLine(row, rate, cart, discounts[i] ?? 0));
  });
  rows.forEach((row, i) => {
    if (row.role !== "bundleParent") return;
    const children = rows.flatMap((r, j) => {
      const result = results[j];
      return r.parentIndex === i && result ? [result] : [];
    });
    results[i] = parentFromChildren(children, row.qty);
  });
  return { rows: results, shipping: shipping && calculator.calculate(shipping) };
}

interface Discounts {
  rows: Array<{ amount: number; base: number; percent: number }>;
  shipping: { amount: number; base: number };
}

/** The price a discount rule sees: incl. or excl. tax (CommonTaxCollector::updateItemTaxInfo). */
function discountPrice(result: TaxLineResult | undefined, cart: TaxCart): number {
  if (!result) return 0;
  return cart.settings.discountOnPricesIncludingTax ? result.priceInclTax : result.price;
}

/** The discount collectors, fed with the prices of the tax subtotal and shipping collectors. */
function collectDiscounts(rows: Row[], cart: TaxCart, rate: number): Discounts {
  const none = rows.map(() => 0);
  const before = calculateRows(rows, cart, rate, none).rows;
  const baseBefore = calculateRows(rows, cart, 1, none).rows;
  const targetIndexes = rows.flatMap((row, i) => (isTaxed(row) ? [i] : []));
  const targets: DiscountTarget[] = targetIndexes.map((i) => ({
    qty: rows[i].qty,
    price: discountPrice(before[i], cart),
    basePrice: discountPrice(baseBefore[i], cart),
    fixedDiscount: rows[i].fixedDiscount,
  }));
  const topLevel = rows.flatMap((row, i) => (row.parentIndex === undefined ? [i] : []));
  const amounts = lineDiscounts({
    targets,
    cartFixedBaseTotals: topLevel.reduce((s, i) => s + discountPrice(baseBefore[i], cart) * rows[i].qty, 0),
    cartFixedItemsCount: topLevel.length,
    coupon: cart.coupon,
    rate,
  });
  const byRow = rows.map(() => ({ amount: 0, base: 0, percent: 0 }));
  targetIndexes.forEach((rowIndex, k) => (byRow[rowIndex] = amounts[k]));
  return { rows: byRow, shipping: shippingDiscount(cart.coupon, shippingForDiscount(cart, rate), rate) };
}

/** The shipping amount a shipping discount sees (Validator::processShippingAmount). */
function shippingForDiscount(cart: TaxCart, rate: number): { amount: number; base: number } {
  const pick = (r: number): number => {
    const result = new TaxLineCalculator({
      method: cart.settings.method,
      applyTaxAfterDiscount: cart.settings.applyTaxAfterDiscount,
    }).calculate(shippingLine(cart, r, 0));
    return cart.settings.discountOnPricesIncludingTax ? result.rowTotalInclTax : result.rowTotal;
  };
  return { amount: pick(rate), base: pick(1) };
}

/** MySQL DECIMAL(20,4): what a sales_order / sales_order_item money column keeps. */
const stored = (amount: number): number => phpRound(amount, 4);

const zeroResult: TaxLineResult = {
  price: 0,
  priceInclTax: 0,
  rowTotal: 0,
  rowTotalInclTax: 0,
  rowTax: 0,
  discountTaxCompensation: 0,
  taxPercent: 0,
};

function itemMoney(
  row: Row,
  result: TaxLineResult = zeroResult,
  base: TaxLineResult = zeroResult,
  discount: { amount: number; base: number; percent: number },
  rate: number,
): ItemMoney {
  const pairs: Record<ItemMoneyKey, [number, number]> = {
    price: [result.price, base.price],
    original_price: [row.price * rate, row.price],
    price_incl_tax: [result.priceInclTax, base.priceInclTax],
    row_total: [result.rowTotal, base.rowTotal],
    row_total_incl_tax: [result.rowTotalInclTax, base.rowTotalInclTax],
    tax_amount: [result.rowTax, base.rowTax],
    discount_amount: [discount.amount, discount.base],
    discount_tax_compensation_amount: [result.discountTaxCompensation, base.discountTaxCompensation],
  };
  const money = Object.fromEntries(
    itemMoneyKeys.flatMap((k) => [
      [k, stored(pairs[k][0])],
      [`base_${k}`, stored(pairs[k][1])],
    ]),
  ) as Money<ItemMoneyKey>;
  return {
    sku: row.sku,
    name: row.name,
    productType: row.productType,
    qty: row.qty,
    ...(row.parentIndex === undefined ? {} : { parentIndex: row.parentIndex }),
    ...money,
    tax_percent: result === zeroResult ? 0 : base.taxPercent,
    discount_percent: discount.percent,
  };
}

interface CurrencyTotals {
  rows: RowResults;
  order: Record<OrderMoneyKey, number>;
}

/** The tax collector's pass (items, then shipping) and the grand total, in one currency. */
function currencyTotals(
  rows: Row[],
  cart: TaxCart,
  rate: number,
  discounts: Discounts,
  isBase: boolean,
): CurrencyTotals {
  const pick = (pair: { amount: number; base: number }) => (isBase ? pair.base : pair.amount);
  const rowDiscounts = discounts.rows.map(pick);
  const shippingDiscountAmount = pick(discounts.shipping);
  const pass = calculateRows(
    rows,
    cart,
    rate,
    rowDiscounts,
    shippingLine(cart, rate, shippingDiscountAmount),
  );
  const shipping = pass.shipping ?? zeroResult;
  const counted = rows.flatMap((row, i) => {
    const result = pass.rows[i];
    return isTaxed(row) && result ? [result] : [];
  });
  const sum = (of: (r: TaxLineResult) => number) => counted.reduce((s, r) => s + of(r), 0);
  const subtotal = sum((r) => r.rowTotal);
  const itemTax = sum((r) => r.rowTax);
  const itemCompensation = sum((r) => r.discountTaxCompensation);
  const discount = -(rowDiscounts.reduce((s, d) => s + d, 0) + shippingDiscountAmount);
  const order: Record<OrderMoneyKey, number> = {
    subtotal,
    subtotal_incl_tax: sum((r) => r.rowTotalInclTax),
    shipping_amount: shipping.rowTotal,
    shipping_incl_tax: shipping.rowTotalInclTax,
    shipping_tax_amount: shipping.rowTax,
    shipping_discount_amount: shippingDiscountAmount,
    shipping_discount_tax_compensation_amount: shipping.discountTaxCompensation,
    discount_amount: discount,
    tax_amount: itemTax + shipping.rowTax,
    discount_tax_compensation_amount: itemCompensation,
    grand_total:
      subtotal +
      shipping.rowTotal +
      discount +
      itemTax +
      shipping.rowTax +
      itemCompensation +
      shipping.discountTaxCompensation,
  };
  return { rows: pass.rows, order };
}

/** Order and item money of a cart, in the order currency and the base currency. */
export function calculateTotals(cart: TaxCart): TaxTotals {
  const rate = cart.baseToOrderRate ?? 1;
  const shippingFree = cart.coupon.kind === "free_shipping";
  const effective: TaxCart = shippingFree ? { ...cart, shipping: 0 } : cart;
  const rows = rowsOf(effective);
  const discounts = collectDiscounts(rows, effective, rate);
  const inOrder = currencyTotals(rows, effective, rate, discounts, false);
  const inBase = currencyTotals(rows, effective, 1, discounts, true);
  const items = rows.map((row, i) =>
    itemMoney(row, inOrder.rows[i], inBase.rows[i], discounts.rows[i], rate),
  );
  const order = Object.fromEntries(
    orderMoneyKeys.flatMap((k) => [
      [k, stored(inOrder.order[k])],
      [`base_${k}`, stored(inBase.order[k])],
    ]),
  ) as OrderMoney;
  return { items, order };
}
