import assert from "node:assert/strict";
import magentoConfig from "../../src/nodes/magento-config";
import magentoOrderIn from "../../src/nodes/magento-order-in";
import syncFilter from "../../src/nodes/sync-filter";
import {
  defaultIntegration,
  defaultStoreViews,
  generateOrders,
  startMagentoSimulator,
  type MagentoOrderRecord,
  type MagentoSimulator,
} from "../../src/sandbox/magento";
import type { FilterSettings } from "../../src/sync/filter-rules";
import type { SyncResult } from "../../src/sync/result";
import { Collector, deliver, helper } from "../support/node-red";
import { waitUntil } from "../support/wait";

type Order = MagentoOrderRecord;
type Msg = Record<string, unknown> & { payload: unknown };

/** A page as magento-order-in emits it: 200 generated orders (all stock statuses, both store views, guests, 100 % coupons). */
const page: Order[] = generateOrders(200, 4);

function find(what: string, test: (o: Order) => boolean): Order {
  const order = page.find(test);
  if (!order) throw new Error(`the generated page has no ${what}`);
  return order;
}

const fullCoupon = find("100 % coupon order", (o) => o.coupon_code === "FREESAMPLE" && o.grand_total === 0);
const paid = find("paid order", (o) => Number(o.total_paid) > 0 && o.total_paid === o.grand_total);
const unpaid = find("unpaid order", (o) => o.total_paid === undefined && Number(o.grand_total) > 0);
const guest = find("guest order", (o) => o.customer_is_guest === 1 && o.customer_group_id === 0);
const inStore = (id: number) =>
  find(`order in store ${id}`, (o) => o.store_id === id && Number(o.grand_total) > 0);
const inGroup = (id: number) =>
  find(`order of group ${id}`, (o) => o.customer_group_id === id && o.customer_is_guest === 0);

/** A copy of an order with some fields changed (`undefined` removes a field). */
function variant(order: Order, changes: Record<string, unknown>): Order {
  const copy = structuredClone(order);
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) delete copy[key];
    else copy[key] = value;
  }
  return copy;
}

function flow(settings: FilterSettings & Record<string, unknown>) {
  const onTab = (nodes: Array<{ id: string; type: string } & Record<string, unknown>>) =>
    nodes.map((n) => ({ z: "tab", ...n }));
  return [
    { id: "tab", type: "tab", label: "test" },
    ...onTab([
      { id: "filter", type: "sync-filter", ...settings, wires: [["passed"], ["skipped"]] },
      { id: "passed", type: "helper" },
      { id: "skipped", type: "helper" },
      { id: "done", type: "complete", scope: ["filter"], wires: [["completed"]] },
      { id: "completed", type: "helper" },
      { id: "catcher", type: "catch", scope: ["filter"], wires: [["caught"]] },
      { id: "caught", type: "helper" },
      { id: "stat", type: "status", scope: ["filter"], wires: [["statuses"]] },
      { id: "statuses", type: "helper" },
    ]),
  ];
}

const simToken = { cfg: { token: defaultIntegration.accessToken } };

/** A flow with a Magento config node `cfg` pointing at the simulator, and `nodes` on a tab. */
function withMagento(
  sim: MagentoSimulator,
  nodes: Array<{ id: string; type: string } & Record<string, unknown>>,
) {
  return [
    { id: "tab", type: "tab", label: "test" },
    {
      id: "cfg",
      type: "magento-config",
      baseUrl: sim.url,
      storeCode: "default",
      authMode: "bearer",
      pageSize: 50,
    },
    ...nodes.map((n) => ({ z: "tab", ...n })),
  ];
}

async function load(settings: FilterSettings & Record<string, unknown> = {}) {
  await helper.load([syncFilter], flow(settings));
  return {
    passed: new Collector("passed"),
    skipped: new Collector("skipped"),
    completed: new Collector("completed"),
    caught: new Collector("caught"),
    statuses: new Collector("statuses"),
  };
}

type Collectors = Awaited<ReturnType<typeof load>>;

