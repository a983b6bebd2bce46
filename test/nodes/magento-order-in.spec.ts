import assert from "node:assert/strict";
import magentoConfig from "../../src/nodes/magento-config";
import magentoOrderIn from "../../src/nodes/magento-order-in";
import { startMagentoSimulator, type MagentoSimulator } from "../../src/sandbox/magento";
import { Collector, deliver, everythingShown, helper } from "../support/node-red";

const integration = {
  consumerKey: "ck-node-test-0001",
  consumerSecret: "cs-node-test-secret-0001",
  accessToken: "at-node-test-token-0001",
  accessTokenSecret: "ats-node-test-secret-0001",
};
const adminPassword = "adm1n-node-test-pass";
const secrets = [
  integration.consumerSecret,
  integration.accessToken,
  integration.accessTokenSecret,
  adminPassword,
];

type Msg = Record<string, unknown> & { payload: unknown };

function flow(
  sim: MagentoSimulator,
  opts: { authMode?: string; autoSync?: boolean; pageSize?: number } = {},
) {
  const onTab = (nodes: Array<{ id: string; type: string } & Record<string, unknown>>) =>
    nodes.map((n) => ({ z: "tab", ...n }));
  return [
    { id: "tab", type: "tab", label: "test" },
    {
      id: "cfg",
      type: "magento-config",
      baseUrl: sim.url,
      storeCode: "default",
      authMode: opts.authMode ?? "bearer",
      timeout: 5,
      pageSize: opts.pageSize ?? 50,
      rejectUnauthorized: true,
      ca: "",
    },
    ...onTab([
      {
        id: "in",
        type: "magento-order-in",
        magento: "cfg",
        autoSync: opts.autoSync ?? false,
        interval: 1,
        intervalUnit: "h",
        wires: [["orders"], ["invalid"]],
      },
      { id: "orders", type: "helper" },
      { id: "invalid", type: "helper" },
      { id: "done", type: "complete", scope: ["in"], wires: [["completed"]] },
      { id: "completed", type: "helper" },
      { id: "catcher", type: "catch", scope: ["in"], wires: [["caught"]] },
      { id: "caught", type: "helper" },
      { id: "stat", type: "status", scope: ["in"], wires: [["statuses"]] },
      { id: "statuses", type: "helper" },
    ]),
  ];
}

const bearer = { token: integration.accessToken };

async function load(sim: MagentoSimulator, creds: object = bearer, opts?: Parameters<typeof flow>[1]) {
  await helper.load([magentoConfig, magentoOrderIn], flow(sim, opts), { cfg: creds });
  const c = {
    orders: new Collector("orders"),
    invalid: new Collector("invalid"),
    completed: new Collector("completed"),
    caught: new Collector("caught"),
    statuses: new Collector("statuses"),
  };
  return c;
}

type Collectors = Awaited<ReturnType<typeof load>>;

/** Sends one message to the node and waits until it has finished with it (done or error). */
const trigger = (c: Collectors, payload: unknown) => deliver("in", { payload }, [c.completed, c.caught]);

function emittedIds(c: Collectors): number[] {
  return c.orders.messages.flatMap((m) =>
    (m.payload as Array<{ entity_id: number }>).map((o) => o.entity_id),
  );
}

