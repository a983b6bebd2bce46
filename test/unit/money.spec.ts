/**
 * Money exactly right (docs/money.md): reading Magento's amounts, Tryton's own arithmetic as
 * OrderBridge foresees it, and the rounding line.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";

import { orderAmounts } from "../../src/magento/order-amounts";
import { validateOrder, type MagentoOrder } from "../../src/magento/schema";
import { amount, amountText, roundHalfEven } from "../../src/sync/amounts";
import {
  defaultMappingOptions,
  mapOrder,
  reconcileTotal,
  type MappingOptions,
  type SaleDraft,
} from "../../src/tryton/sale-mapping";
import { predictTotal, type TaxSetup } from "../../src/tryton/tax-prediction";

function tutorialOrder(): Record<string, unknown> {
  const file = path.join(__dirname, "..", "fixtures", "magento", "order-customer-bundle-downloadable.json");
  return JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
}

function valid(raw: Record<string, unknown>): MagentoOrder {
  const checked = validateOrder(raw);
  if (!checked.ok) throw new Error(checked.error.message);
  return checked.order;
}

/** One simple item of 3 × 10.00 at 8.25 %, 10 % coupon, no shipping: a shop's plain order. */
function taxedOrder(over: Record<string, unknown> = {}, item: Record<string, unknown> = {}): MagentoOrder {
  const raw = tutorialOrder();
  raw.items = [
    {
      item_id: 1,
      sku: "MUG",
      name: "Mug",
      product_type: "simple",
      qty_ordered: 3,
      price: 10,
      row_total: 30,
      tax_percent: 8.25,
      tax_amount: 2.23,
      discount_amount: 3,
      ...item,
    },
  ];
  Object.assign(raw, {
    subtotal: 30,
    shipping_amount: 0,
    shipping_tax_amount: 0,
    discount_amount: -3,
    tax_amount: 2.23,
    grand_total: 29.23,
    ...over,
  });
  delete raw.extension_attributes;
  return valid(raw);
}

const map = [{ percent: amount("8.25"), taxes: [7] }];
const options: MappingOptions = { ...defaultMappingOptions, taxMap: map };
const setup = (
  rounding: TaxSetup["rounding"],
  series: TaxSetup["series"] = "6.0",
  rate = "0.0825",
): TaxSetup => ({
  rounding,
  series,
  taxes: new Map([[7, { id: 7, type: "percentage", rate: amount(rate), fixed: 0n }]]),
});

function draftOf(order: MagentoOrder): SaleDraft {
  const mapped = mapOrder(order, options);
  if (!mapped.ok) throw new Error(mapped.error.message);
  return mapped.draft;
}

