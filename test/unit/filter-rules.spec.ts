import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { validateOrder, type MagentoOrder } from "../../src/magento/schema";
import { generateOrders } from "../../src/sandbox/magento";
import {
  customerGroupOf,
  defaultFilterRules,
  filterOrders,
  isPaid,
  isZeroGrandTotal,
  parseFilterRules,
  skipReason,
  stockStatuses,
  type FilterRules,
} from "../../src/sync/filter-rules";

const page = generateOrders(60, 7);

/** A valid generated order with some fields changed (`undefined` removes a field). */
function raw(changes: Record<string, unknown> = {}): Record<string, unknown> {
  const order: Record<string, unknown> = structuredClone(page[0]);
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) delete order[key];
    else order[key] = value;
  }
  return order;
}

function parsed(changes: Record<string, unknown> = {}): MagentoOrder {
  const checked = validateOrder(raw(changes));
  if (!checked.ok) throw new Error(checked.error.message);
  return checked.order;
}

const rules = (changes: Partial<FilterRules>): FilterRules => ({ ...defaultFilterRules, ...changes });

describe("filter rules", () => {
  describe("reading the node's settings", () => {
    it("passes everything by default", () => {
      assert.deepEqual(parseFilterRules({}), defaultFilterRules);
      assert.equal(filterOrders(page, defaultFilterRules).passed.length, page.length);
    });

    it("reads the editor's values", () => {
      assert.deepEqual(
        parseFilterRules({
          zeroGrandTotal: "do_not_synchronize",
          syncAllOrders: "no",
          statuses: ["complete", "Awaiting_Stock"],
          storeViews: "selected",
          storeIds: [2, "3"],
          customerGroups: "selected",
          customerGroupIds: [0, 1],
          paidOnly: true,
        }),
        {
          zeroGrandTotal: "do_not_synchronize",
          syncAllOrders: false,
          statuses: ["complete", "awaiting_stock"],
          storeIds: [2, 3],
          customerGroupIds: [0, 1],
          paidOnly: true,
        },
      );
    });

    it("reads hand-written flow values: booleans and comma lists", () => {
      const read = parseFilterRules({
        syncAllOrders: false,
        statuses: "processing, complete",
        storeViews: "selected",
        storeIds: "1,2",
        paidOnly: "false",
      });
      assert.deepEqual(read.statuses, ["processing", "complete"]);
      assert.deepEqual(read.storeIds, [1, 2]);
      assert.equal(read.paidOnly, false);
    });

    it("ignores the status list while Sync all orders is Yes, and the id lists while all are synced", () => {
      const read = parseFilterRules({ syncAllOrders: "yes", statuses: ["complete"], storeIds: [2] });
      assert.equal(read.syncAllOrders, true);
      assert.deepEqual(read.statuses, []);
      assert.equal(read.storeIds, null);
    });

    it("refuses settings that make no sense, naming the setting", () => {
      assert.throws(() => parseFilterRules({ zeroGrandTotal: "maybe" as never }), /"Zero Grand Total"/);
      assert.throws(() => parseFilterRules({ syncAllOrders: "no" }), /"Sync all orders" is No.*status/);
      assert.throws(() => parseFilterRules({ syncAllOrders: "perhaps" as never }), /"Sync all orders"/);
      assert.throws(
        () => parseFilterRules({ storeViews: "selected", storeIds: ["default"] }),
        /"Store views" has "default", which is not a store view id/,
      );
      assert.throws(() => parseFilterRules({ storeViews: "selected" }), /at least one store view/);
      assert.throws(
        () => parseFilterRules({ customerGroups: "selected", customerGroupIds: [-1] }),
        /"Customer groups" has -1/,
      );
      assert.throws(() => parseFilterRules({ customerGroups: "selected" }), /at least one customer group/);
      assert.throws(
        () => parseFilterRules({ syncAllOrders: "no", statuses: ["on hold"] }),
        /"on hold" is not a Magento status code/,
      );
    });
  });

  describe("zero grand total", () => {
    it("is a grand total of 0 in any spelling, not a small or negative one", () => {
      assert.equal(isZeroGrandTotal(parsed({ grand_total: 0 })), true);
      assert.equal(isZeroGrandTotal(parsed({ grand_total: "0.00" })), true);
      assert.equal(isZeroGrandTotal(parsed({ grand_total: 0.01 })), false);
      assert.equal(isZeroGrandTotal(parsed({ grand_total: -5 })), false);
    });
  });

  describe("paid", () => {
    it("means total_paid covers grand_total", () => {
      assert.equal(isPaid(parsed({ grand_total: 50, total_paid: 50, total_due: 0 })), true);
      assert.equal(isPaid(parsed({ grand_total: 50, total_paid: 50.001 })), true);
    });

    it("is not an unpaid, partly paid, or invoiced-but-unpaid order", () => {
      assert.equal(isPaid(parsed({ grand_total: 50, total_paid: undefined, total_due: 50 })), false);
      assert.equal(isPaid(parsed({ grand_total: 50, total_paid: 20, total_due: 30 })), false);
      assert.equal(isPaid(parsed({ grand_total: 50, total_invoiced: 50, total_paid: undefined })), false);
    });

    it("stays paid after a refund, and a zero-total order owes nothing", () => {
      assert.equal(isPaid(parsed({ grand_total: 50, total_paid: 50, total_refunded: 50 })), true);
      assert.equal(isPaid(parsed({ grand_total: 0, total_paid: undefined })), true);
    });
  });

  describe("customer group", () => {
    it("reads customer_group_id, and a guest without it is group 0 (NOT LOGGED IN)", () => {
      assert.equal(customerGroupOf(parsed({ customer_group_id: 2 })), 2);
      assert.equal(
        customerGroupOf(
          parsed({ customer_group_id: undefined, customer_is_guest: 1, customer_id: undefined }),
        ),
        0,
      );
      assert.equal(
        customerGroupOf(parsed({ customer_group_id: undefined, customer_is_guest: 0, customer_id: 4 })),
        undefined,
      );
    });
  });

  describe("the reason given", () => {
    it("names the first rule that applies, the field it read, and the order", () => {
      const order = parsed({
        increment_id: "000000777",
        grand_total: 0,
        status: "fraud",
        store_id: 2,
        customer_group_id: 0,
      });
      const all = rules({
        zeroGrandTotal: "do_not_synchronize",
        syncAllOrders: false,
        statuses: ["complete"],
        storeIds: [1],
        customerGroupIds: [1],
        paidOnly: true,
      });
      const first = skipReason(order, all);
      assert.equal(first?.code, "zero_grand_total");
      assert.equal(first?.field, "grand_total");
      assert.match(first?.message ?? "", /#000000777.*grand total is 0\.00.*"Do not synchronize"/);
      const second = skipReason(order, { ...all, zeroGrandTotal: "synchronize" });
      assert.equal(second?.code, "status_not_selected");
      assert.match(second?.message ?? "", /status "fraud".*\(complete\)/);
      const third = skipReason(order, { ...all, zeroGrandTotal: "synchronize", syncAllOrders: true });
      assert.equal(third?.code, "store_not_selected");
      assert.match(third?.message ?? "", /store view 2 .*\(1\)/);
      const fourth = skipReason(order, {
        ...all,
        zeroGrandTotal: "synchronize",
        syncAllOrders: true,
        storeIds: null,
      });
      assert.equal(fourth?.code, "customer_group_not_selected");
      assert.match(fourth?.message ?? "", /customer group 0 \(NOT LOGGED IN\).*\(1 \(General\)\)/);
      const fifth = skipReason(parsed({ grand_total: 10, total_paid: 4 }), rules({ paidOnly: true }));
      assert.equal(fifth?.code, "not_paid");
      assert.equal(fifth?.field, "total_paid");
      assert.match(fifth?.message ?? "", /not paid \(4\.00 \w{3} paid of 10\.00 \w{3}\)/);
    });

    it("compares status codes without regard to case", () => {
      assert.equal(
        skipReason(parsed({ status: "Complete" }), rules({ syncAllOrders: false, statuses: ["complete"] })),
        null,
      );
    });

    it("skips an order without a store view when store views are selected", () => {
      const reason = skipReason(parsed({ store_id: undefined }), rules({ storeIds: [1] }));
      assert.equal(reason?.code, "store_not_selected");
      assert.match(reason?.message ?? "", /no store view/);
    });
  });

  describe("a page of orders", () => {
    it("keeps the orders untouched and in order, and holds each invalid item with what is wrong", () => {
      const broken = raw({ entity_id: 999, increment_id: "000000999", customer_email: undefined });
      const input = [page[1], "not an order", broken, page[2]];
      const before = structuredClone(input);
      const outcome = filterOrders(input, defaultFilterRules);
      assert.equal(outcome.passed[0], page[1], "the same object, not a copy");
      assert.deepEqual(outcome.passed, [page[1], page[2]]);
      assert.deepEqual(input, before, "nothing was changed");
      assert.deepEqual(
        outcome.held.map((h) => [h.result.action, h.result.error?.code, h.result.error?.field]),
        [
          ["failed", "invalid_order", "[1]"],
          ["failed", "invalid_order", "customer_email"],
        ],
      );
      assert.equal(outcome.held[1].order, broken);
      assert.equal(outcome.held[1].result.incrementId, "000000999");
      assert.match(
        outcome.held[0].result.error?.message ?? "",
        /Item 1 .*not a Magento order \(got a string\)/,
      );
    });

    it("gives every skipped order a result for the filter target", () => {
      const outcome = filterOrders(page, rules({ customerGroupIds: [99] }));
      assert.equal(outcome.passed.length, 0);
      assert.equal(outcome.held.length, page.length);
      for (const [i, held] of outcome.held.entries()) {
        assert.equal(held.order, page[i]);
        assert.deepEqual(
          { ...held.result, error: undefined },
          {
            orderId: page[i].entity_id,
            incrementId: page[i].increment_id,
            target: "filter",
            action: "skipped",
            error: undefined,
          },
        );
        assert.equal(held.result.error?.code, "customer_group_not_selected");
      }
    });
  });

  describe("the editor", () => {
    const root = path.join(__dirname, "..", "..");
    const html = readFileSync(path.join(root, "nodes", "sync-filter.html"), "utf8");
    const locale = JSON.parse(
      readFileSync(path.join(root, "nodes", "locales", "en-US", "sync-filter.json"), "utf8"),
    )["sync-filter"];

    it("offers every stock Magento status, each with a label", () => {
      for (const status of stockStatuses) {
        assert.ok(html.includes(`"${status}"`), `${status} is offered`);
        assert.ok(locale.status[status], `${status} has a label`);
      }
    });

    it("words the options as seed 004 does", () => {
      assert.equal(locale.label.zeroGrandTotal, "Zero Grand Total");
      assert.deepEqual(locale.zeroGrandTotal, {
        synchronize: "Synchronize",
        do_not_synchronize: "Do not synchronize",
      });
      assert.equal(locale.label.syncAllOrders, "Sync all orders");
      assert.deepEqual(locale.yesNo, { yes: "Yes", no: "No" });
    });
  });
});