describe("magento-order-in node", function () {
  let sim: MagentoSimulator;

  beforeEach(async () => {
    sim = await startMagentoSimulator({
      orders: 230,
      seed: 11,
      integration: { ...integration, bearerEnabled: true },
      admin: { username: "sync-bot", password: adminPassword },
    });
  });
  afterEach(async () => {
    await helper.unload();
    await sim.stop();
  });

  it("pulls every order once, one message per page, and a second pull emits nothing new", async () => {
    const c = await load(sim);
    await trigger(c, "");
    const ids = emittedIds(c);
    assert.equal(ids.length, 230);
    assert.equal(new Set(ids).size, 230);
    assert.ok(c.orders.messages.length >= 5, "page size 50 gives at least 5 messages");
    for (const m of c.orders.messages) assert.ok((m.payload as unknown[]).length <= 50);
    const last = c.orders.messages.at(-1) as Msg & { magento: { trigger: string; cursor: unknown } };
    assert.equal(last.magento.trigger, "incremental");
    assert.ok(last.magento.cursor);

    await trigger(c, "");
    assert.equal(emittedIds(c).length, 230, "nothing new on the second pull");
  });

  it("emits an order again once it changes in Magento, and only that order", async () => {
    const c = await load(sim);
    await trigger(c, "");
    sim.touchOrder(17, { status: "processing", state: "processing" });
    await trigger(c, "");
    assert.deepEqual(emittedIds(c).slice(230), [17]);
  });

  it("syncs chosen orders by entity id and by increment id without moving the cursor", async () => {
    const c = await load(sim);
    const chosen = [...sim.orders.values()].slice(3, 6);
    await trigger(c, { orderIds: chosen.map((o) => o.entity_id) });
    assert.deepEqual(emittedIds(c).sort(), chosen.map((o) => o.entity_id as number).sort());
    await trigger(c, { incrementIds: [chosen[0].increment_id] });
    assert.deepEqual(emittedIds(c).slice(3), [chosen[0].entity_id]);
    const manual = c.orders.messages[0] as Msg & { magento: { trigger: string } };
    assert.equal(manual.magento.trigger, "ids");

    await trigger(c, "");
    assert.equal(emittedIds(c).length, 4 + 230, "the incremental pull still starts from the beginning");
  });

  it("reports chosen ids that Magento does not have as failures, not silence", async () => {
    const c = await load(sim);
    await trigger(c, { orderIds: [999999] });
    assert.equal(c.orders.messages.length, 0);
    const failures = c.invalid.messages.flatMap((m) => m.payload as Array<{ error: { code: string } }>);
    assert.equal(failures.length, 1);
    assert.equal(failures[0].error.code, "not_found");
  });

  it("takes a webhook body: a full order is emitted as is, an id alone is fetched", async () => {
    const c = await load(sim);
    const order = sim.orders.get(42);
    assert.ok(order);
    sim.resetCounters();
    await trigger(c, { order });
    assert.deepEqual(emittedIds(c), [42]);
    assert.equal(sim.counters["GET /V1/orders"] ?? 0, 0, "a complete webhook body needs no call");
    await trigger(c, { entity_id: 43 });
    assert.deepEqual(emittedIds(c), [42, 43]);
    assert.equal((c.orders.messages[1] as Msg & { magento: { trigger: string } }).magento.trigger, "webhook");
  });

  it("pulls again from the start after payload.reset, and since a date with payload.since", async () => {
    const c = await load(sim);
    await trigger(c, "");
    await trigger(c, { reset: true });
    assert.equal(emittedIds(c).length, 460);
    const all = [...sim.orders.values()].sort((a, b) =>
      String(a.updated_at).localeCompare(String(b.updated_at)),
    );
    const cut = String(all[200].updated_at);
    await trigger(c, { since: cut });
    const since = emittedIds(c).slice(460);
    const expected = all.filter((o) => String(o.updated_at) >= cut).map((o) => o.entity_id);
    assert.deepEqual(since.sort(), (expected as number[]).sort());
  });

  it("sends orders that fail validation to output 2 naming the order and the field, and the rest on", async () => {
    const broken = sim.orders.get(5)!;
    (broken.items as Array<Record<string, unknown>>)[0].qty_ordered = "lots";
    delete sim.orders.get(9)!.customer_email;
    const c = await load(sim);
    await trigger(c, "");
    assert.equal(emittedIds(c).length, 228);
    const failures = c.invalid.messages.flatMap(
      (m) =>
        m.payload as Array<{
          orderId: number;
          incrementId: string;
          error: { field: string; message: string };
        }>,
    );
    assert.deepEqual(failures.map((f) => f.orderId).sort(), [5, 9]);
    const qty = failures.find((f) => f.orderId === 5)!;
    assert.equal(qty.error.field, "items.0.qty_ordered");
    assert.match(qty.error.message, new RegExp(String(broken.increment_id)));
    assert.equal(failures.find((f) => f.orderId === 9)!.error.field, "customer_email");

    const reported = c.invalid.messages.length;
    await trigger(c, "");
    assert.equal(c.invalid.messages.length, reported, "an invalid order is reported once, not on every pull");
  });

  it("gives a whole-run failure to Catch nodes with a red status and no secret anywhere", async () => {
    const c = await load(sim, { token: "wrong-token-" + integration.accessToken });
    await trigger(c, "");
    assert.equal(c.caught.messages.length, 1);
    const error = c.caught.messages[0].error as { message: string };
    assert.match(error.message, /401|authori[sz]/i);
    const red = c.statuses.messages.map((m) => m.status as { fill: string }).filter((s) => s.fill === "red");
    assert.ok(red.length >= 1);
    const shown = everythingShown(Object.values(c));
    for (const secret of secrets) assert.ok(!shown.includes(secret), "a secret leaked");
  });

  it("signs with OAuth 1.0a and renews an expired admin token", async () => {
    let c = await load(sim, integration, { authMode: "oauth1" });
    await trigger(c, "");
    assert.equal(emittedIds(c).length, 230);
    await helper.unload();

    c = await load(sim, { username: "sync-bot", password: adminPassword }, { authMode: "admin" });
    await trigger(c, { orderIds: [1] });
    sim.expireTokens();
    await trigger(c, { orderIds: [2] });
    assert.deepEqual(emittedIds(c), [1, 2]);
    assert.equal(c.caught.messages.length, 0);
    assert.equal(sim.counters["POST /V1/integration/admin/token"], 2);
    const shown = everythingShown(Object.values(c));
    for (const secret of secrets) assert.ok(!shown.includes(secret), "a secret leaked");
  });

  it("polls on its own when automatic synchronization is on, and stops on close", async () => {
    const c = await load(sim, bearer, { autoSync: true });
    await c.orders.until((m) => m.reduce((n, x) => n + (x.payload as unknown[]).length, 0) >= 230);
    assert.equal(emittedIds(c).length, 230);
    await helper.unload();
    const calls = sim.counters["GET /V1/orders"];
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(sim.counters["GET /V1/orders"], calls);
  });

  it("rejects a malformed trigger with a message naming the field", async () => {
    const c = await load(sim);
    await trigger(c, { orderIds: ["abc"] });
    assert.equal(c.caught.messages.length, 1);
    assert.match((c.caught.messages[0].error as { message: string }).message, /orderIds/);
  });

  it("tests a connection from the editor and lists store views, without echoing secrets", async () => {
    await load(sim);
    const ok = await helper
      .request()
      .post("/orderbridge/magento/test")
      .send({ baseUrl: sim.url, storeCode: "default", authMode: "bearer", credentials: bearer })
      .expect(200);
    assert.equal(ok.body.ok, true);
    assert.ok(ok.body.storeViews.length >= 1);
    const saved = await helper
      .request()
      .post("/orderbridge/magento/test")
      .send({ id: "cfg", baseUrl: sim.url })
      .expect(200);
    assert.equal(saved.body.ok, true, "blank credentials fall back to the deployed node's");
    const bad = await helper
      .request()
      .post("/orderbridge/magento/test")
      .send({
        baseUrl: sim.url,
        authMode: "admin",
        credentials: { username: "sync-bot", password: "x" + adminPassword },
      })
      .expect(200);
    assert.equal(bad.body.ok, false);
    assert.match(bad.body.error, /sign-in was incorrect/);
    assert.ok(!JSON.stringify(bad.body).includes(adminPassword));
    const views = await helper.request().get("/orderbridge/magento/cfg/store-views").expect(200);
    assert.deepEqual(views.body.storeViews, ok.body.storeViews);
  });
});
