/**
 * Money exactly right in Salesforce (docs/money.md, docs/salesforce-amounts.md): the money
 * corpus (test/support/money-corpus.ts) pushed to a multi-currency org of the simulator, whose
 * Order TotalAmount is the exact sum of what was written. Every Order totals `grand_total`, or
 * the order is held (not written) naming the cause; none is held among the orders Magento
 * computed consistently. Prints the table per setting.
 */
import assert from "node:assert/strict";

import { validateOrder, type MagentoOrder } from "../../src/magento/schema";
import { amount } from "../../src/sync/amounts";
import type { SyncResult } from "../../src/sync/result";
import { consistent, corpus, payable, tableText, tally, type Row } from "../support/money-corpus";
import { byKey, pusher, simulator, stopAll, type Rec } from "./salesforce-fixtures";

describe("money in Salesforce: the corpus over every tax setting", function () {
  this.timeout(600_000);
  afterEach(stopAll);

  it("2,000 orders and the hand-written cases: every Order's TotalAmount equals grand_total, or the order is held naming the cause", async () => {
    const sim = await simulator({ multiCurrency: true, currencies: ["USD", "EUR", "JPY", "KWD", "BHD"] });
    const push = pusher(sim);
    const cases = corpus();
    const results = new Map<number, SyncResult>();
    for (let i = 0; i < cases.length; i += 200) {
      const page = cases.slice(i, i + 200).map(({ order }) => {
        const checked = validateOrder(order);
        if (!checked.ok) throw new Error(checked.error.message);
        return checked.order as MagentoOrder;
      });
      const summary = await push.push(page);
      for (const r of summary.results) results.set(r.orderId as number, r);
    }
    const sfOrders = byKey(sim.db.records("Order"), "Magento_Order_Key__c");
    const roundingOrders = new Set(
      sim.db
        .records("OrderItem")
        .filter((i) => String(i.Magento_Item_Key__c).endsWith("-rounding"))
        .map((i) => i.OrderId),
    );

    const table = new Map<string, Row>();
    const problems: string[] = [];
    for (const { order, group } of cases) {
      const r = results.get(order.entity_id);
      const sf = sfOrders.get(`magento-${order.entity_id}`) as Rec | undefined;
      const equal = sf !== undefined && amount(sf.TotalAmount as number) === payable(order);
      const held = r?.action === "failed" && ["mismatch", "currency_precision"].includes(r.error?.code ?? "");
      if (!equal && !held)
        problems.push(
          `#${order.increment_id}: ${String(sf?.TotalAmount)} ≠ ${order.grand_total}, ${JSON.stringify(r)}`,
        );
      if (held && sf) problems.push(`#${order.increment_id} held but written`);
      if (held && consistent(order))
        problems.push(`#${order.increment_id} held though consistent: ${r?.error?.message}`);
      const rounding = sf !== undefined && roundingOrders.has(sf.Id);
      if (rounding && !r?.adjustments?.some((a) => a.startsWith("rounding line ")))
        problems.push(`#${order.increment_id}: a rounding line the result does not mention`);
      tally(table, order, group, { equal, held, rounding });
    }
    console.log(tableText(`[salesforce simulator] ${cases.length} orders into Salesforce`, table));
    assert.deepEqual(problems.slice(0, 10), [], `${problems.length} orders wrong`);
  });
});
