/**
 * Orders whose money comes from the tax calculator (docs/magento-tax-calculation.md), spread
 * evenly over every tax setting × coupon kind × currency precision, in the simulator's order
 * record format. Each record names the settings that produced it in `orderbridge_tax_settings`.
 */
import { calculatedItems, calculatedOrderFields } from "./calculated-order";
import { bundles, configurables, downloadableProducts, simpleProducts, virtualProducts } from "./catalog";
import { phpRound } from "./php-round";
import { Prng } from "./prng";
import {
  calculateTotals,
  type CartLine,
  type Coupon,
  type CouponKind,
  type TaxCart,
  type TaxMethod,
  type TaxSettings,
  type TaxTotals,
} from "./tax-calculator";
import type { MagentoOrderRecord } from "./types";

export type CorpusCouponKind =
  CouponKind | "percent_100" | "percent_with_shipping" | "by_fixed_with_shipping";

/** What produced an order: the record's `orderbridge_tax_settings` field. */
export interface TotalsCorpusSettings extends TaxSettings {
  coupon: CorpusCouponKind;
  currencyDecimals: 0 | 2 | 3;
  currency: string;
}

const methods: TaxMethod[] = ["UNIT_BASE_CALCULATION", "ROW_BASE_CALCULATION", "TOTAL_BASE_CALCULATION"];
const couponKinds: CorpusCouponKind[] = [
  "none",
  "percent",
  "percent_100",
  "percent_with_shipping",
  "by_fixed",
  "by_fixed_with_shipping",
  "cart_fixed",
  "free_shipping",
];
interface CorpusCurrency {
  decimals: 0 | 2 | 3;
  code: string;
  /** Order currency per USD (the base currency). */
  rate: number;
}
const currencyByDecimals: readonly CorpusCurrency[] = [
  { decimals: 2, code: "EUR", rate: 0.92 },
  { decimals: 0, code: "JPY", rate: 151.37 },
  { decimals: 3, code: "KWD", rate: 0.307 },
];
const taxPercents = [0, 7.25, 8.25, 10, 19, 20, 21];
const flags = [false, true];

/** Every combination, in a fixed order: order i of the corpus takes combination i mod length. */
export function totalsCorpusCombinations(): TotalsCorpusSettings[] {
  const combos: TotalsCorpusSettings[] = [];
  for (const method of methods)
    for (const catalogPricesIncludeTax of flags)
      for (const shippingPricesIncludeTax of flags)
        for (const applyTaxAfterDiscount of flags)
          for (const discountOnPricesIncludingTax of flags)
            for (const coupon of couponKinds)
              for (const currency of currencyByDecimals)
                combos.push({
                  method,
                  catalogPricesIncludeTax,
                  shippingPricesIncludeTax,
                  applyTaxAfterDiscount,
                  discountOnPricesIncludingTax,
                  crossBorderTrade: false,
                  coupon,
                  currencyDecimals: currency.decimals,
                  currency: currency.code,
                });
  return combos;
}

function couponOf(kind: CorpusCouponKind): Coupon {
  if (kind === "percent_100") return { kind: "percent", amount: 100 };
  if (kind === "percent_with_shipping") return { kind: "percent", amount: 15, applyToShipping: true };
  if (kind === "by_fixed_with_shipping") return { kind: "by_fixed", amount: 2.5, applyToShipping: true };
  if (kind === "percent") return { kind, amount: 12.5 };
  if (kind === "by_fixed") return { kind, amount: 3 };
  if (kind === "cart_fixed") return { kind, amount: 17.35 };
  return { kind, amount: 0 };
}

/** A catalog price with odd cents, so that rounding has something to do. */
const oddPrice = (rng: Prng, price: number): number => phpRound(price * (0.8 + rng.next() * 0.4), 2);

