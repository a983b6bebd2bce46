/**
 * The sync queue in a flow (test helper runtime): magento-order-in polling the Magento simulator
 * into salesforce-order-out on the Salesforce simulator. What fails is queued, the cursor moves
 * on, and the automatic runs deliver every queued order once the cause is gone — with no reset,
 * no manual sync and no change in Magento.
 */
import assert from "node:assert/strict";
import magentoConfig from "../../src/nodes/magento-config";
import magentoOrderIn from "../../src/nodes/magento-order-in";
import salesforceConfig from "../../src/nodes/salesforce-config";
import salesforceOrderOut from "../../src/nodes/salesforce-order-out";
import { defaultIntegration, startMagentoSimulator, type MagentoSimulator } from "../../src/sandbox/magento";
import type { SalesforceSimulator } from "../../src/sandbox/salesforce";
import { queueRegistry } from "../../src/sync/queue-registry";
import { Collector, deliver, helper, sleep } from "../support/node-red";
import { waitUntil } from "../support/wait";
import { simulator, stopAll } from "../unit/salesforce-fixtures";

const ORDERS = 12;

function flow(
  shop: MagentoSimulator,
  crm: SalesforceSimulator,
  out: Record<string, unknown> = {},
  autoSync = true,
) {
  const onTab = (nodes: Array<{ id: string; type: string } & Record<string, unknown>>) =>
    nodes.map((n) => ({ z: "tab", ...n }));
  return [
    { id: "tab", type: "tab", label: "queue" },
    {
      id: "shop",
      type: "magento-config",
      baseUrl: shop.url,
      storeCode: "default",
      authMode: "bearer",
      timeout: 10,
      pageSize: 5,
      rejectUnauthorized: true,
      ca: "",
    },
    {
      id: "crm",
      type: "salesforce-config",
      loginUrl: "custom",
      customUrl: crm.url,
      apiVersion: "60.0",
      authMode: "password",
    },
    ...onTab([
      {
        id: "in",
        type: "magento-order-in",
        magento: "shop",
        autoSync,
        interval: 1,
        intervalUnit: "s",
        wires: [["out", "pages"], []],
      },
      { id: "pages", type: "helper" },
      { id: "done", type: "complete", scope: ["out"], wires: [["completed"]] },
      { id: "completed", type: "helper" },
      {
        id: "out",
        type: "salesforce-order-out",
        salesforce: "crm",
        defaultStatus: "Draft",
        statusMap: "",
        activatedOrders: "report",
        updateOrders: true,
        syncNotes: true,
        contacts: true,
        retryFirst: 0.2,
        retryMax: 0.02,
        limitWait: 0.02,
        ...out,
        wires: [[], []],
      },
    ]),
  ];
}

function credentials(crm: SalesforceSimulator) {
  const c = crm.credentials;
  return {
    shop: { token: defaultIntegration.accessToken },
    crm: {
      clientId: c.clientId,
      clientSecret: c.clientSecret,
      username: c.username,
      password: c.password,
      securityToken: c.securityToken,
    },
  };
}

async function load(
  shop: MagentoSimulator,
  crm: SalesforceSimulator,
  out?: Record<string, unknown>,
  autoSync?: boolean,
) {
  await helper.load(
    [magentoConfig, magentoOrderIn, salesforceConfig, salesforceOrderOut],
    flow(shop, crm, out, autoSync),
    credentials(crm),
  );
}

/** A full deploy of changed flows, as the editor's Deploy button does (context of kept nodes stays). */
async function redeploy(shop: MagentoSimulator, crm: SalesforceSimulator, out: Record<string, unknown>) {
  const before = queueOf();
  const runtime = (
    helper as unknown as { _redNodes: { setFlows(f: object[], c: object, t: string): Promise<unknown> } }
  )._redNodes;
  await runtime.setFlows(flow(shop, crm, out), credentials(crm), "full");
  await waitUntil("the redeployed node runs", () => queueOf() !== undefined && queueOf() !== before);
}

const queueOf = () => queueRegistry.owner("out")?.queue;
const cursorOf = () =>
  helper.getNode("in").context().get("magentoCursor") as { entityId: number } | undefined;
