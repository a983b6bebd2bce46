/**
 * Salesforce amounts as the org holds them (src/salesforce/order-amounts.ts): the decimals of
 * the org (UnitPrice scale, or the currency's DecimalPlaces), the rounding line that makes the
 * Order total equal Magento's grand total, the orders that cannot be held, and the same through
 * the simulator, where an Order's TotalAmount is the exact sum of what was written.
 */
import assert from "node:assert/strict";
import type { MagentoOrder, MagentoOrderItem } from "../../src/magento/schema";
import { decimalsFor, fitLines, type FittedLines } from "../../src/salesforce/order-amounts";
import { mapOrder, type WantedLine } from "../../src/salesforce/order-mapping";
import { pushSettings, type PushSettingsInput } from "../../src/salesforce/settings";
import { amount, amountText, sum, times } from "../../src/sync/amounts";
import {
  apiCallsOf,
  byKey,
  clone,
  orders,
  pusher,
  simulator,
  stopAll,
  type Rec,
} from "./salesforce-fixtures";

interface Shape {
  entityId?: number;
  currency: string;
  /** `rowTotal`: Magento's row when the price does not reproduce it (a bundle priced as a whole). */
  items: {
    price: number;
    qty: number;
    rowTotal?: number;
    sku?: string;
    children?: { price: number; qty: number }[];
  }[];
  shipping?: number;
  discount?: number;
  tax?: number;
  discountTaxCompensation?: number;
  shippingDiscountTaxCompensation?: number;
  grandTotal: number;
}

const template = orders(1, 3)[0];

/** A realistic Magento order (addresses, customer, dates from the seed) with these amounts. */
function orderOf(shape: Shape): MagentoOrder {
  const o = clone(template);
  const id = shape.entityId ?? 9000;
  let itemId = id * 10;
  const items: MagentoOrderItem[] = [];
  for (const [i, it] of shape.items.entries()) {
    const parentId = ++itemId;
    items.push({
      item_id: parentId,
      sku: it.sku ?? `SKU-${i + 1}`,
      name: `Product ${i + 1}`,
      product_type: it.children ? "bundle" : "simple",
      qty_ordered: it.qty,
      price: it.price,
      base_price: it.price,
      row_total: it.rowTotal ?? Number((it.price * it.qty).toFixed(2)),
    } as MagentoOrderItem);
    for (const [j, child] of (it.children ?? []).entries()) {
      items.push({
        item_id: ++itemId,
        parent_item_id: parentId,
        sku: `SKU-${i + 1}-${j + 1}`,
        name: `Component ${j + 1}`,
        product_type: "simple",
        qty_ordered: child.qty,
        price: child.price,
        row_total: Number((child.price * child.qty).toFixed(2)),
      } as MagentoOrderItem);
    }
  }
  return {
    ...o,
    entity_id: id,
    increment_id: String(100000000 + id),
    order_currency_code: shape.currency,
    base_currency_code: shape.currency,
    items,
    shipping_amount: shape.shipping ?? 0,
    base_shipping_amount: shape.shipping ?? 0,
    discount_amount: shape.discount ?? 0,
    base_discount_amount: shape.discount ?? 0,
    tax_amount: shape.tax ?? 0,
    base_tax_amount: shape.tax ?? 0,
    discount_tax_compensation_amount: shape.discountTaxCompensation ?? 0,
    base_discount_tax_compensation_amount: shape.discountTaxCompensation ?? 0,
    shipping_discount_tax_compensation_amount: shape.shippingDiscountTaxCompensation ?? 0,
    base_shipping_discount_tax_compensation_amnt: shape.shippingDiscountTaxCompensation ?? 0,
    grand_total: shape.grandTotal,
    base_grand_total: shape.grandTotal,
  } as MagentoOrder;
}

const fit = (o: MagentoOrder, decimals: number, settings: PushSettingsInput = {}): FittedLines => {
  const s = pushSettings(settings);
  return fitLines(mapOrder(o, s), decimals, s.roundingSku, `#${o.increment_id}`);
};

function linesOf(result: FittedLines): WantedLine[] {
  assert.ok(result.ok, result.ok ? "" : result.error.message);
  return result.lines;
}

/** What Salesforce totals: the sum of UnitPrice × Quantity, exact. */
const totalOf = (lines: { unitPrice: number; quantity: number }[]): string =>
  amountText(sum(lines.map((l) => times(amount(l.unitPrice), amount(l.quantity)))));