function randomLine(rng: Prng, taxPercent: number): CartLine {
  const qty = rng.weighted([
    [1, 60],
    [2, 25],
    [3, 15],
  ] as const);
  const kind = rng.weighted([
    ["simple", 45],
    ["virtual", 10],
    ["downloadable", 10],
    ["configurable", 20],
    ["bundle", 15],
  ] as const);
  if (kind === "configurable") {
    const c = rng.pick(configurables);
    const child = { sku: c.sku, name: c.childName, price: 0, qty: 1, taxPercent };
    return {
      sku: c.sku,
      name: c.name,
      productType: kind,
      price: oddPrice(rng, c.price),
      qty,
      taxPercent,
      children: [child],
    };
  }
  if (kind === "bundle") {
    const b = rng.pick(bundles);
    const children = b.children.map((p) => ({
      sku: p.sku,
      name: p.name,
      price: oddPrice(rng, p.price),
      qty: rng.int(1, 2),
      taxPercent,
    }));
    const sku = [b.skuPrefix, ...b.children.map((c) => c.sku)].join("-");
    return { sku, name: b.name, productType: kind, price: 0, qty, taxPercent, children };
  }
  const list =
    kind === "simple" ? simpleProducts : kind === "virtual" ? virtualProducts : downloadableProducts;
  const p = rng.pick(list);
  return { sku: p.sku, name: p.name, productType: kind, price: oddPrice(rng, p.price), qty, taxPercent };
}

function randomCart(rng: Prng, combo: TotalsCorpusSettings): TaxCart {
  const taxPercent = rng.pick(taxPercents);
  const lines = Array.from({ length: rng.int(1, 4) }, () => randomLine(rng, taxPercent));
  if (rng.chance(0.1)) lines[0] = { ...lines[0], fixedDiscount: 1 };
  const shippedUnits = lines.filter((l) => l.productType !== "virtual" && l.productType !== "downloadable");
  const units = shippedUnits.reduce((s, l) => s + l.qty, 0);
  const currency = currencyByDecimals.find((c) => c.code === combo.currency) ?? currencyByDecimals[0];
  const { coupon, currencyDecimals, currency: code, ...settings } = combo;
  void code;
  return {
    lines,
    shipping: units > 0 ? phpRound(4.99 + 1.25 * units, 2) : 0,
    shippingTaxPercent: rng.pick([taxPercent, 0, 20]),
    coupon: couponOf(coupon),
    settings,
    currencyDecimals,
    baseToOrderRate: currency.rate,
  };
}

const corpusStart = Date.UTC(2024, 5, 3, 8, 0, 0);
const magentoDate = (ms: number): string => new Date(ms).toISOString().slice(0, 19).replace("T", " ");

function orderRecord(
  entityId: number,
  combo: TotalsCorpusSettings,
  cart: TaxCart,
  totals: TaxTotals,
): MagentoOrderRecord {
  const createdAt = magentoDate(corpusStart + entityId * 60_000);
  const couponCode = cart.coupon.kind === "none" ? undefined : `TAX-${combo.coupon.toUpperCase()}`;
  const items = calculatedItems(totals, {
    orderId: entityId,
    itemId: (i) => entityId * 100 + i,
    createdAt,
    ...(couponCode ? { ruleIds: "7" } : {}),
  });
  return {
    entity_id: entityId,
    increment_id: String(300000000 + entityId),
    state: "new",
    status: "pending",
    created_at: createdAt,
    updated_at: createdAt,
    store_id: 1,
    customer_email: `tax-${entityId}@example.com`,
    customer_firstname: "Tax",
    customer_lastname: `Case ${entityId}`,
    customer_is_guest: 1,
    ...calculatedOrderFields(cart, totals, {
      currency: combo.currency,
      ...(couponCode ? { coupon: { code: couponCode, ruleIds: "7" } } : {}),
    }),
    items,
    payment: {
      method: "checkmo",
      amount_ordered: totals.order.grand_total,
      entity_id: entityId,
      parent_id: entityId,
    },
    status_histories: [],
    orderbridge_tax_settings: combo,
  };
}

/**
 * `count` orders, deterministic per (count, seed), spread evenly over every tax setting ×
 * coupon kind × currency precision: order i uses combination i mod the number of combinations.
 */
export function totalsCorpus(count: number, seed = 1): MagentoOrderRecord[] {
  const rng = new Prng(seed);
  const combos = totalsCorpusCombinations();
  return Array.from({ length: count }, (_, i) => {
    const combo = combos[i % combos.length];
    const cart = randomCart(rng, combo);
    return orderRecord(i + 1, combo, cart, calculateTotals(cart));
  });
}

export interface HandWrittenTotalsCase {
  name: string;
  order: MagentoOrderRecord;
}

const baseSettings: TaxSettings = {
  catalogPricesIncludeTax: false,
  shippingPricesIncludeTax: false,
  applyTaxAfterDiscount: true,
  discountOnPricesIncludingTax: false,
  method: "TOTAL_BASE_CALCULATION",
  crossBorderTrade: false,
};

