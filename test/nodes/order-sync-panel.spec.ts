/**
 * The runtime half of the "Order sync" panel against real magento-order-in nodes and the Magento
 * simulator. The test helper stubs `RED.plugins.registerPlugin` (onadd never runs), so the
 * panel is installed with `install(RED)` on the helper's RED; its `needsPermission` is a
 * pass-through (permissions are covered by the e2e suite against the real runtime).
 */
import assert from "node:assert/strict";
import type { NodeAPI } from "node-red";
import magentoConfig from "../../src/nodes/magento-config";
import magentoOrderIn from "../../src/nodes/magento-order-in";
import orderSyncPanel, {
  COMMS_TOPIC,
  install,
  PLUGIN_ID,
  ROUTES,
  type Installed,
} from "../../src/plugins/order-sync-panel";
import { defaultIntegration, startMagentoSimulator, type MagentoSimulator } from "../../src/sandbox/magento";
import { QueueRegistry } from "../../src/sync/queue-registry";
import type { SyncResult } from "../../src/sync/result";
import { SyncLog } from "../../src/sync/sync-log";
import { SyncQueue, type QueueSource } from "../../src/sync/sync-queue";
import { Collector, helper, sleep } from "../support/node-red";

const token = "panel-test-token-0001";

function flow(sim: MagentoSimulator) {
  return [
    { id: "tab", type: "tab", label: "Shop intake" },
    { id: "off", type: "tab", label: "Disabled", disabled: true },
    {
      id: "shop",
      type: "magento-config",
      name: "Main shop",
      baseUrl: sim.url,
      storeCode: "default",
      authMode: "bearer",
      timeout: 5,
      pageSize: 50,
      rejectUnauthorized: true,
      ca: "",
    },
    {
      id: "outlet",
      type: "magento-config",
      baseUrl: sim.url,
      storeCode: "default",
      authMode: "bearer",
      timeout: 5,
      pageSize: 50,
      rejectUnauthorized: true,
      ca: "",
    },
    ...[
      { id: "in-shop", name: "Shop orders", magento: "shop", wires: [["orders-shop"], ["invalid"]] },
      { id: "in-outlet", magento: "outlet", wires: [["orders-outlet"], ["invalid"]] },
      { id: "in-disabled", magento: "shop", d: true, wires: [[], []] },
    ].map((n) => ({
      type: "magento-order-in",
      z: "tab",
      autoSync: false,
      interval: 1,
      intervalUnit: "h",
      ...n,
    })),
    {
      id: "in-off-tab",
      type: "magento-order-in",
      z: "off",
      magento: "shop",
      autoSync: false,
      interval: 1,
      intervalUnit: "h",
      wires: [[], []],
    },
    { id: "orders-shop", type: "helper", z: "tab" },
    { id: "orders-outlet", type: "helper", z: "tab" },
    { id: "invalid", type: "helper", z: "tab" },
  ];
}

type Msg = { payload: Array<{ entity_id: number }>; magento: { trigger: string } };

function failedResult(orderId: number, incrementId: string): SyncResult {
  return {
    orderId,
    incrementId,
    target: "tryton",
    action: "failed",
    error: { code: "http_500", message: `Tryton refused sale for order #${incrementId}` },
  };
}

