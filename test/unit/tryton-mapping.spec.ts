import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";

import { validateOrder, type MagentoOrder } from "../../src/magento/schema";
import { generateOrders } from "../../src/sandbox/magento/seed";
import { amount, amountText, divide } from "../../src/sync/amounts";
import {
  commentWithMarker,
  contentHash,
  defaultMappingOptions,
  lineValues,
  localDate,
  mapOrder,
  markerPattern,
  parseMarker,
  quantityFits,
  saleMarker,
  saleValues,
  taxMapFrom,
  type MappingOptions,
  type SaleDraft,
} from "../../src/tryton/sale-mapping";
import { defaultStateMap, nextStep, stateMapFrom, targetFor } from "../../src/tryton/state-map";

function fixtureOrder(): MagentoOrder {
  const file = path.join(__dirname, "..", "fixtures", "magento", "order-customer-bundle-downloadable.json");
  const checked = validateOrder(JSON.parse(readFileSync(file, "utf8")));
  if (!checked.ok) throw new Error(checked.error.message);
  return checked.order;
}

const options = (over: Partial<MappingOptions> = {}): MappingOptions => ({
  ...defaultMappingOptions,
  ...over,
});

function draftOf(order: MagentoOrder, over: Partial<MappingOptions> = {}): SaleDraft {
  const mapped = mapOrder(order, options(over));
  if (!mapped.ok) throw new Error(mapped.error.message);
  return mapped.draft;
}

function failureOf(order: MagentoOrder, over: Partial<MappingOptions> = {}) {
  const mapped = mapOrder(order, options(over));
  assert.equal(mapped.ok, false, "the order should not map");
  return (mapped as { ok: false; error: { code: string; field?: string; message: string } }).error;
}

/** A small taxed order with a coupon, built from the fixture. */
function taxedOrder(): MagentoOrder {
  const order = fixtureOrder();
  const [tee, download] = order.items;
  order.items = [
    { ...tee, qty_ordered: 2, price: 10, row_total: 20, tax_percent: 8.25, discount_amount: 2 },
    { ...download, price: 5, row_total: 5, tax_percent: 0, discount_amount: 0.5 },
  ];
  order.shipping_amount = 4;
  order.shipping_discount_amount = 1;
  order.discount_amount = -3.5; // 2 + 0.5 on items, 1 on shipping
  order.discount_description = "SPRING10";
  return order;
}