const decimalsOf = (n: number): number => (String(n).split(".")[1] ?? "").length;

/** The BHD order: 2 × 12.345 + shipping 1.125 − discount 1.235 = 24.580. */
const BHD_ORDER: Shape = {
  currency: "BHD",
  items: [{ price: 12.345, qty: 2 }],
  shipping: 1.125,
  discount: -1.235,
  grandTotal: 24.58,
};

describe("Salesforce amounts: the decimals the org holds and the rounding line", () => {
  it("keeps a BHD order's three decimals in a 3-decimal org: lines 12.345 / 1.125 / −1.235 add up to 24.580", () => {
    const lines = linesOf(fit(orderOf(BHD_ORDER), 3));
    assert.deepEqual(
      lines.map((l) => [l.kind, l.unitPrice, l.quantity]),
      [
        ["item", 12.345, 2],
        ["shipping", 1.125, 1],
        ["discount", -1.235, 1],
      ],
    );
    assert.equal(totalOf(lines), "24.58");
  });

  it("writes a 2-decimal USD order as it is, without a rounding line", () => {
    const o = orderOf({
      currency: "USD",
      items: [
        { price: 19.99, qty: 3 },
        { price: 5.5, qty: 1 },
      ],
      shipping: 4.95,
      discount: -6.55,
      tax: 5.12,
      grandTotal: 68.99,
    });
    const lines = linesOf(fit(o, 2));
    assert.ok(!lines.some((l) => l.kind === "rounding"));
    assert.equal(totalOf(lines), "68.99");
  });

  it("rounds a bundle's 33.3333 unit price to the org's decimals and adds the cent it loses as a rounding line", () => {
    const o = orderOf({ currency: "USD", items: [{ price: 33.3333, qty: 3 }], grandTotal: 100 });
    const lines = linesOf(fit(o, 2));
    assert.deepEqual(
      lines.map((l) => [l.key.replace(/^magento-\d+-/, ""), l.kind, l.sku, l.unitPrice, l.quantity]),
      [
        ["90001", "item", "SKU-1", 33.33, 3],
        ["rounding", "rounding", "MAGENTO-ROUNDING", 0.01, 1],
      ],
    );
    assert.equal(totalOf(lines), "100");
  });

  it("rounds JPY to whole yen (DecimalPlaces 0) and keeps the total", () => {
    const o = orderOf({
      currency: "JPY",
      items: [{ price: 333.33, qty: 3, rowTotal: 1000 }],
      shipping: 500,
      tax: 150,
      grandTotal: 1650,
    });
    const lines = linesOf(fit(o, 0));
    assert.deepEqual(
      lines.map((l) => [l.kind, l.unitPrice]),
      [
        ["item", 333],
        ["shipping", 500],
        ["tax", 150],
        ["rounding", 1],
      ],
    );
    assert.ok(lines.every((l) => decimalsOf(l.unitPrice) === 0));
    assert.equal(totalOf(lines), "1650");
  });

  it("takes a multi-currency org's DecimalPlaces of the order's currency over the field's scale", () => {
    const org = {
      amountScale: 2,
      currencyDecimals: new Map([
        ["USD", 2],
        ["BHD", 3],
        ["JPY", 0],
      ]),
    };
    assert.equal(decimalsFor(org, "BHD"), 3);
    assert.equal(decimalsFor(org, "jpy"), 0);
    assert.equal(decimalsFor(org, "EUR"), 2, "a currency the org did not list: the field's scale");
    assert.equal(
      decimalsFor({ amountScale: 4, currencyDecimals: new Map() }, "BHD"),
      4,
      "single-currency org",
    );
    assert.equal(totalOf(linesOf(fit(orderOf(BHD_ORDER), decimalsFor(org, "BHD")))), "24.58");
  });

  it("reports a BHD order an org with 2 decimals cannot hold (24.585) instead of rounding it", () => {
    const o = orderOf({ ...BHD_ORDER, items: [{ price: 12.3475, qty: 2 }], grandTotal: 24.585 });
    const result = fit(o, 2);
    assert.ok(!result.ok);
    assert.equal(result.error.code, "currency_precision");
    assert.equal(result.error.field, "grand_total");
    assert.match(
      result.error.message,
      /#100009000 totals 24\.585 BHD, but this Salesforce org holds BHD amounts with 2 decimal places/,
    );
    assert.match(result.error.message, /Manage Currencies/);
  });

  it("rounds 24.580 into 2-decimal lines whose total is still 24.58 (a 24.580 grand total fits 2 decimals)", () => {
    const lines = linesOf(fit(orderOf(BHD_ORDER), 2));
    assert.deepEqual(
      lines.map((l) => [l.kind, l.unitPrice]),
      [
        ["item", 12.35],
        ["shipping", 1.13],
        ["discount", -1.24],
        ["rounding", -0.01],
      ],
    );
    assert.equal(totalOf(lines), "24.58");
  });

  it("adds up for a tax-inclusive catalog with discounts: the discount line leaves out the discount tax compensation", () => {
    // 119.00 incl. 19% tax, 10% off the price with tax (item 11.90, shipping 1.19); tax after the discount.
    const o = orderOf({
      currency: "EUR",
      items: [{ price: 100, qty: 1 }],
      shipping: 10,
      discount: -13.09,
      tax: 18.81,
      discountTaxCompensation: 1.9,
      shippingDiscountTaxCompensation: 0.19,
      grandTotal: 117.81,
    });
    const lines = linesOf(fit(o, 2));
    assert.deepEqual(
      lines.map((l) => [l.kind, l.unitPrice]),
      [
        ["item", 100],
        ["shipping", 10],
        ["discount", -11],
        ["tax", 18.81],
      ],
    );
    assert.equal(totalOf(lines), "117.81");
  });

  it("reads the base-currency compensation from Magento's shortened column name", () => {
    const o = {
      ...orderOf({ currency: "EUR", items: [{ price: 100, qty: 1 }], discount: -10, grandTotal: 90 }),
      base_discount_amount: -10,
      base_shipping_discount_tax_compensation_amnt: 0.5,
      base_grand_total: 90.5,
    } as MagentoOrder;
    const lines = linesOf(fit(o, 2, { amounts: "base" }));
    assert.equal(lines.find((l) => l.kind === "discount")?.unitPrice, -9.5);
    assert.equal(totalOf(lines), "90.5");
  });

  it("holds an order whose amounts do not add up (store credit the pack does not map), naming the sums", () => {
    const o = orderOf({ currency: "USD", items: [{ price: 80, qty: 1 }], grandTotal: 30 });
    const result = fit(o, 2);
    assert.ok(!result.ok);
    assert.equal(result.error.code, "mismatch");
    assert.match(result.error.message, /do not add up: items 80 .* grand_total is 30; it was not written/);
  });

  it("leaves the rounding line out when its SKU is empty, and a fee whose SKU is empty out of the total", () => {
    const bundle = orderOf({ currency: "USD", items: [{ price: 33.3333, qty: 3 }], grandTotal: 100 });
    const noRounding = linesOf(fit(bundle, 2, { roundingSku: "" }));
    assert.deepEqual(
      noRounding.map((l) => l.kind),
      ["item"],
    );
    const taxed = orderOf({ currency: "USD", items: [{ price: 10, qty: 2 }], tax: 1.65, grandTotal: 21.65 });
    const noTax = linesOf(fit(taxed, 2, { taxSku: "" }));
    assert.deepEqual(
      noTax.map((l) => [l.kind, l.unitPrice]),
      [["item", 10]],
      "the tax is left out, not turned into a rounding line",
    );
  });
});