describe("order-sync-panel plugin (runtime half)", function () {
  let sim: MagentoSimulator;
  let log: SyncLog;
  let registry: QueueRegistry;
  let panel: Installed | undefined;
  let red: NodeAPI;
  let published: Array<{ topic: string; data: { seq: number; intakes: boolean } }>;
  let onComms: (e: { topic: string; data: { seq: number; intakes: boolean } }) => void;

  beforeEach(async () => {
    sim = await startMagentoSimulator({
      orders: 30,
      seed: 5,
      integration: { ...defaultIntegration, accessToken: token, bearerEnabled: true },
    });
    log = new SyncLog();
    registry = new QueueRegistry();
    published = [];
    onComms = (e) => {
      if (e.topic === COMMS_TOPIC) published.push(e);
    };
    const capture = (RED: NodeAPI) => {
      red = RED;
      RED.events.on("comms", onComms);
      panel = install(RED, log, registry);
    };
    await helper.load([magentoConfig, magentoOrderIn, capture], flow(sim), {
      shop: { token },
      outlet: { token },
    });
  });

  afterEach(async () => {
    panel?.uninstall();
    red?.events.removeListener("comms", onComms);
    await helper.unload();
    await sim.stop();
  });

  it("registers itself as a Node-RED plugin whose onadd installs the panel once", () => {
    const registered: Array<{ id: string; def: { onadd?: () => void; type?: string } }> = [];
    const routes: string[] = [];
    const fakeRED = {
      plugins: { registerPlugin: (id: string, def: { onadd?: () => void }) => registered.push({ id, def }) },
      auth: { needsPermission: (p: string) => Object.assign(() => undefined, { permission: p }) },
      httpAdmin: {
        get: (route: string) => routes.push(`GET ${route}`),
        post: (route: string) => routes.push(`POST ${route}`),
      },
      events: { on: () => undefined },
      nodes: {},
      comms: { publish: () => undefined },
      log: { info: () => undefined },
    } as unknown as NodeAPI;
    orderSyncPanel(fakeRED);
    assert.equal(registered.length, 1);
    assert.equal(registered[0].id, PLUGIN_ID);
    assert.equal(registered[0].def.type, undefined, "a plain sidebar plugin has no type");
    registered[0].def.onadd?.();
    registered[0].def.onadd?.();
    assert.deepEqual(routes.sort(), [
      `GET ${ROUTES.intakes}`,
      `GET ${ROUTES.queue}`,
      `GET ${ROUTES.results}`,
      `POST ${ROUTES.again}`,
      `POST ${ROUTES.queueAgain}`,
      `POST ${ROUTES.queueDismiss}`,
    ]);
  });

  it("puts a permission check on every route: orderbridge.read to look, orderbridge.write to sync again", () => {
    const seen: Record<string, string> = {};
    const fakeRED = {
      auth: {
        needsPermission: (p: string) => {
          const mw = () => undefined;
          (mw as unknown as { permission: string }).permission = p;
          return mw;
        },
      },
      httpAdmin: Object.fromEntries(
        ["get", "post", "put", "delete"].map((m) => [
          m,
          (route: string, ...handlers: Array<{ permission?: string }>) => {
            seen[`${m.toUpperCase()} ${route}`] = handlers[0]?.permission ?? "none";
          },
        ]),
      ),
      events: { on: () => undefined },
      comms: { publish: () => undefined },
    } as unknown as NodeAPI;
    install(fakeRED, new SyncLog());
    assert.deepEqual(seen, {
      [`GET ${ROUTES.results}`]: "orderbridge.read",
      [`GET ${ROUTES.intakes}`]: "orderbridge.read",
      [`POST ${ROUTES.again}`]: "orderbridge.write",
      [`GET ${ROUTES.queue}`]: "orderbridge.read",
      [`POST ${ROUTES.queueAgain}`]: "orderbridge.write",
      [`POST ${ROUTES.queueDismiss}`]: "orderbridge.write",
    });
  });

  it("serves the latest results per order and target with counts, filtered like the panel asks", async () => {
    log.recordResults({ nodeId: "sale-out", nodeType: "tryton-sale-out", intakeNodeId: "in-shop" }, [
      { orderId: 1, incrementId: "000000001", target: "tryton", action: "created", targetId: "SO1" },
      failedResult(2, "000000002"),
    ]);
    log.recordResults({ nodeId: "sf", nodeType: "salesforce-order-out" }, [
      { orderId: 1, incrementId: "000000001", target: "salesforce", action: "skipped" },
    ]);

    const all = await helper.request().get(ROUTES.results).expect(200);
    assert.equal(all.body.entries.length, 3);
    assert.equal(all.body.seq, 3);
    assert.deepEqual(all.body.counts, {
      created: 1,
      updated: 0,
      unchanged: 0,
      skipped: 1,
      failed: 1,
      held: 0,
    });
    assert.deepEqual(all.body.entries[0].source, { nodeId: "sf", nodeType: "salesforce-order-out" });

    const failed = await helper.request().get(ROUTES.results).query({ action: "failed" }).expect(200);
    assert.deepEqual(
      failed.body.entries.map((e: SyncResult) => e.incrementId),
      ["000000002"],
    );
    const tryton = await helper.request().get(ROUTES.results).query({ target: "tryton", search: "0001" });
    assert.deepEqual(
      tryton.body.entries.map((e: SyncResult) => [e.target, e.orderId]),
      [["tryton", 1]],
    );
    const bogus = await helper.request().get(ROUTES.results).query({ target: "odoo", action: "nope" });
    assert.equal(bogus.body.entries.length, 3, "unknown filter values are ignored, not errors");
  });

  it("lists the running magento-order-in nodes with their Magento configuration, not disabled ones", async () => {
    const res = await helper.request().get(ROUTES.intakes).expect(200);
    assert.deepEqual(
      res.body.intakes.sort((a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id)),
      [
        { id: "in-outlet", name: "", z: "tab", magentoConfigId: "outlet", magentoLabel: sim.url },
        { id: "in-shop", name: "Shop orders", z: "tab", magentoConfigId: "shop", magentoLabel: "Main shop" },
      ],
    );
  });

  it("syncs a failed order again through the intake that pulled it: Magento is asked for that order", async () => {
    const orders = new Collector("orders-shop");
    const outlet = new Collector("orders-outlet");
    const order = sim.orders.get(7)!;
    log.recordResults(
      { nodeId: "sale-out", nodeType: "tryton-sale-out", intakeNodeId: "in-shop", magentoConfigId: "shop" },
      [failedResult(7, String(order.increment_id))],
    );
    sim.resetCounters();
    const res = await helper
      .request()
      .post(ROUTES.again)
      .send({ orders: [{ orderId: 7, incrementId: order.increment_id }] })
      .expect(200);
    assert.deepEqual(res.body, { ok: true, sent: [{ intake: "in-shop", name: "Shop orders", orders: 1 }] });
    await orders.count(1);
    const msg = orders.messages[0] as unknown as Msg;
    assert.deepEqual(
      msg.payload.map((o) => o.entity_id),
      [7],
    );
    assert.equal(msg.magento.trigger, "ids");
    assert.ok((sim.counters["GET /V1/orders"] ?? 0) >= 1, "the order was fetched from Magento again");
    await sleep(50);
    assert.equal(outlet.messages.length, 0, "the other intake did nothing");
  });

  it("falls back to the intake with the same Magento configuration, and to an intake failure's own node", async () => {
    const outlet = new Collector("orders-outlet");
    const shop = new Collector("orders-shop");
    log.recordResults({ nodeId: "sf", nodeType: "salesforce-order-out", magentoConfigId: "outlet" }, [
      { ...failedResult(3, "000000003"), target: "salesforce" },
    ]);
    log.recordResults({ nodeId: "in-shop", nodeType: "magento-order-in", magentoConfigId: "shop" }, [
      { ...failedResult(4, "000000004"), target: "magento" },
    ]);
    const res = await helper
      .request()
      .post(ROUTES.again)
      .send({ orders: [{ orderId: 3 }, { orderId: 4 }] })
      .expect(200);
    assert.deepEqual(
      res.body.sent.map((s: { intake: string; orders: number }) => [s.intake, s.orders]).sort(),
      [
        ["in-outlet", 1],
        ["in-shop", 1],
      ],
    );
    await outlet.count(1);
    await shop.count(1);
    assert.deepEqual(
      (outlet.messages[0] as unknown as Msg).payload.map((o) => o.entity_id),
      [3],
    );
    assert.deepEqual(
      (shop.messages[0] as unknown as Msg).payload.map((o) => o.entity_id),
      [4],
    );
  });

  it("asks the user to choose when several intakes could pull the order, and uses the chosen one", async () => {
    const shop = new Collector("orders-shop");
    const conflict = await helper
      .request()
      .post(ROUTES.again)
      .send({ orders: [{ orderId: 9 }] })
      .expect(409);
    assert.match(conflict.body.error, /Several magento-order-in nodes could pull order 9: choose one/);

    const increment = String(sim.orders.get(9)!.increment_id);
    await helper
      .request()
      .post(ROUTES.again)
      .send({ orders: [{ incrementId: increment }], intake: "in-shop" })
      .expect(200);
    await shop.count(1);
    assert.deepEqual(
      (shop.messages[0] as unknown as Msg).payload.map((o) => o.entity_id),
      [9],
    );
  });

  it("rejects a missing, disabled or unknown intake and orders without ids, with a clear message", async () => {
    const unknown = await helper
      .request()
      .post(ROUTES.again)
      .send({ orders: [{ orderId: 1 }], intake: "in-disabled" })
      .expect(404);
    assert.match(unknown.body.error, /not deployed \(or is disabled\)/);
    const none = await helper.request().post(ROUTES.again).send({ orders: [] }).expect(400);
    assert.match(none.body.error, /Choose at least one order/);
    const noId = await helper
      .request()
      .post(ROUTES.again)
      .send({ orders: [{ orderId: -1, incrementId: "  " }] })
      .expect(400);
    assert.match(noId.body.error, /neither an order id nor an increment id/);
    const tooMany = await helper
      .request()
      .post(ROUTES.again)
      .send({ orders: Array.from({ length: 501 }, (_, i) => ({ orderId: i + 1 })) })
      .expect(400);
    assert.match(tooMany.body.error, /at most 500 orders/);
  });

  it("tells open editors about new results once per burst, on the orderbridge/sync comms topic", async () => {
    await sleep(400); // the deploy's own notice (intakes changed)
    assert.ok(
      published.some((p) => p.data.intakes === true),
      "a deploy refreshes the intake picker",
    );
    published.length = 0;
    for (let i = 1; i <= 5; i++) {
      log.recordResults({ nodeId: "sale-out", nodeType: "tryton-sale-out" }, [
        { orderId: i, incrementId: String(i), target: "tryton", action: "created" },
      ]);
    }
    await sleep(400);
    assert.deepEqual(published, [{ topic: COMMS_TOPIC, data: { seq: 5, intakes: false }, retain: false }]);
  });

  describe("sync queue routes", () => {
    let clock: number;
    type Row = { nodeId: string; key: string; state: string };

    /** A real queue, registered like a target node registers its own. */
    function addQueue(nodeId: string, nodeType: string, name: string, target: "tryton" | "salesforce") {
      const queue = new SyncQueue({ target, now: () => clock, random: () => 0, policy: { maxAttempts: 2 } });
      registry.addQueue({ nodeId, nodeType, name, queue });
      return queue;
    }

    async function fail(queue: SyncQueue, at: number, result: SyncResult, source: QueueSource = {}) {
      clock = at;
      await queue.record(source, [result]);
    }

    const rows = (body: { entries: Row[] }) => body.entries.map((e) => `${e.nodeId} ${e.key} ${e.state}`);

    beforeEach(() => {
      clock = 1_000;
    });

    it("lists every queued order with its node, those needing attention first, then the latest failures", async () => {
      const tryton = addQueue("sale-out", "tryton-sale-out", "ERP sales", "tryton");
      const salesforce = addQueue("sf-out", "salesforce-order-out", "", "salesforce");
      await fail(tryton, 1_000, failedResult(1, "000000001"));
      await fail(tryton, 1_500, failedResult(1, "000000001")); // the second failure: needs attention
      await fail(tryton, 3_000, {
        orderId: 2,
        incrementId: "000000002",
        target: "tryton",
        action: "created",
        error: { code: "mismatch", message: "Tryton sale 4 totals 10.00, Magento grand_total is 15" },
      });
      await fail(salesforce, 2_000, { ...failedResult(3, "000000003"), target: "salesforce" });

      const all = await helper.request().get(ROUTES.queue).expect(200);
      assert.deepEqual(rows(all.body), [
        "sale-out id:1 attention",
        "sale-out id:2 pending",
        "sf-out id:3 pending",
      ]);
      assert.deepEqual(all.body.counts, { pending: 2, retrying: 0, attention: 1 });
      const [first] = all.body.entries;
      assert.deepEqual(
        [first.nodeName, first.nodeType, first.attempts, first.retryClass, first.lastFailedAt],
        ["ERP sales", "tryton-sale-out", 2, "transient", 1_500],
      );
      assert.equal(all.body.entries[1].retryClass, "hold", "a mismatch is held, not failed");

      const sf = await helper.request().get(ROUTES.queue).query({ target: "salesforce" }).expect(200);
      assert.deepEqual(rows(sf.body), ["sf-out id:3 pending"]);
      assert.deepEqual(sf.body.counts, { pending: 1, retrying: 0, attention: 0 });
      const attention = await helper.request().get(ROUTES.queue).query({ state: "attention" }).expect(200);
      assert.deepEqual(rows(attention.body), ["sale-out id:1 attention"]);
      assert.deepEqual(
        attention.body.counts,
        { pending: 2, retrying: 0, attention: 1 },
        "the counts are those of every state, for the summary line",
      );
      const search = await helper.request().get(ROUTES.queue).query({ search: "00002" }).expect(200);
      assert.deepEqual(rows(search.body), ["sale-out id:2 pending"]);
      const limited = await helper.request().get(ROUTES.queue).query({ limit: 1, state: "nope" }).expect(200);
      assert.deepEqual(rows(limited.body), ["sale-out id:1 attention"], "an unknown state is ignored");
    });

    it("sync again makes the chosen entries due now and runs the intake that pulls them", async () => {
      registry.addIntake({ nodeId: "in-shop", magentoConfigId: "shop" });
      registry.addIntake({ nodeId: "in-outlet", magentoConfigId: "outlet" });
      const shop = new Collector("in-shop");
      const outlet = new Collector("in-outlet");
      const tryton = addQueue("sale-out", "tryton-sale-out", "ERP sales", "tryton");
      const salesforce = addQueue("sf-out", "salesforce-order-out", "", "salesforce");
      await fail(tryton, 1_000, failedResult(7, "000000007"), { intakeNodeId: "in-shop" });
      await fail(tryton, 1_500, failedResult(7, "000000007"), { intakeNodeId: "in-shop" });
      // pulled with a Magento configuration no running intake reads
      await fail(
        salesforce,
        1_000,
        { ...failedResult(8, "000000008"), target: "salesforce" },
        {
          magentoConfigId: "gone",
        },
      );
      clock = 5_000;

      const res = await helper
        .request()
        .post(ROUTES.queueAgain)
        .send({
          items: [
            { nodeId: "sale-out", key: "id:7" },
            { nodeId: "sf-out", key: "id:8" },
            { nodeId: "sale-out", key: "id:99" },
          ],
        })
        .expect(200);
      assert.deepEqual(res.body, { ok: true, changed: 2, intakes: ["in-shop"], unassigned: 1 });
      const again = tryton.get("id:7")!;
      assert.deepEqual(
        [again.state, again.nextTryAt, again.attempts],
        ["pending", 5_000, 2],
        "due now, attempts kept",
      );
      assert.deepEqual(
        tryton.due().map((e) => e.key),
        ["id:7"],
      );
      assert.equal(salesforce.get("id:8")!.nextTryAt, 5_000, "waits, due, for an intake to be deployed");
      await shop.count(1);
      assert.deepEqual(shop.messages[0].payload, { retryQueue: true });
      assert.equal(shop.messages[0].topic, "sync queue");
      await sleep(50);
      assert.equal(outlet.messages.length, 0, "the other intake was not asked");
    });

    it("dismiss takes the chosen entries out of their queues and tells open editors", async () => {
      const tryton = addQueue("sale-out", "tryton-sale-out", "ERP sales", "tryton");
      await fail(tryton, 1_000, failedResult(1, "000000001"));
      await fail(tryton, 1_000, failedResult(2, "000000002"));
      await sleep(400);
      published.length = 0;

      const res = await helper
        .request()
        .post(ROUTES.queueDismiss)
        .send({ items: [{ nodeId: "sale-out", key: "id:1" }] })
        .expect(200);
      assert.deepEqual(res.body, { ok: true, changed: 1, intakes: [], unassigned: 0 });
      assert.equal(tryton.get("id:1"), undefined);
      const after = await helper.request().get(ROUTES.queue).expect(200);
      assert.deepEqual(rows(after.body), ["sale-out id:2 pending"]);
      await sleep(400);
      assert.equal(published.length, 1, "one notice on the orderbridge/sync topic");
    });

    it("refuses bodies without queued orders (400) and nodes that are not deployed (404), changing nothing", async () => {
      const tryton = addQueue("sale-out", "tryton-sale-out", "ERP sales", "tryton");
      await fail(tryton, 1_000, failedResult(1, "000000001"));
      const before = tryton.entries();
      for (const route of [ROUTES.queueAgain, ROUTES.queueDismiss]) {
        const none = await helper.request().post(route).send({}).expect(400);
        assert.match(none.body.error, /Choose at least one queued order/);
        const noKey = await helper
          .request()
          .post(route)
          .send({ items: [{ nodeId: "sale-out" }] })
          .expect(400);
        assert.match(noKey.body.error, /Queued order 1 needs a node id and a queue key/);
        await helper
          .request()
          .post(route)
          .send({ items: [{ nodeId: "sale-out", key: "7" }] })
          .expect(400);
        const tooMany = await helper
          .request()
          .post(route)
          .send({ items: Array.from({ length: 501 }, (_, i) => ({ nodeId: "sale-out", key: `id:${i}` })) })
          .expect(400);
        assert.match(tooMany.body.error, /at most 500 queued orders/);
        const unknown = await helper
          .request()
          .post(route)
          .send({ items: [{ nodeId: "removed-node", key: "id:1" }] })
          .expect(404);
        assert.match(unknown.body.error, /not deployed any more/);
      }
      assert.deepEqual(tryton.entries(), before, "the entry is as it was");
    });
  });

  it("lists failed and held results for problems=1, and counts held ones apart", async () => {
    log.recordResults({ nodeId: "sale-out", nodeType: "tryton-sale-out" }, [
      { orderId: 1, incrementId: "000000001", target: "tryton", action: "created", targetId: 11 },
      {
        orderId: 2,
        incrementId: "000000002",
        target: "tryton",
        action: "created",
        targetId: 12,
        error: { code: "mismatch", message: "totals differ" },
      },
      failedResult(3, "000000003"),
    ]);
    const res = await helper.request().get(ROUTES.results).query({ problems: 1 }).expect(200);
    assert.deepEqual(
      res.body.entries.map((e: SyncResult) => e.orderId),
      [3, 2],
    );
    assert.deepEqual(
      [res.body.counts.created, res.body.counts.failed, res.body.counts.held],
      [1, 1, 1],
      "the held sale counts as held, not as created",
    );
  });
});