describe("Tryton sale mapping (tryton/sale-mapping.ts)", () => {
  describe("the tutorial order (registered customer, simple, downloadable, bundle, configurable)", () => {
    const order = fixtureOrder();
    const draft = draftOf(order, { referencePrefix: "MAG-" });

    it("sells each item once: configurable with the parent price and the child SKU, bundle as one line", () => {
      const items = draft.lines.filter((l) => l.kind === "item");
      assert.deepEqual(
        items.map((l) => [l.productCode, l.quantity, l.unitPrice]),
        [
          ["WS12-M-Orange", 1, "22"],
          ["240-LV08", 1, "18"],
          ["24-WG080-24-WG084-24-WG088-24-WG082-blue-24-WG086", 1, "68"],
          ["MH01-S-Gray", 1, "52"],
        ],
      );
      assert.equal(items[3].description, "Chaz Kangeroo Hoodie-S-Gray");
      assert.equal(
        items[3].quantityField,
        "items.7.qty_ordered",
        "the configurable parent row holds the quantity",
      );
    });

    it("creates downloadable and virtual products as services, the rest as goods", () => {
      const types = Object.fromEntries(draft.lines.map((l) => [l.productCode, l.productType]));
      assert.equal(types["240-LV08"], "service");
      assert.equal(types["WS12-M-Orange"], "goods");
      assert.equal(types.SHIPPING, "service");
      assert.equal(draftOf(order, { productType: "goods" }).lines[1].productType, "goods");
    });

    it("adds a shipping line with Magento's shipping description and amount", () => {
      const shipping = draft.lines.filter((l) => l.kind === "shipping");
      assert.deepEqual(
        shipping.map((l) => [l.productCode, l.description, l.unitPrice, l.quantity]),
        [["SHIPPING", "Best Way - Table Rate", "5", 1]],
      );
      const sum = draft.lines.reduce((s, l) => s + amount(l.unitPrice) * BigInt(l.quantity), 0n);
      assert.equal(amountText(sum), draft.grandTotal, "lines add up to grand_total (165)");
    });

    it("sells the bundle's components instead when the bundle option says so", () => {
      const children = draftOf(order, { bundle: "children" }).lines.filter((l) => l.kind === "item");
      assert.deepEqual(
        children.map((l) => [l.productCode, l.unitPrice]),
        [
          ["WS12-M-Orange", "22"],
          ["240-LV08", "18"],
          ["24-WG082-blue", "27"],
          ["24-WG084", "5"],
          ["24-WG086", "17"],
          ["24-WG088", "19"],
          ["MH01-S-Gray", "52"],
        ],
      );
    });

    it("keeps the order number as reference (with the prefix) and the entity id for matching", () => {
      assert.equal(draft.reference, "MAG-000000003");
      assert.equal(draft.orderId, 3);
      assert.equal(draft.currencyCode, "USD");
      assert.equal(draft.grandTotal, "165");
      assert.equal(draft.magentoState, "new");
    });

    it("dates the sale on created_at's calendar day in the configured time zone", () => {
      assert.equal(order.created_at, "2017-08-21 22:22:19");
      assert.equal(draftOf(order).saleDate, "2017-08-21");
      assert.equal(draftOf(order, { timeZone: "Asia/Tokyo" }).saleDate, "2017-08-22");
      assert.equal(localDate("2024-03-10 04:30:00", "America/Los_Angeles"), "2024-03-09");
    });

    it("describes the customer by e-mail (lower-cased key), name and phone, and both addresses", () => {
      assert.deepEqual(draft.party, {
        email: "jdoe@example.com",
        emailKey: "jdoe@example.com",
        name: "Jane Doe",
        phone: "512-555-1111",
      });
      assert.deepEqual(
        { ...draft.invoiceAddress, field: undefined },
        {
          partyName: "Jane Doe",
          street: "123 Oak Ave",
          postalCode: "10577",
          city: "Purchase",
          countryCode: "US",
          subdivisionCodes: ["US-NY"],
          regionName: "New York",
          field: undefined,
        },
      );
      assert.equal(
        draft.shipmentAddress.field,
        "extension_attributes.shipping_assignments.0.shipping.address",
      );
    });

    it("builds sale values with explicit units, Decimal prices, taxes and addresses (no on_change server side)", () => {
      const products = new Map(draft.lines.map((l, i) => [l.productCode, { id: 100 + i, unit: 1 }]));
      const values = saleValues(draft, {
        party: 7,
        invoiceAddress: 8,
        shipmentAddress: 9,
        currency: 1,
        products,
      });
      assert.equal(values.party, 7);
      assert.equal(values.invoice_address, 8);
      assert.equal(values.shipment_address, 9);
      assert.equal(values.reference, "MAG-000000003");
      assert.deepEqual(values.sale_date, { __class__: "date", year: 2017, month: 8, day: 21 });
      assert.equal(values.comment, saleMarker(3, draft.contentHash));
      const [line] = lineValues(draft, {
        party: 7,
        invoiceAddress: 8,
        shipmentAddress: 9,
        currency: 1,
        products,
      });
      assert.deepEqual(line, {
        type: "line",
        sequence: 1,
        product: 100,
        unit: 1,
        quantity: 1,
        unit_price: { __class__: "Decimal", decimal: "22" },
        description: "Radiant Tee-M-Orange",
      });
    });
  });

  describe("taxes and discounts", () => {
    const taxMap = taxMapFrom({ "8.25": [3], "20": 4 });

    it("maps Magento tax percents to Tryton taxes", () => {
      const draft = draftOf(taxedOrder(), { taxMap });
      assert.deepEqual(draft.lines[0].taxes, [3]);
      assert.deepEqual(draft.lines[1].taxes, []);
    });

    it("adds one discount line per tax rate, and the rest (shipping discount) untaxed like shipping", () => {
      const discounts = draftOf(taxedOrder(), { taxMap }).lines.filter((l) => l.kind === "discount");
      assert.deepEqual(
        discounts.map((l) => [l.productCode, l.unitPrice, l.taxes, l.description]),
        [
          ["DISCOUNT", "-2", [3], "Discount (SPRING10) · tax 8.25%"],
          ["DISCOUNT", "-0.5", [], "Discount (SPRING10)"],
          ["DISCOUNT", "-1", [], "Discount (SPRING10) · other"],
        ],
      );
    });

    it("fails an order whose tax rate is not mapped, naming the item field", () => {
      const order = taxedOrder();
      order.items[0].tax_percent = 7;
      const error = failureOf(order, { taxMap });
      assert.equal(error.code, "unmapped_tax");
      assert.equal(error.field, "items.0.tax_percent");
      assert.match(error.message, /#000000003.*7%/);
    });

    it("finds the shipping tax rate from shipping_tax_amount", () => {
      const order = taxedOrder();
      order.shipping_tax_amount = 0.33; // 8.25 % of 4.00
      assert.deepEqual(draftOf(order, { taxMap }).lines.find((l) => l.kind === "shipping")?.taxes, [3]);
      order.shipping_tax_amount = 0.5;
      assert.equal(failureOf(order, { taxMap }).field, "shipping_tax_amount");
    });

    it("reads the tax map from JSON text, and refuses what is not one", () => {
      assert.deepEqual(taxMapFrom('{"19": [5, 6]}'), [{ percent: amount("19"), taxes: [5, 6] }]);
      assert.deepEqual(taxMapFrom(""), []);
      assert.throws(() => taxMapFrom("{"), /not valid JSON/);
      assert.throws(() => taxMapFrom({ abc: [1] }), /not a tax percent/);
      assert.throws(() => taxMapFrom({ "19": ["VAT"] }), /tax ids/);
    });
  });

  describe("bad data fails the order and names the field", () => {
    it("a price with 5 decimals", () => {
      const order = fixtureOrder();
      order.items[1].price = 18.12345;
      const error = failureOf(order);
      assert.equal(error.code, "invalid_price");
      assert.equal(error.field, "items.1.price");
      assert.match(error.message, /18\.12345.*more than 4 decimals/);
    });

    it("a missing e-mail", () => {
      const order = fixtureOrder();
      order.customer_email = "  ";
      const error = failureOf(order);
      assert.equal(error.field, "customer_email");
      assert.match(error.message, /#000000003 has no customer e-mail/);
    });

    it("an address without country", () => {
      const order = fixtureOrder();
      delete order.billing_address!.country_id;
      assert.equal(failureOf(order).field, "billing_address.country_id");
    });

    it("a fractional quantity is checked against the unit's digits", () => {
      assert.equal(quantityFits(2, 0), true);
      assert.equal(quantityFits(1.5, 0), false);
      assert.equal(quantityFits(1.25, 2), true);
      assert.equal(quantityFits(1.255, 2), false);
    });
  });

  it("spreads a rounded bundle price so the line still totals Magento's row", () => {
    const order = fixtureOrder();
    Object.assign(order.items[2], { qty_ordered: 3, price: 33.33, row_total: 100 });
    const bundle = draftOf(order).lines[2];
    assert.equal(bundle.unitPrice, "33.3333");
    assert.equal(amountText(divide(amount("100"), amount("3"), 4)), "33.3333");
  });

  describe("content hash and marker", () => {
    it("changes with what the sale is built from, not with status, payments or updated_at", () => {
      const base = contentHash(fixtureOrder());
      const touched = fixtureOrder();
      Object.assign(touched, { state: "complete", status: "complete", updated_at: "2030-01-01 00:00:00" });
      touched.status_histories = [];
      touched.total_paid = 165;
      assert.equal(contentHash(touched), base);
      const moved = fixtureOrder();
      moved.billing_address!.street = ["124 Oak Ave"];
      assert.notEqual(contentHash(moved), base);
      const more = fixtureOrder();
      more.items[0].qty_ordered = 2;
      assert.notEqual(contentHash(more), base);
    });

    it("keeps the merchant's comment around the marker and rewrites the marker in place", () => {
      const first = commentWithMarker("Gift wrap please", saleMarker(3, "aaaa"));
      assert.equal(first, "Gift wrap please\nOrderBridge magento-order:3; content:aaaa");
      const second = commentWithMarker(`${first}\nCalled the customer.`, saleMarker(3, "bbbb"));
      assert.equal(
        second,
        "Gift wrap please\nOrderBridge magento-order:3; content:bbbb\nCalled the customer.",
      );
      assert.deepEqual(parseMarker(second), { orderId: 3, contentHash: "bbbb" });
      assert.equal(parseMarker("OrderBridge magento-order:33x"), undefined);
      assert.equal(markerPattern(3), "%magento-order:3;%");
    });
  });

  it("maps every simulated order (500, all kinds, currencies and states) with a complete tax map", () => {
    const taxMap = taxMapFrom({ "8.25": 1, "20": 2, "21": 3, "23": 4, "25": 5 });
    let lines = 0;
    for (const raw of generateOrders(500, 7)) {
      const checked = validateOrder(raw);
      assert.ok(checked.ok, "simulated orders validate");
      const draft = draftOf(checked.order, { taxMap });
      const total = draft.lines.reduce(
        (s, l) => s + (amount(l.unitPrice) * amount(l.quantity)) / amount(1),
        0n,
      );
      const taxes = amount(checked.order.tax_amount ?? 0);
      const difference = total + taxes - amount(draft.grandTotal);
      assert.ok(
        difference <= amount("0.05") && difference >= amount("-0.05"),
        `#${draft.incrementId} adds up`,
      );
      lines += draft.lines.length;
    }
    assert.ok(lines > 1000);
  });
});

describe("Tryton state map (tryton/state-map.ts)", () => {
  it("defaults to trytond-magento's table", () => {
    assert.equal(targetFor(defaultStateMap, "new"), "quotation");
    assert.equal(targetFor(defaultStateMap, "holded"), "quotation");
    assert.equal(targetFor(defaultStateMap, "pending_payment"), "draft");
    assert.equal(targetFor(defaultStateMap, "payment_review"), "draft");
    assert.equal(targetFor(defaultStateMap, "processing"), "processing");
    assert.equal(targetFor(defaultStateMap, "complete"), "processing");
    assert.equal(targetFor(defaultStateMap, "closed"), "processing");
    assert.equal(targetFor(defaultStateMap, "canceled"), "cancelled");
    assert.equal(targetFor(defaultStateMap, "made_up"), "skip");
  });

  it("takes user settings over the defaults and names what is wrong", () => {
    const map = stateMapFrom('{"new": "draft", "complete": "confirmed"}');
    assert.equal(map.new, "draft");
    assert.equal(map.complete, "confirmed");
    assert.equal(map.processing, "processing");
    assert.throws(() => stateMapFrom({ shipped: "done" }), /"shipped" is not a Magento order state/);
    assert.throws(() => stateMapFrom({ new: "done" }), /"new" → "done" is not a Tryton target/);
  });

  it("moves a sale one button at a time towards the target", () => {
    assert.deepEqual(nextStep("draft", "processing"), { kind: "press", button: "quote" });
    assert.deepEqual(nextStep("quotation", "processing"), { kind: "press", button: "confirm" });
    assert.deepEqual(nextStep("confirmed", "processing"), { kind: "press", button: "process" });
    assert.deepEqual(nextStep("done", "processing"), { kind: "reached" });
    assert.deepEqual(nextStep("quotation", "cancelled"), { kind: "press", button: "cancel" });
    assert.deepEqual(nextStep("confirmed", "cancelled"), { kind: "press", button: "draft" });
    assert.deepEqual(nextStep("cancelled", "quotation"), { kind: "press", button: "draft" });
    assert.deepEqual(nextStep("quotation", "draft"), { kind: "reached" }, "never back: Tryton is ahead");
    assert.deepEqual(nextStep("processing", "skip"), { kind: "reached" });
  });

  it("never presses a button Tryton would skip silently: a processing sale cannot be cancelled", () => {
    assert.deepEqual(nextStep("processing", "cancelled"), { kind: "conflict", reason: "cannot_cancel" });
    assert.deepEqual(nextStep("done", "cancelled"), { kind: "conflict", reason: "cannot_cancel" });
  });

  it("leaves a sale the merchant moved on in Tryton where it is while Magento still says new or pending", () => {
    for (const current of ["confirmed", "processing", "done"] as const) {
      assert.deepEqual(nextStep(current, "quotation"), { kind: "reached" });
      assert.deepEqual(nextStep(current, "draft"), { kind: "reached" });
    }
  });
});