describe("money (docs/money.md)", function () {
  describe("reading Magento's amounts", function () {
    it("counts a discount already taken off the row total once, and says which reading it used", function () {
      const order = taxedOrder({}, { row_total: 27 });
      const read = orderAmounts(order);
      assert.equal(read.unbalanced, undefined);
      assert.deepEqual(read.readings, ["items.0: row total net of discount"]);
      const lines = draftOf(order).lines.map((l) => [l.kind, l.quantity, l.unitPrice]);
      assert.deepEqual(lines, [
        ["item", 3, "10"],
        ["discount", 1, "-3"],
      ]);
    });

    it("tells tax after discount from tax before it by the items' own tax", function () {
      assert.equal(orderAmounts(taxedOrder()).taxAfterDiscount, true);
      const before = taxedOrder({ tax_amount: 2.48, grand_total: 29.48 }, { tax_amount: 2.48 });
      assert.equal(orderAmounts(before).taxAfterDiscount, false);
      const discount = draftOf(before).lines.find((l) => l.kind === "discount")!;
      assert.deepEqual(discount.taxes, [], "before discount, the discount line is untaxed");
    });

    it("names an order whose own amounts do not add up", function () {
      const read = orderAmounts(taxedOrder({ grand_total: 30 }));
      assert.match(read.unbalanced ?? "", /do not add up: .* = 29\.23, grand_total is 30/);
    });
  });

  describe("Tryton's total, foreseen", function () {
    const line = (price: string, qty: string, taxes = [7]) => ({
      taxes,
      unitPrice: amount(price),
      quantity: amount(qty),
    });
    const cent = amount("0.01");

    it("rounds half to even, as Python's Decimal does in Tryton", function () {
      assert.equal(amountText(roundHalfEven(amount("0.125"), cent)), "0.12");
      assert.equal(amountText(roundHalfEven(amount("0.135"), cent)), "0.14");
      assert.equal(amountText(roundHalfEven(amount("-0.125"), cent)), "-0.12");
    });

    it("rounds the summed taxes per document, or each line's per line", function () {
      // 3 lines of 1.10 at 8.25 %: 0.09075 each; per document 0.27225 → 0.27; per line 0.09 × 3.
      const lines = [line("1.10", "1"), line("1.10", "1"), line("1.10", "1")];
      const doc = predictTotal(lines, setup("document"), cent);
      const perLine = predictTotal(lines, setup("line"), cent);
      assert.ok(doc.ok && perLine.ok);
      assert.equal(amountText(doc.tax), "0.27");
      assert.equal(amountText(perLine.tax), "0.27");
      const odd = [line("1.06", "1"), line("1.06", "1")]; // 0.08745 each: 0.1749 → 0.17; 0.09 + 0.09
      const d2 = predictTotal(odd, setup("document"), cent);
      const l2 = predictTotal(odd, setup("line"), cent);
      assert.ok(d2.ok && l2.ok);
      assert.deepEqual([amountText(d2.tax), amountText(l2.tax)], ["0.17", "0.18"]);
    });

    it("keeps positive and negative bases apart per document, as Tryton's tax keys do", function () {
      // 10.06 and −0.06 at 8.25 %: 0.82995 → 0.83 and −0.00495 → −0.00; one sum would be 0.825 → 0.82.
      const result = predictTotal([line("10.06", "1"), line("-0.06", "1")], setup("document"), cent);
      assert.ok(result.ok);
      assert.equal(amountText(result.tax), "0.83");
    });

    it("says when it cannot foresee a tax", function () {
      const s = setup("document");
      const taxes = new Map(s.taxes);
      taxes.set(8, { id: 8, type: "percentage", rate: 0n, fixed: 0n, unforeseeable: "has child taxes" });
      const result = predictTotal([line("1", "1", [8])], { ...s, taxes }, cent);
      assert.deepEqual(result, { ok: false, reason: "Tryton tax 8 has child taxes" });
    });
  });

  describe("the rounding line", function () {
    const cent = amount("0.01");

    it("adds an untaxed line for a difference only rounding explains, and nothing when there is none", function () {
      // Magento per row: 27.00 × 8.25 % = 2.2275 → 2.23. Tryton per document: 30 − 3 → same 2.23.
      const exact = reconcileTotal(draftOf(taxedOrder()), setup("document"), cent, options);
      assert.equal(exact.rounding, undefined);
      assert.equal(exact.problem, undefined);
      // A shop that rounded per unit: tax 2.22 and grand_total 29.22; Tryton computes 2.23.
      const unit = taxedOrder({ tax_amount: 2.22, grand_total: 29.22 }, { tax_amount: 2.22 });
      const fixed = reconcileTotal(draftOf(unit), setup("document"), cent, options);
      assert.equal(fixed.rounding, "-0.01");
      const last = fixed.draft.lines.at(-1)!;
      assert.deepEqual(
        [last.kind, last.productCode, last.unitPrice, last.taxes],
        ["rounding", "ROUNDING", "-0.01", []],
      );
    });

    it("never rounds away a tax mapped to a Tryton tax of another rate", function () {
      const result = reconcileTotal(draftOf(taxedOrder()), setup("document", "6.0", "0.08"), cent, options);
      assert.equal(result.rounding, undefined);
      assert.match(result.problem ?? "", /8\.25% is mapped to Tryton tax 7 of 8%/);
    });

    it("takes a grand_total with fractional yen at the currency's unit, says so, and holds what Tryton's currency cannot hold", function () {
      // Magento rounds to 2 decimals whatever the currency: 29.23 JPY is charged as 29 yen.
      const yen = draftOf(taxedOrder({ order_currency_code: "JPY", grand_total: 29.23 }));
      assert.equal(yen.payable, "29");
      assert.equal(
        yen.reading.payableNote,
        "grand_total 29.23 JPY taken as 29, the currency's smallest unit",
      );
      const result = reconcileTotal(yen, setup("document"), amount("1"), options);
      assert.equal(result.problem, undefined);
      // Tryton in yen: 27 + tax 2 (2.475 and −0.2475 rounded per sign) = 29, the payable total.
      assert.equal(result.rounding, undefined);
      // With 1.37 shipping: 30.60 → 31 yen to pay; Tryton's yen lines: 30 − 3 + 1 + tax 2 = 30.
      const dearer = draftOf(
        taxedOrder({ order_currency_code: "JPY", shipping_amount: 1.37, grand_total: 30.6 }),
      );
      assert.equal(dearer.payable, "31");
      assert.equal(reconcileTotal(dearer, setup("document"), amount("1"), options).rounding, "1");
      const coarse = reconcileTotal(draftOf(taxedOrder()), setup("document"), amount("1"), options);
      assert.match(
        coarse.problem ?? "",
        /29\.23 USD has smaller units than Tryton's currency \(rounding 1\)/,
      );
    });

    it("holds a difference larger than rounding explains", function () {
      const wrong = taxedOrder({ tax_amount: 3.23, grand_total: 30.23 }, { tax_amount: 3.23 });
      const result = reconcileTotal(draftOf(wrong), setup("document"), cent, options);
      assert.equal(result.rounding, undefined);
      assert.match(result.problem ?? "", /more than tax rounding explains/);
    });
  });
});