/** Sends one message to the filter and waits until it has finished with it (done or error). */
const send = (c: Collectors, msg: Record<string, unknown>) => deliver("filter", msg, [c.completed, c.caught]);

const passedOrders = (c: Collectors) => c.passed.messages.flatMap((m) => m.payload as Order[]);
const skippedResults = (c: Collectors) => c.skipped.messages.flatMap((m) => m.payload as SyncResult[]);
const ids = (orders: Array<{ entity_id?: unknown; orderId?: unknown }>) =>
  orders.map((o) => Number(o.entity_id ?? o.orderId));
const lastStatus = (c: Collectors) =>
  (c.statuses.messages.at(-1)?.status as { text: string; fill: string }).text;

describe("sync-filter node", function () {
  afterEach(() => helper.unload());

  describe("Zero Grand Total", () => {
    const zeroText = variant(inStore(1), { entity_id: 5001, increment_id: "000005001", grand_total: "0.00" });

    it("Synchronize: zero-total orders pass like any other, a 100 % coupon order included", async () => {
      const c = await load({ zeroGrandTotal: "synchronize" });
      await send(c, { payload: [fullCoupon, zeroText, paid] });
      assert.deepEqual(ids(passedOrders(c)), [fullCoupon.entity_id, 5001, paid.entity_id]);
      assert.equal(c.skipped.messages.length, 0);
    });

    it("Do not synchronize: a 100 % coupon order and a 0.00 total are skipped with the reason, the rest pass", async () => {
      const c = await load({ zeroGrandTotal: "do_not_synchronize" });
      const cent = variant(paid, { entity_id: 5002, grand_total: 0.01 });
      await send(c, { payload: [fullCoupon, zeroText, paid, cent] });
      assert.deepEqual(ids(passedOrders(c)), [paid.entity_id, 5002]);
      const skipped = skippedResults(c);
      assert.deepEqual(ids(skipped), [fullCoupon.entity_id, 5001]);
      for (const result of skipped) {
        assert.equal(result.action, "skipped");
        assert.equal(result.target, "filter");
        assert.equal(result.error?.code, "zero_grand_total");
        assert.equal(result.error?.field, "grand_total");
        assert.match(result.error?.message ?? "", /grand total is 0\.00 .*"Do not synchronize"/);
      }
      assert.match(skipped[0].error?.message ?? "", new RegExp(`#${fullCoupon.increment_id}`));
    });

    it("every zero-total order of a generated page is skipped, and only those", async () => {
      const c = await load({ zeroGrandTotal: "do_not_synchronize" });
      await send(c, { payload: page });
      const zero = page.filter((o) => o.grand_total === 0).map((o) => o.entity_id);
      assert.ok(zero.length >= 2);
      assert.deepEqual(ids(skippedResults(c)), zero);
      assert.equal(passedOrders(c).length, page.length - zero.length);
    });
  });

  describe("Sync all orders", () => {
    const custom = variant(inStore(1), { entity_id: 5003, status: "awaiting_stock", state: "processing" });
    const everyStatus = [...new Map([...page, custom].map((o) => [o.status, o])).values()];

    it("Yes: orders with any status pass, a custom status included", async () => {
      assert.equal(everyStatus.length, 10, "the nine stock statuses and one custom status");
      const c = await load({ syncAllOrders: "yes", statuses: ["complete"] });
      await send(c, { payload: everyStatus });
      assert.equal(passedOrders(c).length, 10);
      assert.equal(c.skipped.messages.length, 0);
    });

    it("No: only the selected statuses pass, a custom status included; the others name their status", async () => {
      const c = await load({ syncAllOrders: "no", statuses: ["complete", "awaiting_stock"] });
      await send(c, { payload: everyStatus });
      assert.deepEqual(
        passedOrders(c)
          .map((o) => o.status)
          .sort(),
        ["awaiting_stock", "complete"],
      );
      const skipped = skippedResults(c);
      assert.equal(skipped.length, 8);
      for (const [i, result] of skipped.entries()) {
        const order = (c.skipped.messages[0].skipped as Order[])[i];
        assert.equal(result.orderId, order.entity_id);
        assert.equal(result.error?.code, "status_not_selected");
        assert.equal(result.error?.field, "status");
        assert.ok(result.error?.message.includes(`its status "${order.status}"`));
      }
    });
  });

  describe("Store views", () => {
    it("only orders of the selected store views pass", async () => {
      const c = await load({ storeViews: "selected", storeIds: [2] });
      await send(c, { payload: [inStore(1), inStore(2)] });
      assert.deepEqual(ids(passedOrders(c)), [inStore(2).entity_id]);
      const [result] = skippedResults(c);
      assert.equal(result.orderId, inStore(1).entity_id);
      assert.equal(result.error?.code, "store_not_selected");
      assert.equal(result.error?.field, "store_id");
      assert.match(result.error?.message ?? "", /store view 1 is not one of the selected store views \(2\)/);
    });

    it("picks from the store views of the chosen Magento config node", async () => {
      const sim = await startMagentoSimulator({ orders: 0 });
      try {
        await helper.load(
          [magentoConfig, syncFilter],
          withMagento(sim, [
            {
              id: "filter",
              type: "sync-filter",
              magento: "cfg",
              storeViews: "selected",
              storeIds: [1],
              wires: [[], []],
            },
          ]),
          simToken,
        );
        const res = await helper.request().get("/orderbridge/magento/cfg/store-views").expect(200);
        const listed = (res.body.storeViews as Array<{ id: number }>)
          .map((s) => s.id)
          .filter((id) => id !== 0);
        assert.deepEqual(
          listed,
          defaultStoreViews.map((s) => s.id),
        );
        assert.ok(helper.getNode("filter"), "the filter runs with a config node reference");
      } finally {
        await helper.unload();
        await sim.stop();
      }
    });
  });

  describe("Customer groups", () => {
    it("guests are group 0 (NOT LOGGED IN): selecting it passes guests only", async () => {
      const c = await load({ customerGroups: "selected", customerGroupIds: [0] });
      const guestWithoutGroup = variant(guest, { entity_id: 5004, customer_group_id: undefined });
      await send(c, { payload: [guest, guestWithoutGroup, inGroup(1), inGroup(2)] });
      assert.deepEqual(ids(passedOrders(c)), [guest.entity_id, 5004]);
      assert.deepEqual(
        skippedResults(c).map((r) => [r.orderId, r.error?.code]),
        [
          [inGroup(1).entity_id, "customer_group_not_selected"],
          [inGroup(2).entity_id, "customer_group_not_selected"],
        ],
      );
    });

    it("selected groups pass and guests are skipped, the reason naming the group", async () => {
      const c = await load({ customerGroups: "selected", customerGroupIds: [1, 3] });
      await send(c, { payload: [guest, inGroup(1), inGroup(2), inGroup(3)] });
      assert.deepEqual(ids(passedOrders(c)), [inGroup(1).entity_id, inGroup(3).entity_id]);
      const skipped = skippedResults(c);
      assert.deepEqual(ids(skipped), [guest.entity_id, inGroup(2).entity_id]);
      assert.match(skipped[0].error?.message ?? "", /customer group 0 \(NOT LOGGED IN\)/);
      assert.match(skipped[1].error?.message ?? "", /customer group 2 \(Wholesale\)/);
      assert.equal(skipped[1].error?.field, "customer_group_id");
    });
  });

  describe("Paid orders only", () => {
    it("passes orders with nothing left to pay and skips unpaid and partly paid ones", async () => {
      const c = await load({ paidOnly: true });
      const partly = variant(paid, { entity_id: 5005, total_paid: Number(paid.grand_total) / 2 });
      await send(c, { payload: [paid, unpaid, partly, fullCoupon] });
      assert.deepEqual(ids(passedOrders(c)), [paid.entity_id, fullCoupon.entity_id]);
      const skipped = skippedResults(c);
      assert.deepEqual(ids(skipped), [unpaid.entity_id, 5005]);
      for (const result of skipped) {
        assert.equal(result.error?.code, "not_paid");
        assert.equal(result.error?.field, "total_paid");
        assert.match(result.error?.message ?? "", /is not paid .*"Paid orders only" is on/);
      }
    });

    it("off: unpaid orders pass", async () => {
      const c = await load({ paidOnly: false });
      await send(c, { payload: [paid, unpaid] });
      assert.equal(passedOrders(c).length, 2);
    });
  });

  describe("messages", () => {
    it("one order in, one order out; a skipped one leaves on output 2 as a list of one", async () => {
      const c = await load({ zeroGrandTotal: "do_not_synchronize" });
      await send(c, { payload: paid, topic: "webhook" });
      assert.equal(c.passed.messages.length, 1);
      assert.deepEqual(c.passed.messages[0].payload, paid, "an object, not an array");
      assert.equal(c.passed.messages[0].topic, "webhook");
      await send(c, { payload: fullCoupon });
      assert.equal(c.passed.messages.length, 1, "nothing on output 1");
      const out = c.skipped.messages[0] as Msg;
      assert.deepEqual(ids(out.payload as SyncResult[]), [fullCoupon.entity_id]);
      assert.deepEqual(out.skipped, [fullCoupon]);
    });

    it("keeps the page's message properties on both outputs and leaves the orders untouched", async () => {
      const c = await load({ storeViews: "selected", storeIds: [1] });
      const input = [inStore(1), inStore(2)];
      const before = structuredClone(input);
      await send(c, { payload: input, magento: { page: 3 } });
      assert.deepEqual(c.passed.messages[0].magento, { page: 3 });
      assert.deepEqual(c.skipped.messages[0].magento, { page: 3 });
      assert.deepEqual(c.passed.messages[0].payload, [before[0]]);
      assert.deepEqual(c.skipped.messages[0].skipped, [before[1]]);
    });

    it("sends nothing for an empty page", async () => {
      const c = await load();
      await send(c, { payload: [] });
      assert.equal(c.passed.messages.length + c.skipped.messages.length, 0);
      assert.equal(c.caught.messages.length, 0);
      assert.equal(lastStatus(c), "0 passed, 0 skipped");
    });

    it("shows passed and skipped counts in its status", async () => {
      const c = await load({ customerGroups: "selected", customerGroupIds: [1] });
      await send(c, { payload: [inGroup(1), inGroup(2), guest] });
      assert.equal(lastStatus(c), "1 passed, 2 skipped");
    });
  });

  describe("bad input", () => {
    it("refuses a payload that is not an order, naming msg.payload", async () => {
      const c = await load();
      for (const payload of ["000000001", 42, null]) await send(c, { payload });
      const errors = c.caught.messages.map((m) => (m.error as { message: string }).message);
      assert.equal(errors.length, 3);
      assert.match(errors[0], /msg\.payload must be a Magento order or an array of orders \(got a string\)/);
      assert.match(errors[2], /\(got null\)/);
      assert.equal(c.passed.messages.length + c.skipped.messages.length, 0);
    });

    it("refuses one invalid order naming the order and the field", async () => {
      const c = await load();
      await send(c, { payload: variant(paid, { customer_email: undefined }) });
      const error = (c.caught.messages[0].error as { message: string }).message;
      assert.match(error, new RegExp(`#${paid.increment_id}.*customer_email is missing`));
      assert.equal(c.passed.messages.length, 0);
    });

    it("in a page, holds an invalid order on output 2 and passes the rest", async () => {
      const c = await load();
      const broken = variant(unpaid, { grand_total: "lots" });
      await send(c, { payload: [paid, broken] });
      assert.deepEqual(ids(passedOrders(c)), [paid.entity_id]);
      const [result] = skippedResults(c);
      assert.deepEqual(
        [result.action, result.error?.code, result.error?.field],
        ["failed", "invalid_order", "grand_total"],
      );
      assert.equal(c.caught.messages.length, 0);
      assert.equal(lastStatus(c), "1 passed, 0 skipped, 1 invalid");
    });

    it("with settings that make no sense, reports them on every message and turns red", async () => {
      const c = await load({ syncAllOrders: "no", statuses: [] });
      await send(c, { payload: [paid] });
      assert.match(
        (c.caught.messages[0].error as { message: string }).message,
        /select at least one order status/,
      );
      assert.equal(c.passed.messages.length, 0);
      assert.equal((c.statuses.messages.at(-1)?.status as { fill: string }).fill, "red");
    });
  });

  describe("all rules together", () => {
    it("partitions a generated page of 200 orders exactly as the rules say", async () => {
      const statuses = ["processing", "complete", "closed", "holded"];
      const c = await load({
        zeroGrandTotal: "do_not_synchronize",
        syncAllOrders: "no",
        statuses,
        storeViews: "selected",
        storeIds: [1],
        customerGroups: "selected",
        customerGroupIds: [0, 1, 3],
        paidOnly: true,
      });
      await send(c, { payload: page });

      // The seed's rules written out again, in the order the help text lists them.
      const expected = new Map<number, string>();
      for (const o of page) {
        const reason =
          Number(o.grand_total) === 0
            ? "zero_grand_total"
            : !statuses.includes(o.status)
              ? "status_not_selected"
              : o.store_id !== 1
                ? "store_not_selected"
                : ![0, 1, 3].includes(Number(o.customer_group_id))
                  ? "customer_group_not_selected"
                  : Number(o.total_paid ?? 0) < Number(o.grand_total)
                    ? "not_paid"
                    : "passed";
        expected.set(Number(o.entity_id), reason);
      }
      const passed = ids(passedOrders(c));
      const skipped = skippedResults(c);
      assert.equal(passed.length + skipped.length, 200);
      assert.ok(passed.length > 0, "some orders pass all five rules");
      assert.deepEqual(
        passed,
        page.filter((o) => expected.get(Number(o.entity_id)) === "passed").map((o) => o.entity_id),
      );
      for (const result of skipped) {
        assert.equal(result.action, "skipped");
        assert.equal(result.error?.code, expected.get(Number(result.orderId)), `order ${result.orderId}`);
        assert.ok(result.error?.message.includes(String(result.incrementId)));
      }
      const byRule = new Set(skipped.map((r) => r.error?.code));
      assert.equal(byRule.size, 5, `every rule skipped something: ${[...byRule].join(", ")}`);
      assert.equal(lastStatus(c), `${passed.length} passed, ${skipped.length} skipped`);
    });

    it("sits between magento-order-in and a target: every pulled order passes or is skipped once", async () => {
      const sim = await startMagentoSimulator({ orders: 120, seed: 9 });
      try {
        await helper.load(
          [magentoConfig, magentoOrderIn, syncFilter],
          withMagento(sim, [
            { id: "in", type: "magento-order-in", magento: "cfg", wires: [["filter"], []] },
            {
              id: "filter",
              type: "sync-filter",
              syncAllOrders: "no",
              statuses: ["complete"],
              wires: [["passed"], ["skipped"]],
            },
            { id: "passed", type: "helper" },
            { id: "skipped", type: "helper" },
          ]),
          simToken,
        );
        const passed = new Collector("passed");
        const skipped = new Collector("skipped");
        const total = () =>
          [...passed.messages, ...skipped.messages].reduce((n, m) => n + (m.payload as unknown[]).length, 0);
        helper.getNode("in").receive({ payload: "" } as never);
        await waitUntil("120 orders through the filter", () => total() >= 120, {
          detail: () => `${total()} came through`,
        });
        const complete = [...sim.orders.values()]
          .filter((o) => o.status === "complete")
          .map((o) => o.entity_id);
        assert.deepEqual(
          ids(passed.messages.flatMap((m) => m.payload as Order[])).sort((a, b) => a - b),
          complete,
        );
        assert.equal(total(), 120);
        assert.ok(passed.messages.length >= 2, "one message per page");
      } finally {
        await helper.unload();
        await sim.stop();
      }
    });
  });
});
