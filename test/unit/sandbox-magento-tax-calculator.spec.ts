import { strict as assert } from "node:assert";
import { phpRound } from "../../src/sandbox/magento/php-round";
import {
  calculateTotals,
  type CartLine,
  type Coupon,
  type OrderMoney,
  type TaxCart,
  type TaxSettings,
} from "../../src/sandbox/magento/tax-calculator";

const settings = (over: Partial<TaxSettings> = {}): TaxSettings => ({
  catalogPricesIncludeTax: false,
  shippingPricesIncludeTax: false,
  applyTaxAfterDiscount: true,
  discountOnPricesIncludingTax: false,
  method: "TOTAL_BASE_CALCULATION",
  crossBorderTrade: false,
  ...over,
});
const simple = (sku: string, price: number, qty: number, taxPercent: number): CartLine => ({
  sku,
  name: sku,
  productType: "simple",
  price,
  qty,
  taxPercent,
});
const noCoupon: Coupon = { kind: "none", amount: 0 };
const cart = (over: Partial<TaxCart>): TaxCart => ({
  lines: [],
  shipping: 0,
  shippingTaxPercent: 0,
  coupon: noCoupon,
  settings: settings(),
  currencyDecimals: 2,
  ...over,
});

/** Both the order-currency field and its base_ twin (rate 1 in Magento's scenarios). */
function expectOrder(actual: OrderMoney, expected: Partial<Record<string, number>>): void {
  for (const [key, value] of Object.entries(expected)) {
    assert.equal(actual[key as keyof OrderMoney], value, key);
    assert.equal(actual[`base_${key}` as keyof OrderMoney], value, `base_${key}`);
  }
}
function expectItem(actual: object, expected: Record<string, number>): void {
  const fields = actual as Record<string, unknown>;
  for (const [key, value] of Object.entries(expected)) {
    assert.equal(fields[key], value, key);
    if (key !== "tax_percent" && key !== "discount_percent")
      assert.equal(fields[`base_${key}`], value, `base_${key}`);
  }
}

const scenarios = "dev/tests/integration/testsuite/Magento/Tax/_files/scenarios";