describe("Salesforce amounts through the simulator: TotalAmount equals grand_total", function () {
  this.timeout(60_000);
  afterEach(stopAll);

  const cases: Shape[] = [
    { ...BHD_ORDER, entityId: 9001 },
    {
      entityId: 9002,
      currency: "JPY",
      items: [{ price: 333.33, qty: 3, rowTotal: 1000 }],
      shipping: 500,
      tax: 150,
      grandTotal: 1650,
    },
    {
      entityId: 9003,
      currency: "USD",
      items: [{ price: 100, qty: 1, children: [{ price: 33.3333, qty: 3 }] }],
      grandTotal: 100,
    },
    {
      entityId: 9004,
      currency: "USD",
      items: [{ price: 33.3333, qty: 3, sku: "BUNDLE-3" }],
      shipping: 5,
      grandTotal: 105,
    },
  ];

  it("writes BHD, JPY and a 33.3333 bundle to a multi-currency org so the Order totals are exact, in the setup check's one call", async () => {
    const sim = await simulator({ multiCurrency: true, currencies: ["USD", "BHD", "JPY"] });
    const push = pusher(sim, { bundle: "children" });
    const check = await apiCallsOf(sim, () => push.checkSetup());
    assert.equal(check.calls, 1, "describes, statuses, price books and currencies in one composite");
    assert.equal(check.value.amountScale, 2);
    assert.deepEqual(
      [...check.value.currencyDecimals],
      [
        ["USD", 2],
        ["BHD", 3],
        ["JPY", 0],
      ],
    );
    const list = cases.map(orderOf);
    const summary = await push.push(list);
    assert.deepEqual(
      summary.results.map((r) => r.action),
      ["created", "created", "created", "created"],
      JSON.stringify(summary.failures),
    );
    const sfOrders = byKey(sim.db.records("Order"), "Magento_Order_Key__c");
    const items = sim.db.records("OrderItem");
    for (const o of list) {
      const sf = sfOrders.get(`magento-${o.entity_id}`) as Rec;
      assert.equal(
        sf.TotalAmount,
        o.grand_total,
        `TotalAmount of #${o.increment_id} (${o.order_currency_code})`,
      );
      const places = { USD: 2, BHD: 3, JPY: 0 }[o.order_currency_code] as number;
      for (const item of items.filter((i) => i.OrderId === sf.Id))
        assert.ok(
          decimalsOf(item.UnitPrice as number) <= places,
          `${String(item.UnitPrice)} in ${o.order_currency_code}`,
        );
    }
    const rounding = byKey(items, "Magento_Item_Key__c");
    assert.equal(rounding.get("magento-9002-rounding")?.UnitPrice, 1);
    assert.equal(rounding.get("magento-9003-rounding")?.UnitPrice, 0.01);
    assert.equal(rounding.get("magento-9004-rounding")?.UnitPrice, 0.01);
    assert.equal(rounding.has("magento-9001-rounding"), false);

    const again = await apiCallsOf(sim, () => push.push(list));
    assert.ok(
      again.value.results.every((r) => r.action === "unchanged"),
      "re-sync: nothing to write",
    );
    assert.equal(again.calls, 1);
  });

  it("fails only the BHD order a 2-decimal single-currency org cannot hold, naming the amount", async () => {
    const sim = await simulator();
    const list = [
      orderOf({ ...BHD_ORDER, entityId: 9011, items: [{ price: 12.3475, qty: 2 }], grandTotal: 24.585 }),
      orderOf({ ...BHD_ORDER, entityId: 9012 }),
    ];
    const summary = await pusher(sim).push(list);
    assert.deepEqual(
      summary.results.map((r) => [r.action, r.error?.code]),
      [
        ["failed", "currency_precision"],
        ["created", undefined],
      ],
    );
    assert.match(summary.failures[0].error?.message ?? "", /24\.585 BHD/);
    const sf = byKey(sim.db.records("Order"), "Magento_Order_Key__c");
    assert.equal(sf.has("magento-9011"), false, "nothing written for it");
    assert.equal(sf.get("magento-9012")?.TotalAmount, 24.58);
  });

  it("describes the org's price scale, and keeps what it is sent as the API does: unrounded prices miss the total", async () => {
    const sim = await simulator({ amountScale: 4 });
    const setup = await pusher(sim).checkSetup();
    assert.equal(setup.amountScale, 4, "read from the describe of OrderItem.UnitPrice");
    assert.equal(setup.currencyDecimals.size, 0, "a single-currency org has no CurrencyType");
    assert.deepEqual(setup.warnings, []);
    const pb = sim.db.standardPricebookId;
    const product = sim.db.insert("Product2", { Name: "Bundle", IsActive: true });
    const entry = sim.db.insert("PricebookEntry", {
      Pricebook2Id: pb,
      Product2Id: product,
      UnitPrice: 100,
      IsActive: true,
    });
    const account = sim.db.insert("Account", { Name: "Buyer" });
    const order = sim.db.insert("Order", {
      AccountId: account,
      EffectiveDate: "2026-12-01",
      Status: "Draft",
      Pricebook2Id: pb,
    });
    sim.db.insert("OrderItem", { OrderId: order, PricebookEntryId: entry, Quantity: 3, UnitPrice: 33.3333 });
    assert.equal(sim.db.get(order)?.TotalAmount, 99.9999);
  });
});