interface CaseSpec {
  name: string;
  lines: CartLine[];
  coupon?: CorpusCouponKind;
  settings?: Partial<TaxSettings>;
  currency?: CorpusCurrency;
  shipping?: number;
}

function handWrittenCase(spec: CaseSpec, entityId: number): HandWrittenTotalsCase {
  const currency = spec.currency ?? currencyByDecimals[0];
  const couponKind = spec.coupon ?? "none";
  const settings = { ...baseSettings, ...spec.settings };
  const combo: TotalsCorpusSettings = {
    ...settings,
    coupon: couponKind,
    currencyDecimals: currency.decimals,
    currency: currency.code,
  };
  const cart: TaxCart = {
    lines: spec.lines,
    shipping: spec.shipping ?? 5,
    shippingTaxPercent: 20,
    coupon: couponOf(couponKind),
    settings,
    currencyDecimals: currency.decimals,
    baseToOrderRate: currency.rate,
  };
  return { name: spec.name, order: orderRecord(900000 + entityId, combo, cart, calculateTotals(cart)) };
}

const line = (sku: string, price: number, qty: number, taxPercent = 20): CartLine => ({
  sku,
  name: sku,
  productType: "simple",
  price,
  qty,
  taxPercent,
});

/**
 * Real Magento orders exist whose item row_total is already price × qty − discount_amount while
 * the order still carries the discount in discount_amount (an extension rewriting row totals):
 * the calculator never produces that, so this case edits a calculated order after the fact.
 */
function rowTotalNetOfDiscount(entityId: number): HandWrittenTotalsCase {
  const base = handWrittenCase(
    { name: "row total net of its discount", lines: [line("MS09-M-Red", 32.5, 2)], coupon: "percent" },
    entityId,
  );
  for (const item of base.order.items) {
    const discount = Number(item.discount_amount);
    item.row_total = phpRound(Number(item.price) * item.qty_ordered - discount, 4);
    item.base_row_total = phpRound(
      Number(item.base_price) * item.qty_ordered - Number(item.base_discount_amount),
      4,
    );
  }
  return base;
}

/** The special cases, each its own order (entity ids 900001…). */
export function handWrittenTotalsCases(): HandWrittenTotalsCase[] {
  const [eur, jpy, kwd] = currencyByDecimals;
  const bhd: CorpusCurrency = { decimals: 3, code: "BHD", rate: 0.376 };
  const kit = bundles[0];
  const bundle: CartLine = {
    sku: [kit.skuPrefix, ...kit.children.map((c) => c.sku)].join("-"),
    name: kit.name,
    productType: "bundle",
    price: 0,
    qty: 2,
    taxPercent: 20,
    children: kit.children.map((c, i) => ({
      sku: c.sku,
      name: c.name,
      price: c.price + 0.33,
      qty: 1 + (i % 2),
      taxPercent: 20,
    })),
  };
  const specs: CaseSpec[] = [
    { name: "JPY, 0 decimals", lines: [line("24-MB01", 34.99, 3)], currency: jpy, coupon: "percent" },
    { name: "KWD, 3 decimals", lines: [line("24-MB04", 32.49, 1)], currency: kwd, coupon: "cart_fixed" },
    { name: "BHD, 3 decimals", lines: [line("24-UG06", 7.79, 3, 10)], currency: bhd },
    {
      name: "tax-inclusive catalog, discount on prices incl. tax",
      lines: [line("24-WB04", 11.99, 3, 19)],
      settings: {
        catalogPricesIncludeTax: true,
        shippingPricesIncludeTax: true,
        discountOnPricesIncludingTax: true,
      },
      coupon: "percent_with_shipping",
    },
    { name: "100 % coupon", lines: [line("24-WG085", 14, 2)], coupon: "percent_100", currency: eur },
    { name: "bundle, dynamic price", lines: [bundle], coupon: "percent" },
    {
      name: "configurable, parent carries the price",
      lines: [
        {
          ...line("MH01-S-Gray", 52, 1),
          productType: "configurable",
          name: "Chaz Kangeroo Hoodie",
          children: [
            { sku: "MH01-S-Gray", name: "Chaz Kangeroo Hoodie-S-Gray", price: 0, qty: 1, taxPercent: 20 },
          ],
        },
      ],
      coupon: "by_fixed",
    },
  ];
  const cases = specs.map((spec, i) => handWrittenCase(spec, i + 1));
  return [...cases, rowTotalNetOfDiscount(specs.length + 1)];
}
