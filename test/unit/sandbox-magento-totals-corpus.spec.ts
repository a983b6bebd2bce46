import { strict as assert } from "node:assert";
import { orderSchema } from "../../src/magento/schema";
import { phpRound } from "../../src/sandbox/magento/php-round";
import {
  handWrittenTotalsCases,
  totalsCorpus,
  totalsCorpusCombinations,
  type TotalsCorpusSettings,
} from "../../src/sandbox/magento/totals-corpus";
import type { MagentoOrderRecord } from "../../src/sandbox/magento/types";

const money = (order: MagentoOrderRecord, key: string): number => Number(order[key]);

/** Magento's grand total: every collector's total amount summed, stored with 4 decimals. */
function expectedGrandTotal(order: MagentoOrderRecord, prefix: "" | "base_"): number {
  const parts = [
    "subtotal",
    "shipping_amount",
    "discount_amount",
    "tax_amount",
    "discount_tax_compensation_amount",
    "shipping_discount_tax_compensation_amount",
  ];
  return phpRound(
    parts.reduce((s, k) => s + money(order, `${prefix}${k}`), 0),
    4,
  );
}

describe("sandbox Magento totals corpus", () => {
  const combos = totalsCorpusCombinations();

  it("covers 3 methods × 16 setting switches × 8 coupon kinds × 3 currency precisions", () => {
    assert.equal(combos.length, 3 * 16 * 8 * 3);
    assert.equal(new Set(combos.map((c) => JSON.stringify(c))).size, combos.length);
  });

  it("builds 2000 orders in well under a few seconds, deterministic per seed", () => {
    const started = Date.now();
    const orders = totalsCorpus(2000, 7);
    assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
    assert.equal(orders.length, 2000);
    assert.deepEqual(totalsCorpus(50, 7), orders.slice(0, 50));
    assert.notDeepEqual(totalsCorpus(50, 8), orders.slice(0, 50));
  });

  it("spreads the orders evenly over every combination and marks each with its settings", () => {
    const orders = totalsCorpus(combos.length * 2, 3);
    const counts = new Map<string, number>();
    for (const order of orders) {
      const key = JSON.stringify(order.orderbridge_tax_settings as TotalsCorpusSettings);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    assert.equal(counts.size, combos.length);
    assert.ok([...counts.values()].every((n) => n === 2));
  });

  it("passes the pack's order schema, with a grand total that is the sum of its parts", () => {
    for (const order of [...totalsCorpus(600, 11), ...handWrittenTotalsCases().map((c) => c.order)]) {
      const parsed = orderSchema.safeParse(order);
      assert.ok(parsed.success, `order ${order.entity_id}: ${parsed.success ? "" : parsed.error.message}`);
      assert.equal(money(order, "grand_total"), expectedGrandTotal(order, ""), `order ${order.entity_id}`);
      assert.equal(
        money(order, "base_grand_total"),
        expectedGrandTotal(order, "base_"),
        `order ${order.entity_id}`,
      );
    }
  });

  it("hand-written cases: JPY, KWD, BHD, tax-inclusive, 100 %, bundle, configurable, row total net of discount", () => {
    const cases = handWrittenTotalsCases();
    assert.deepEqual(
      cases.map((c) => c.order.order_currency_code),
      ["JPY", "KWD", "BHD", "EUR", "EUR", "EUR", "EUR", "EUR"],
    );
    const net = cases[cases.length - 1].order.items[0];
    assert.equal(
      net.row_total,
      phpRound(Number(net.price) * net.qty_ordered - Number(net.discount_amount), 4),
    );
    const bundle = cases.find((c) => c.name.startsWith("bundle"))?.order;
    assert.ok(bundle?.items.slice(1).every((i) => i.parent_item_id === bundle.items[0].item_id));
    const full = cases.find((c) => c.name === "100 % coupon")?.order;
    assert.equal(full?.items[0].discount_amount, full?.items[0].row_total);
  });
});