describe("sandbox Magento tax calculator: Magento's own integration scenarios", () => {
  // Flat rate shipping of those scenarios: 5 per unit. Magento's default method is TOTAL_BASE_CALCULATION.
  it(`${scenarios}/excluding_tax_apply_tax_after_discount.php`, () => {
    const r = calculateTotals(
      cart({
        lines: [simple("simple1", 10, 2, 20)],
        shipping: 10,
        shippingTaxPercent: 7.5,
        coupon: { kind: "percent", amount: 50 },
      }),
    );
    expectOrder(r.order, {
      subtotal: 20,
      subtotal_incl_tax: 24,
      tax_amount: 2.75,
      shipping_amount: 10,
      shipping_incl_tax: 10.75,
      shipping_tax_amount: 0.75,
      discount_amount: -10,
      discount_tax_compensation_amount: 0,
      shipping_discount_tax_compensation_amount: 0,
      grand_total: 22.75,
    });
    expectItem(r.items[0], {
      row_total: 20,
      tax_percent: 20,
      price: 10,
      price_incl_tax: 12,
      row_total_incl_tax: 24,
      tax_amount: 2,
      discount_amount: 10,
      discount_percent: 50,
      discount_tax_compensation_amount: 0,
    });
  });

  it(`${scenarios}/excluding_tax_apply_tax_after_discount_discount_tax.php`, () => {
    const r = calculateTotals(
      cart({
        lines: [simple("simple1", 10, 2, 20)],
        shipping: 10,
        shippingTaxPercent: 7.5,
        coupon: { kind: "percent", amount: 50 },
        settings: settings({ discountOnPricesIncludingTax: true }),
      }),
    );
    expectOrder(r.order, {
      subtotal: 20,
      subtotal_incl_tax: 24,
      tax_amount: 2.35,
      shipping_incl_tax: 10.75,
      discount_amount: -12,
      grand_total: 20.35,
    });
    expectItem(r.items[0], {
      price_incl_tax: 12,
      tax_amount: 1.6,
      discount_amount: 12,
      discount_percent: 50,
    });
  });

  it(`${scenarios}/excluding_tax_apply_tax_before_discount.php`, () => {
    const r = calculateTotals(
      cart({
        lines: [simple("simple1", 10, 2, 20)],
        shipping: 10,
        shippingTaxPercent: 20,
        coupon: { kind: "percent", amount: 50 },
        settings: settings({ applyTaxAfterDiscount: false }),
      }),
    );
    expectOrder(r.order, {
      subtotal: 20,
      tax_amount: 6,
      shipping_incl_tax: 12,
      shipping_tax_amount: 2,
      discount_amount: -10,
      grand_total: 26,
    });
    expectItem(r.items[0], { tax_amount: 4, discount_amount: 10, row_total_incl_tax: 24 });
  });

  const single = (method: TaxSettings["method"]) =>
    calculateTotals(cart({ lines: [simple("simple1", 10, 2, 8.25)], settings: settings({ method }) }));
  it(`${scenarios}/excluding_tax_unit.php`, () => {
    const r = single("UNIT_BASE_CALCULATION");
    expectOrder(r.order, { subtotal: 20, subtotal_incl_tax: 21.66, tax_amount: 1.66, grand_total: 21.66 });
    expectItem(r.items[0], {
      price: 10,
      price_incl_tax: 10.83,
      row_total_incl_tax: 21.66,
      tax_amount: 1.66,
      tax_percent: 8.25,
    });
  });
  it(`${scenarios}/excluding_tax_row.php`, () => {
    const r = single("ROW_BASE_CALCULATION");
    expectOrder(r.order, { subtotal: 20, subtotal_incl_tax: 21.65, tax_amount: 1.65, grand_total: 21.65 });
    expectItem(r.items[0], { price: 10, price_incl_tax: 10.83, row_total_incl_tax: 21.65, tax_amount: 1.65 });
  });
  it(`${scenarios}/excluding_tax_total.php`, () => {
    const r = single("TOTAL_BASE_CALCULATION");
    expectOrder(r.order, { subtotal: 20, subtotal_incl_tax: 21.65, tax_amount: 1.65, grand_total: 21.65 });
    expectItem(r.items[0], { price_incl_tax: 10.83, row_total_incl_tax: 21.65, tax_amount: 1.65 });
  });

  const inclusive = (method: TaxSettings["method"]) =>
    calculateTotals(
      cart({
        lines: [simple("simple1", 9.99, 2, 20)],
        settings: settings({ method, catalogPricesIncludeTax: true }),
      }),
    );
  it(`${scenarios}/including_tax_unit.php`, () => {
    const r = inclusive("UNIT_BASE_CALCULATION");
    expectOrder(r.order, { subtotal: 16.64, subtotal_incl_tax: 19.98, tax_amount: 3.34, grand_total: 19.98 });
    expectItem(r.items[0], {
      row_total: 16.64,
      price: 8.32,
      price_incl_tax: 9.99,
      row_total_incl_tax: 19.98,
      tax_amount: 3.34,
    });
  });
  it(`${scenarios}/including_tax_row.php`, () => {
    const r = inclusive("ROW_BASE_CALCULATION");
    expectOrder(r.order, { subtotal: 16.65, subtotal_incl_tax: 19.98, tax_amount: 3.33, grand_total: 19.98 });
    expectItem(r.items[0], { row_total: 16.65, price: 8.33, price_incl_tax: 9.99, tax_amount: 3.33 });
  });
  it(`${scenarios}/including_tax_total.php`, () => {
    const r = inclusive("TOTAL_BASE_CALCULATION");
    expectOrder(r.order, { subtotal: 16.65, subtotal_incl_tax: 19.98, tax_amount: 3.33, grand_total: 19.98 });
    expectItem(r.items[0], { row_total: 16.65, price: 8.33, price_incl_tax: 9.99, tax_amount: 3.33 });
  });

  const twoItems = (method: TaxSettings["method"]) =>
    calculateTotals(
      cart({
        lines: [simple("simple1", 10, 1, 8.25), simple("simple2", 11, 1, 8.25)],
        settings: settings({ method }),
      }),
    );
  it(`${scenarios}/excluding_tax_multi_item_unit.php`, () => {
    const r = twoItems("UNIT_BASE_CALCULATION");
    expectOrder(r.order, { subtotal: 21, subtotal_incl_tax: 22.74, tax_amount: 1.74, grand_total: 22.74 });
    expectItem(r.items[1], { price_incl_tax: 11.91, tax_amount: 0.91 });
  });
  it(`${scenarios}/excluding_tax_multi_item_row.php`, () => {
    const r = twoItems("ROW_BASE_CALCULATION");
    expectOrder(r.order, { subtotal: 21, subtotal_incl_tax: 22.74, tax_amount: 1.74, grand_total: 22.74 });
    expectItem(r.items[0], { price_incl_tax: 10.83, tax_amount: 0.83 });
    expectItem(r.items[1], { price_incl_tax: 11.91, row_total_incl_tax: 11.91, tax_amount: 0.91 });
  });
  it(`${scenarios}/excluding_tax_multi_item_total.php (delta rounding carries 0.005 to the 2nd row)`, () => {
    const r = twoItems("TOTAL_BASE_CALCULATION");
    expectOrder(r.order, { subtotal: 21, subtotal_incl_tax: 22.73, tax_amount: 1.73, grand_total: 22.73 });
    expectItem(r.items[0], { price_incl_tax: 10.83, tax_amount: 0.83 });
    expectItem(r.items[1], { price_incl_tax: 11.9, row_total_incl_tax: 11.9, tax_amount: 0.9 });
  });

  it(`${scenarios}/including_tax_apply_tax_after_discount.php (3-decimal discount stored as is)`, () => {
    const r = calculateTotals(
      cart({
        lines: [simple("simple1", 29, 1, 10)],
        shipping: 5,
        shippingTaxPercent: 10,
        coupon: { kind: "percent", amount: 50, applyToShipping: true },
        settings: settings({
          catalogPricesIncludeTax: true,
          shippingPricesIncludeTax: true,
          method: "ROW_BASE_CALCULATION",
        }),
      }),
    );
    expectOrder(r.order, {
      subtotal: 26.36,
      subtotal_incl_tax: 29,
      tax_amount: 1.69,
      shipping_amount: 4.55,
      shipping_incl_tax: 5,
      shipping_tax_amount: 0.25,
      discount_amount: -15.455,
      discount_tax_compensation_amount: 1.2,
      shipping_discount_tax_compensation_amount: 0.2,
      grand_total: 18.545,
    });
    expectItem(r.items[0], {
      row_total: 26.36,
      price: 26.36,
      price_incl_tax: 29,
      tax_amount: 1.44,
      discount_amount: 13.18,
      discount_percent: 50,
      discount_tax_compensation_amount: 1.2,
    });
  });
});

