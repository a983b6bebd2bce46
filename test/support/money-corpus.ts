/**
 * The money corpus (docs/money.md): 2,000 orders computed by the simulator's port of Magento's
 * tax calculator over every tax setting × coupon kind × currency precision, plus the
 * hand-written cases; which of them Magento computed consistently; and the table per setting
 * that the Tryton and Salesforce money tests print.
 */
import { handWrittenTotalsCases, totalsCorpus } from "../../src/sandbox/magento/totals-corpus";
import { amount, roundTo, sum } from "../../src/sync/amounts";

export type RawOrder = Record<string, unknown> & {
  entity_id: number;
  increment_id: string;
  grand_total: number;
  order_currency_code: string;
  orderbridge_tax_settings?: Record<string, unknown>;
};

export const RATES = ["7.25", "8.25", "10", "19", "20", "21"];
export const CURRENCIES = [
  { code: "KWD", name: "Kuwaiti Dinar", numeric_code: "414", digits: 3, rounding: "0.001" },
  { code: "BHD", name: "Bahraini Dinar", numeric_code: "048", digits: 3, rounding: "0.001" },
];
const MINOR_DIGITS: Record<string, number> = { JPY: 0, KWD: 3, BHD: 3 };

export function corpus(): Array<{ order: RawOrder; group: string }> {
  const address = {
    firstname: "Tax",
    lastname: "Case",
    street: ["1 Market St"],
    city: "San Francisco",
    postcode: "94105",
    country_id: "US",
    region_code: "CA",
    telephone: "555-0100",
  };
  const generated = (totalsCorpus(2000, 1) as unknown as RawOrder[]).map((order) => ({ order, group: "" }));
  const hand = handWrittenTotalsCases().map((c, i) => ({
    order: { ...(c.order as unknown as RawOrder), entity_id: 900_000 + i, increment_id: `H${i}` },
    group: `hand-written: ${c.name}`,
  }));
  return [...generated, ...hand].map(({ order, group }) => ({
    order: { ...order, entity_id: 7_000_000 + order.entity_id, billing_address: address },
    group,
  }));
}

/** Magento computed it consistently: its parts add up to grand_total, and it is not negative. */
export function consistent(o: RawOrder): boolean {
  const n = (k: string) => amount(typeof o[k] === "number" ? (o[k] as number) : 0);
  const parts = sum(
    [
      "subtotal",
      "shipping_amount",
      "tax_amount",
      "discount_amount",
      "discount_tax_compensation_amount",
      "shipping_discount_tax_compensation_amount",
    ].map(n),
  );
  return parts === amount(o.grand_total) && o.grand_total >= 0;
}

/**
 * What the target must total: grand_total at the currency's minor unit (ISO 4217), half up —
 * Magento rounds to 2 decimals whatever the currency and leaves percent shipping discounts
 * unrounded, but a customer is charged in the currency's units.
 */
export function payable(o: RawOrder): bigint {
  const digits = MINOR_DIGITS[o.order_currency_code] ?? 2;
  return roundTo(amount(o.grand_total), amount(`1e-${digits}`));
}

export function groupsOf(order: RawOrder, group: string): string[] {
  if (group) return [group];
  const s = order.orderbridge_tax_settings ?? {};
  return [
    `method ${String(s.method)}`,
    `catalog prices ${s.catalogPricesIncludeTax ? "incl." : "excl."} tax`,
    `shipping prices ${s.shippingPricesIncludeTax ? "incl." : "excl."} tax`,
    `tax ${s.applyTaxAfterDiscount ? "after" : "before"} discount`,
    `discount on prices ${s.discountOnPricesIncludingTax ? "incl." : "excl."} tax`,
    `coupon ${String(s.coupon)}`,
    `currency ${order.order_currency_code}`,
  ];
}

export interface Row {
  orders: number;
  equal: number;
  held: number;
  heldConsistent: number;
  rounding: number;
}

export interface MoneyOutcome {
  equal: boolean;
  held: boolean;
  rounding: boolean;
}

/** Adds one order's outcome to the table rows of its settings. */
export function tally(table: Map<string, Row>, order: RawOrder, group: string, outcome: MoneyOutcome): void {
  const isConsistent = consistent(order);
  for (const key of groupsOf(order, group)) {
    const row = table.get(key) ?? { orders: 0, equal: 0, held: 0, heldConsistent: 0, rounding: 0 };
    row.orders += 1;
    if (outcome.equal) row.equal += 1;
    if (outcome.held) row.held += 1;
    if (outcome.held && isConsistent) row.heldConsistent += 1;
    if (outcome.rounding) row.rounding += 1;
    table.set(key, row);
  }
}

export function tableText(title: string, table: Map<string, Row>): string {
  return [
    `      ${title}`,
    "      | Setting | Orders | Total = grand_total (at the currency's unit) | Held | Held, Magento consistent | With a rounding line |",
    "      | --- | --- | --- | --- | --- | --- |",
    ...[...table].map(
      ([k, r]) =>
        `      | ${k} | ${r.orders} | ${r.equal} | ${r.held} | ${r.heldConsistent} | ${r.rounding} |`,
    ),
  ].join("\n");
}
