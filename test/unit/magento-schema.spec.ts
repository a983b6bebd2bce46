import assert from "node:assert/strict";
import {
  isGuest,
  lineItems,
  shippingAddress,
  shippingMethod,
  validateOrder,
  type MagentoOrder,
} from "../../src/magento/schema";
import { fixtureOrder, tinyOrder } from "./magento-fixtures";

function parsed(raw: unknown): MagentoOrder {
  const result = validateOrder(raw);
  if (!result.ok) assert.fail(result.error.message);
  return result.order;
}

describe("Magento order schema (magento/schema.ts)", () => {
  it("parses the fixture order with the fields the targets use", () => {
    const order = parsed(fixtureOrder());
    assert.equal(order.entity_id, 3);
    assert.equal(order.increment_id, "000000003");
    assert.equal(order.state, "new");
    assert.equal(order.customer_email, "jdoe@example.com");
    assert.equal(order.order_currency_code, "USD");
    assert.equal(order.grand_total, 165);
    assert.equal(order.base_grand_total, 165);
    assert.equal(order.shipping_description, "Best Way - Table Rate");
    assert.equal(order.items.length, 9);
    assert.equal(order.items[3].parent_item_id, 5);
    assert.equal(order.billing_address?.street?.[0], "123 Oak Ave");
    assert.equal(order.payment?.method, "banktransfer");
    assert.equal(order.payment?.cc_last4, undefined); // null on the wire
    assert.deepEqual(order.status_histories, []);
  });

  it("keeps fields it does not know", () => {
    const order = parsed({ ...fixtureOrder(), gift_message: "Happy birthday", protect_code: "61f76d" });
    assert.equal((order as Record<string, unknown>).gift_message, "Happy birthday");
    assert.equal((order as Record<string, unknown>).protect_code, "61f76d");
    assert.equal((order.items[0] as Record<string, unknown>).free_shipping, 0);
  });

  it("accepts numeric strings for money and quantities and reads them as numbers", () => {
    const raw = fixtureOrder();
    raw.grand_total = "165.00";
    (raw.items as Array<Record<string, unknown>>)[0].qty_ordered = "2.0000";
    const order = parsed(raw);
    assert.equal(order.grand_total, 165);
    assert.equal(order.items[0].qty_ordered, 2);
  });

  it("names the order and the field path when an item quantity is wrong", () => {
    const raw = fixtureOrder();
    (raw.items as Array<Record<string, unknown>>)[2].qty_ordered = "two";
    const result = validateOrder(raw);
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.equal(result.error.code, "invalid_order");
    assert.equal(result.error.field, "items.2.qty_ordered");
    assert.match(result.error.message, /#000000003/);
    assert.match(result.error.message, /items\.2\.qty_ordered/);
    assert.match(result.error.message, /"two"/);
  });

  it("says a required field is missing, and falls back to the entity id when the increment id is unreadable", () => {
    const raw = fixtureOrder();
    delete raw.customer_email;
    const missing = validateOrder(raw);
    assert.ok(
      !missing.ok &&
        missing.error.field === "customer_email" &&
        /customer_email is missing/.test(missing.error.message),
    );

    const noIncrement = fixtureOrder();
    delete noIncrement.increment_id;
    const res = validateOrder(noIncrement);
    assert.ok(!res.ok);
    assert.match(res.error.message, /entity_id 3/);
    assert.equal(res.error.field, "increment_id");
  });

  it("rejects what is not an order at all, without throwing", () => {
    for (const raw of [null, "order", 42, []]) {
      const res = validateOrder(raw);
      assert.ok(!res.ok && res.error.code === "invalid_order");
    }
    const res = validateOrder({ entity_id: "x" });
    assert.ok(!res.ok && /\(and \d+ more: increment_id/.test(res.error.message));
  });

  it("requires entity_id as an integer and a 3-letter currency", () => {
    const a = validateOrder({ ...fixtureOrder(), entity_id: 3.5 });
    assert.ok(!a.ok && a.error.field === "entity_id");
    const b = validateOrder({ ...fixtureOrder(), order_currency_code: "dollars" });
    assert.ok(!b.ok && b.error.field === "order_currency_code");
  });

  describe("lineItems", () => {
    const order = () => parsed(fixtureOrder());

    it("counts a configurable once: the parent's price and item id with the child's SKU", () => {
      const lines = lineItems(order());
      const hoodie = lines.filter((l) => l.sku === "MH01-S-Gray");
      assert.equal(hoodie.length, 1);
      assert.equal(hoodie[0].price, 52);
      assert.equal(hoodie[0].itemId, 10);
      assert.equal(hoodie[0].productType, "configurable");
      assert.equal(hoodie[0].name, "Chaz Kangeroo Hoodie-S-Gray");
      assert.ok(!lines.some((l) => l.itemId === 11));
    });

    it("sells a bundle as its parent by default, never with its children", () => {
      const lines = lineItems(order());
      assert.deepEqual(
        lines.map((l) => l.itemId),
        [3, 4, 5, 10],
      );
      const bundle = lines.find((l) => l.itemId === 5);
      assert.equal(bundle?.price, 68);
      const subtotal = lines.reduce((sum, l) => sum + l.rowTotal, 0);
      assert.equal(subtotal, order().subtotal);
    });

    it("sells a bundle as its children when asked, never with its parent", () => {
      const lines = lineItems(order(), { bundle: "children" });
      assert.deepEqual(
        lines.map((l) => l.itemId),
        [3, 4, 6, 7, 8, 9, 10],
      );
      const children = lines.filter((l) => l.parentItemId === 5);
      assert.deepEqual(
        children.map((l) => l.sku),
        ["24-WG082-blue", "24-WG084", "24-WG086", "24-WG088"],
      );
      assert.equal(
        children.reduce((sum, l) => sum + l.price * l.qty, 0),
        68,
      );
    });

    it("keeps simple, downloadable and orphaned child rows as their own lines", () => {
      const raw = tinyOrder(7, "2024-01-01 00:00:00", {
        items: [
          { item_id: 1, sku: "DL", product_type: "downloadable", qty_ordered: 1, price: 9, is_virtual: 1 },
          { item_id: 2, sku: "ORPHAN", product_type: "simple", qty_ordered: 2, price: 3, parent_item_id: 99 },
        ],
      });
      const lines = lineItems(parsed(raw));
      assert.deepEqual(
        lines.map((l) => [l.sku, l.qty, l.rowTotal, l.isVirtual]),
        [
          ["DL", 1, 9, true],
          ["ORPHAN", 2, 6, false],
        ],
      );
    });
  });

  it("finds the shipping address in the shipping assignment, and none on virtual orders", () => {
    const order = parsed(fixtureOrder());
    assert.equal(shippingAddress(order)?.address_type, "shipping");
    assert.equal(shippingAddress(order)?.postcode, "10577");
    assert.equal(shippingMethod(order), "tablerate_bestway");
    const virtual = parsed(tinyOrder(8, "2024-01-01 00:00:00"));
    assert.equal(shippingAddress(virtual), undefined);
  });

  it("tells guests from registered customers", () => {
    assert.equal(isGuest(parsed(fixtureOrder())), false);
    assert.equal(isGuest(parsed(tinyOrder(9, "2024-01-01 00:00:00", { customer_is_guest: 1 }))), true);
    assert.equal(isGuest(parsed(tinyOrder(9, "2024-01-01 00:00:00"))), true); // no customer_id
  });
});