describe("sandbox Magento tax calculator: PHP round()", () => {
  it("rounds half away from zero, after PHP's pre-rounding to 15 significant digits", () => {
    assert.equal(phpRound(1.005, 2), 1.01); // Math.round(100.49999…)/100 gives 1
    assert.equal(phpRound(-1.005, 2), -1.01);
    assert.equal(phpRound(0.285, 2), 0.29); // Math.round gives 0.28
    assert.equal(phpRound(-0.5), -1); // Math.round gives -0
    assert.equal(phpRound(-2.5), -3); // Math.round gives -2
    assert.equal(phpRound(2.5), 3);
    assert.equal(phpRound(1.665, 2), 1.67);
    assert.equal(phpRound(10.825, 2), 10.83);
    assert.equal(phpRound(-1.45, 1), -1.5);
    assert.equal(phpRound(0.1 + 0.2, 4), 0.3);
    assert.equal(phpRound(123456789.125, 2), 123456789.13);
    assert.equal(phpRound(0, 2), 0);
  });
});

describe("sandbox Magento tax calculator: hand-written cases", () => {
  it("JPY (0 decimals): Magento still rounds to 2 decimals, so tax of 10 % on 1234 stays 123.4", () => {
    const r = calculateTotals(cart({ lines: [simple("jp", 1234, 1, 10)], currencyDecimals: 0 }));
    expectOrder(r.order, { subtotal: 1234, tax_amount: 123.4, grand_total: 1357.4 });
  });

  it("BHD (3 decimals): a 1.235 catalog price is calculated as 1.24 (2-decimal rounding)", () => {
    const r = calculateTotals(cart({ lines: [simple("bh", 1.235, 1, 10)], currencyDecimals: 3 }));
    expectItem(r.items[0], { price: 1.24, original_price: 1.235, row_total: 1.24, tax_amount: 0.12 });
    expectOrder(r.order, { subtotal: 1.24, tax_amount: 0.12, grand_total: 1.36 });
  });

  it("order currency at a rate: prices converted, then rounded by the calculator", () => {
    const r = calculateTotals(cart({ lines: [simple("eu", 9.99, 3, 19)], baseToOrderRate: 0.9 }));
    assert.equal(r.items[0].price, 8.99);
    assert.equal(r.items[0].base_price, 9.99);
    assert.equal(r.order.subtotal, 26.97);
    assert.equal(r.order.base_subtotal, 29.97);
    assert.equal(r.order.tax_amount, 5.12);
    assert.equal(r.order.base_tax_amount, 5.69);
  });

  it("100 % coupon: items free, shipping and its tax still charged", () => {
    const r = calculateTotals(
      cart({
        lines: [simple("s", 10, 2, 20)],
        shipping: 5,
        shippingTaxPercent: 20,
        coupon: { kind: "percent", amount: 100 },
      }),
    );
    expectOrder(r.order, {
      subtotal: 20,
      discount_amount: -20,
      tax_amount: 1,
      shipping_tax_amount: 1,
      grand_total: 6,
    });
    expectItem(r.items[0], { discount_amount: 20, tax_amount: 0, discount_percent: 100 });
  });

  it("free shipping coupon: the carrier price is 0, nothing is discounted", () => {
    const r = calculateTotals(
      cart({
        lines: [simple("s", 10, 2, 20)],
        shipping: 10,
        shippingTaxPercent: 20,
        coupon: { kind: "free_shipping", amount: 0 },
      }),
    );
    expectOrder(r.order, {
      shipping_amount: 0,
      shipping_incl_tax: 0,
      discount_amount: 0,
      tax_amount: 4,
      grand_total: 24,
    });
  });

  it("bundle with dynamic price: children carry prices, discount and tax; the parent sums rows and tax", () => {
    const bundle: CartLine = {
      sku: "kit",
      name: "Kit",
      productType: "bundle",
      price: 0,
      qty: 2,
      taxPercent: 20,
      children: [
        { sku: "a", name: "A", price: 5, qty: 1, taxPercent: 20 },
        { sku: "b", name: "B", price: 7.5, qty: 2, taxPercent: 20 },
      ],
    };
    const r = calculateTotals(
      cart({
        lines: [bundle],
        coupon: { kind: "percent", amount: 10 },
        settings: settings({ method: "ROW_BASE_CALCULATION" }),
      }),
    );
    expectItem(r.items[0], { row_total: 40, price: 20, tax_amount: 7.2, discount_amount: 0 });
    assert.deepEqual([r.items[1].qty, r.items[2].qty], [2, 4]);
    expectItem(r.items[1], { row_total: 10, discount_amount: 1, tax_amount: 1.8 });
    expectItem(r.items[2], { row_total: 30, discount_amount: 3, tax_amount: 5.4 });
    assert.equal(r.items[1].parentIndex, 0);
    expectOrder(r.order, { subtotal: 40, discount_amount: -4, tax_amount: 7.2, grand_total: 43.2 });
  });

  it("configurable: the parent carries price, tax and discount; the child row is all zeros", () => {
    const line: CartLine = {
      sku: "tee",
      name: "Tee",
      productType: "configurable",
      price: 25,
      qty: 1,
      taxPercent: 20,
      children: [{ sku: "tee-m", name: "Tee M", price: 0, qty: 1, taxPercent: 20 }],
    };
    const r = calculateTotals(cart({ lines: [line] }));
    expectItem(r.items[0], { price: 25, tax_amount: 5, row_total_incl_tax: 30 });
    expectItem(r.items[1], { price: 0, row_total: 0, tax_amount: 0, tax_percent: 0 });
    expectOrder(r.order, { subtotal: 25, tax_amount: 5, grand_total: 30 });
  });

  it("cart_fixed: split by row with delta rounding, the tax deltas carried row to row (total method)", () => {
    const r = calculateTotals(
      cart({
        lines: [simple("a", 10, 1, 20), simple("b", 20, 1, 20)],
        coupon: { kind: "cart_fixed", amount: 10 },
      }),
    );
    assert.deepEqual(
      r.items.map((i) => [i.discount_amount, i.tax_amount]),
      [
        [3.33, 1.33],
        [6.67, 2.67],
      ],
    );
    expectOrder(r.order, { discount_amount: -10, tax_amount: 4, grand_total: 24 });
  });

  it("by_fixed: the amount per unit, capped at the row", () => {
    const r = calculateTotals(
      cart({ lines: [simple("a", 10, 2, 0), simple("b", 2, 1, 0)], coupon: { kind: "by_fixed", amount: 3 } }),
    );
    assert.deepEqual(
      r.items.map((i) => i.discount_amount),
      [6, 2],
    );
    expectOrder(r.order, { discount_amount: -8, tax_amount: 0, grand_total: 14 });
  });

  it("an item fixed discount is taken first, then the percent coupon on what is left", () => {
    const line = { ...simple("a", 10, 2, 0), fixedDiscount: 1 };
    const r = calculateTotals(cart({ lines: [line], coupon: { kind: "percent", amount: 50 } }));
    expectItem(r.items[0], { discount_amount: 11 });
  });

  it("discount on prices incl. tax in a tax-inclusive catalog: compensation is the tax the discount removed", () => {
    const r = calculateTotals(
      cart({
        lines: [simple("s", 11.99, 3, 19)],
        coupon: { kind: "percent", amount: 15 },
        settings: settings({ catalogPricesIncludeTax: true, discountOnPricesIncludingTax: true }),
      }),
    );
    const { order } = r;
    assert.equal(order.discount_amount, -5.4);
    assert.equal(order.subtotal_incl_tax, 35.97);
    assert.equal(
      phpRound(order.subtotal + order.tax_amount + order.discount_tax_compensation_amount, 4),
      35.97,
    );
    assert.equal(order.grand_total, 30.57);
  });
});
