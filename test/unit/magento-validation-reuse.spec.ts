/**
 * One validation per order along a flow (schema.ts `validateOrder` + fingerprint.ts): a node
 * that receives an order another node validated, unchanged, takes it as it is; an order edited
 * in place on the way is validated again.
 */
import assert from "node:assert/strict";
import { fingerprint } from "../../src/magento/fingerprint";
import { validateOrder, type MagentoOrder } from "../../src/magento/schema";
import {
  contentHash as salesforceHash,
  mapOrder as mapForSalesforce,
} from "../../src/salesforce/order-mapping";
import { pushSettings } from "../../src/salesforce/settings";
import { generateOrders } from "../../src/sandbox/magento";
import { defaultMappingOptions, mapOrder as mapForTryton, taxMapFrom } from "../../src/tryton/sale-mapping";
import { fixtureOrder } from "./magento-fixtures";

function valid(raw: unknown): MagentoOrder {
  const checked = validateOrder(raw);
  if (!checked.ok) assert.fail(checked.error.message);
  return checked.order;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object") {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

describe("fingerprint (magento/fingerprint.ts)", () => {
  it("is equal for equal content and differs for any change, however deep", () => {
    const a = fixtureOrder();
    const b = fixtureOrder();
    assert.equal(fingerprint(a), fingerprint(b));
    const before = fingerprint(a);
    (a.items as Array<Record<string, unknown>>)[3].qty_ordered = 2.0001;
    assert.notEqual(fingerprint(a), before);
    const changes: Array<(o: Record<string, unknown>) => void> = [
      (o) => (o.grand_total = "165"), // same digits, other type
      (o) => (o.customer_email = "JDOE@example.com"),
      (o) => (o.extra = undefined), // a key more, even without a value
      (o) => ((o.items as unknown[]).length = 8),
      (o) => ((o.billing_address as Record<string, unknown>).street = ["123 Oak Ave", ""]),
      (o) => (o.payment = null),
    ];
    for (const change of changes) {
      const o = fixtureOrder();
      change(o);
      assert.notEqual(fingerprint(o), before, String(change));
    }
    assert.notEqual(fingerprint({ a: 1, b: 2 }), fingerprint({ a: 12 }));
    assert.notEqual(fingerprint(["ab"]), fingerprint(["a", "b"]));
    assert.notEqual(fingerprint(0), fingerprint(-0));
  });

  it("gives up on cycles and absurd nesting instead of looping", () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    assert.equal(fingerprint(cyclic), undefined);
    let deep: unknown = 1;
    for (let i = 0; i < 100; i += 1) deep = [deep];
    assert.equal(fingerprint(deep), undefined);
  });
});

describe("validateOrder reuses its own earlier result (magento/schema.ts)", () => {
  it("hands back an order it validated, unchanged, as the same object", () => {
    const order = valid(fixtureOrder());
    assert.equal(valid(order), order);
    // What it made is not the input: a raw order is still copied (numbers read, nulls dropped).
    const raw = fixtureOrder();
    assert.notEqual(valid(raw), raw);
  });

  it("validates an order edited in place again, and names the field that is now wrong", () => {
    const order = valid(fixtureOrder());
    (order.items[2] as Record<string, unknown>).qty_ordered = "two";
    const checked = validateOrder(order);
    assert.equal(checked.ok, false);
    if (!checked.ok) assert.equal(checked.error.field, "items.2.qty_ordered");

    const edited = valid(fixtureOrder());
    (edited as Record<string, unknown>).grand_total = "170.50"; // still valid: read again as a number
    const again = valid(edited);
    assert.notEqual(again, edited);
    assert.equal(again.grand_total, 170.5);
  });

  it("keeps a cycle a user put in an unknown field working (validated each time)", () => {
    const order = valid(fixtureOrder()) as Record<string, unknown>;
    order.note = { back: order };
    const checked = validateOrder(order);
    assert.equal(checked.ok, true);
  });

  it("the targets' mappings never modify the order they are given (it may be the flow's own object now)", () => {
    const orders = (JSON.parse(JSON.stringify(generateOrders(300, 11))) as unknown[]).map((raw) =>
      deepFreeze(valid(raw)),
    );
    const settings = pushSettings({});
    const tryton = {
      ...defaultMappingOptions,
      taxMap: taxMapFrom({ "8.25": [1], "19": [2], "7": [3], "20": [4], "21": [5], "23": [6], "25": [7] }),
    };
    const hashExtra = { status: "Draft", pricebookId: "01s000000000001AAA", customerKey: "", contacts: true };
    let mapped = 0;
    for (const order of orders) {
      // A frozen object throws on any write in strict mode (compiled modules are strict).
      const wanted = mapForSalesforce(order, settings);
      salesforceHash(wanted, hashExtra);
      const draft = mapForTryton(order, tryton);
      if (draft.ok) mapped += 1;
    }
    assert.ok(mapped > 250, `${mapped} of 300 mapped for Tryton`);
  });
});
