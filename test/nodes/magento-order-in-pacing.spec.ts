import assert from "node:assert/strict";
import magentoConfig from "../../src/nodes/magento-config";
import magentoOrderIn from "../../src/nodes/magento-order-in";
import { defaultIntegration, startMagentoSimulator, type MagentoSimulator } from "../../src/sandbox/magento";
import { Collector, helper, sleep } from "../support/node-red";

function flow(sim: MagentoSimulator, pagesPerRun: number) {
  const onTab = (nodes: Array<{ id: string; type: string } & Record<string, unknown>>) =>
    nodes.map((n) => ({ z: "tab", ...n }));
  return [
    { id: "tab", type: "tab", label: "test" },
    {
      id: "cfg",
      type: "magento-config",
      baseUrl: sim.url,
      storeCode: "default",
      authMode: "bearer",
      timeout: 5,
      pageSize: 50,
      rejectUnauthorized: true,
      ca: "",
    },
    ...onTab([
      {
        id: "in",
        type: "magento-order-in",
        magento: "cfg",
        autoSync: false,
        interval: 1,
        intervalUnit: "h",
        pagesPerRun,
        wires: [["orders"], []],
      },
      { id: "orders", type: "helper" },
      { id: "done", type: "complete", scope: ["in"], wires: [["completed"]] },
      { id: "completed", type: "helper" },
    ]),
  ];
}

describe("magento-order-in node: pages per run", function () {
  let sim: MagentoSimulator;

  beforeEach(async () => {
    sim = await startMagentoSimulator({ orders: 230, seed: 11 });
  });
  afterEach(async () => {
    await helper.unload();
    await sim.stop();
  });

  it("pulls one page per message and goes on from the saved cursor until every order came once", async () => {
    await helper.load([magentoConfig, magentoOrderIn], flow(sim, 1), {
      cfg: { token: defaultIntegration.accessToken },
    });
    const orders = new Collector("orders");
    const completed = new Collector("completed");
    const pull = async () => {
      const before = completed.messages.length;
      helper.getNode("in").receive({ payload: "" } as never);
      await completed.count(before + 1);
    };
    const ids = () =>
      orders.messages.flatMap((m) => (m.payload as Array<{ entity_id: number }>).map((o) => o.entity_id));

    await pull();
    assert.equal(orders.messages.length, 1, "one page for one message");
    assert.equal(ids().length, 50);
    for (let i = 0; i < 5; i++) await pull();
    await sleep(20);
    assert.equal(ids().length, 230);
    assert.equal(new Set(ids()).size, 230, "no order twice");
    assert.equal(orders.messages.length, 5, "five pages, and nothing once caught up");
  });

  it("with 0 pulls everything in one run, as before", async () => {
    await helper.load([magentoConfig, magentoOrderIn], flow(sim, 0), {
      cfg: { token: defaultIntegration.accessToken },
    });
    const orders = new Collector("orders");
    const completed = new Collector("completed");
    helper.getNode("in").receive({ payload: "" } as never);
    await completed.count(1);
    assert.equal(orders.messages.length, 5);
  });
});