const ordersIn = (crm: SalesforceSimulator) =>
  crm.db.records("Order").map((o) => String(o.Magento_Order_Key__c));

describe("sync queue in a flow (magento-order-in → salesforce-order-out)", function () {
  this.timeout(180_000);
  let shop: MagentoSimulator;
  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(async () => {
    shop = await startMagentoSimulator({ orders: ORDERS, seed: 41 });
  });
  afterEach(async () => {
    await helper.unload();
    await shop.stop();
    await stopAll();
  });

  it("queues every order of pages Salesforce refuses as a whole, moves the cursor, and delivers them once Salesforce answers again", async () => {
    const crm = await simulator();
    crm.setFaults({ rate: 1, kinds: ["503"] });
    await load(shop, crm);
    await waitUntil(
      "all orders queued and the cursor past them",
      () => (queueOf()?.size ?? 0) === ORDERS && cursorOf() !== undefined,
    );
    const queued = queueOf()!.entries();
    assert.ok(
      queued.every((e) => e.retryClass === "transient" && e.error.code === "page_failed"),
      JSON.stringify(queued[0]),
    );
    assert.equal(crm.db.count("Order"), 0);
    crm.setFaults(undefined);
    await waitUntil("the queue drained", () => queueOf()!.size === 0 && crm.db.count("Order") === ORDERS);
    const keys = ordersIn(crm);
    assert.equal(new Set(keys).size, ORDERS, "each order once");
  });

  it("without automatic sync, pulls queued orders again by itself when they come due, and warns that a memory store forgets them", async () => {
    const crm = await simulator();
    crm.setFaults({ rate: 1, kinds: ["503"] });
    await load(shop, crm, {}, false);
    helper.getNode("in").receive({ payload: {} } as never);
    await waitUntil("all orders queued", () => (queueOf()?.size ?? 0) === ORDERS);
    crm.setFaults(undefined);
    // No more input: the intake's own timer pulls the queued orders when they come due.
    await waitUntil("the queue drained", () => queueOf()!.size === 0 && crm.db.count("Order") === ORDERS);
    assert.equal(new Set(ordersIn(crm)).size, ORDERS);
    const warnings = (helper.log() as unknown as { args: Array<[{ level: number; msg: unknown }]> }).args
      .map(([e]) => e)
      .filter((e) => e.level === 30 && /kept in memory only/.test(String(e.msg)));
    assert.equal(warnings.length, 1, "one warning that the queue is in memory only");
  });

  it("keeps orders refused for the Default Status until the node is redeployed with a Draft status, then sends them by itself", async () => {
    const crm = await simulator();
    await load(shop, crm, { defaultStatus: "Activated" });
    await waitUntil("all orders queued", () => (queueOf()?.size ?? 0) === ORDERS);
    assert.ok(
      queueOf()!
        .entries()
        .every((e) => e.retryClass === "config"),
    );
    await sleep(1_500);
    assert.equal(crm.db.count("Order"), 0, "configuration causes are not retried before a redeploy");
    // The user fixes the setting and deploys.
    await redeploy(shop, crm, { defaultStatus: "Draft" });
    await waitUntil(
      "every order in Salesforce",
      () => crm.db.count("Order") === ORDERS && queueOf()!.size === 0,
    );
    assert.equal(new Set(ordersIn(crm)).size, ORDERS);
  });

  it("narrows a page pulled again to the orders this node queued", async () => {
    const crm = await simulator();
    await load(shop, crm);
    const pages = new Collector("pages");
    const completed = new Collector("completed");
    await waitUntil("every order in Salesforce", () => crm.db.count("Order") === ORDERS);
    // Quiet: the node is done with every page it was sent (a page's writes are over by then).
    await waitUntil(
      "salesforce-order-out done with every page",
      () => completed.messages.length >= pages.messages.length,
    );
    const calls = () => JSON.stringify(crm.counters);
    const before = calls();
    const retry = { payload: [shop.orders.get(1)], magento: { retry: { someOtherNode: ["id:1"] } } };
    await deliver("out", retry, [completed]);
    assert.equal(calls(), before, "nothing sent to Salesforce for another node's retry");
  });
});
