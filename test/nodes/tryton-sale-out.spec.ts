import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";

import trytonConfig from "../../src/nodes/tryton-config";
import trytonSaleOut from "../../src/nodes/tryton-sale-out";
import { generateOrders } from "../../src/sandbox/magento/seed";
import { startTrytonSimulator, type TrytonSimulator } from "../../src/sandbox/tryton";
import type { SyncResult } from "../../src/sync/result";
import { Collector, deliver, everythingShown, helper } from "../support/node-red";

const password = "tryton-node-test-Secret-7";

function tutorialOrder(): Record<string, unknown> {
  const file = path.join(__dirname, "..", "fixtures", "magento", "order-customer-bundle-downloadable.json");
  return JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
}

/** Simulated orders whose customers live in countries the simulator knows, taxed at mapped rates. */
function simulatedOrders(count: number): Array<Record<string, unknown>> {
  return (generateOrders(count * 3, 5) as unknown as Array<Record<string, unknown>>)
    .filter((o) =>
      ["US", "GB", "FR", "JP"].includes((o.billing_address as { country_id: string }).country_id),
    )
    .slice(0, count);
}

function flow(sim: TrytonSimulator, sale: Record<string, unknown> = {}) {
  const f = sim.fixtures;
  return [
    {
      id: "cfg",
      type: "tryton-config",
      url: sim.url,
      database: sim.database,
      language: "en",
      company: "",
      timeout: 30,
    },
    {
      id: "out",
      type: "tryton-sale-out",
      tryton: "cfg",
      shippingProduct: "SHIPPING",
      discountProduct: "DISCOUNT",
      taxMap: JSON.stringify({ "8.25": [f.tax.us_ca_sales_8_25], "20": [f.tax.gb_vat_20] }),
      bundle: "parent",
      referencePrefix: "MAG-",
      timeZone: "Europe/Berlin",
      stateMap: "",
      mismatch: "hold",
      accountCategory: "",
      productType: "auto",
      ...sale,
      wires: [["results"], ["failures"]],
    },
    { id: "results", type: "helper" },
    { id: "failures", type: "helper" },
    { id: "done", type: "complete", scope: ["out"], wires: [["completed"]] },
    { id: "completed", type: "helper" },
    { id: "catcher", type: "catch", scope: ["out"], wires: [["caught"]] },
    { id: "caught", type: "helper" },
    { id: "stat", type: "status", scope: ["out"], wires: [["statuses"]] },
    { id: "statuses", type: "helper" },
  ];
}

async function load(
  sim: TrytonSimulator,
  sale?: Record<string, unknown>,
  creds = { username: "admin", password },
) {
  await helper.load([trytonConfig, trytonSaleOut], flow(sim, sale), { cfg: creds });
  return {
    results: new Collector("results"),
    failures: new Collector("failures"),
    completed: new Collector("completed"),
    caught: new Collector("caught"),
    statuses: new Collector("statuses"),
  };
}

type Collectors = Awaited<ReturnType<typeof load>>;

/** Sends one message and waits until the node is done with it (done or error). */
const send = (c: Collectors, payload: unknown) =>
  deliver("out", { payload, topic: "page-1" }, [c.completed, c.caught]);

const lastResults = (c: Collectors) => c.results.messages.at(-1)!.payload as SyncResult[];
const lastStatus = (c: Collectors) => c.statuses.messages.at(-1)!.status as { text: string; fill: string };

describe("tryton-sale-out node", function () {
  let sim: TrytonSimulator;

  beforeEach(async () => {
    sim = await startTrytonSimulator({ password });
  });
  afterEach(async () => {
    await helper.unload();
    await sim.stop();
  });

  it("imports a page: one result per order on output 1, the bad ones also on output 2, counts in the status", async () => {
    const c = await load(sim);
    const orders = simulatedOrders(40);
    const bad: Record<string, unknown> = { ...tutorialOrder(), entity_id: 999, increment_id: "000000999" };
    (bad.billing_address as Record<string, unknown>).country_id = "XX";
    await send(c, [...orders, bad]);

    const results = lastResults(c);
    assert.equal(results.length, 41);
    assert.equal(c.results.messages.at(-1)!.topic, "page-1", "the input message travels on");
    const created = results.filter((r) => r.action === "created");
    const skipped = results.filter((r) => r.action === "skipped");
    assert.equal(created.length + skipped.length, 40);
    for (const r of created) {
      assert.equal(r.target, "tryton");
      assert.equal(typeof r.targetId, "number");
      assert.ok(["draft", "quotation", "processing"].includes(String(r.state)));
    }
    const failures = c.failures.messages.at(-1)!.payload as SyncResult[];
    assert.deepEqual(
      failures.map((f) => [f.orderId, f.error?.code, f.error?.field]),
      [[999, "unknown_country", "billing_address.country_id"]],
    );
    assert.equal(lastStatus(c).fill, "yellow");
    assert.match(
      lastStatus(c).text,
      new RegExp(`^${created.length} new, ${skipped.length} same, 1 failed · 1 queued$`),
    );
    assert.equal(c.caught.messages.length, 0, "per-order failures never reach catch nodes");
  });

  it("takes a single order, and writes nothing when it comes again unchanged", async () => {
    const c = await load(sim);
    await send(c, tutorialOrder());
    assert.deepEqual(
      lastResults(c).map((r) => [r.orderId, r.incrementId, r.action, r.state]),
      [[3, "000000003", "created", "quotation"]],
    );
    assert.equal(c.failures.messages.length, 0, "output 2 stays quiet without failures");
    sim.resetCounters();
    await send(c, tutorialOrder());
    assert.equal(lastResults(c)[0]!.action, "unchanged");
    const writes = Object.keys(sim.counters).filter((m) => /\.(create|write|delete|quote|confirm)$/.test(m));
    assert.deepEqual(writes, []);
    assert.equal(lastStatus(c).text, "1 same");
    const [sale] = sim.db.rows("sale.sale");
    assert.equal(sale!.reference, "MAG-000000003");
    assert.equal(sale!.sale_date, "2017-08-22", "22:22 UTC is the next day in Berlin");
  });

  it("fails the whole message when Tryton refuses the login, without showing the password", async () => {
    const c = await load(sim, {}, { username: "admin", password: "wrong-Password-1" });
    await send(c, [tutorialOrder()]);
    assert.equal(c.results.messages.length, 0);
    assert.equal(c.caught.messages.length, 1);
    const error = c.caught.messages[0]!.error as { message: string };
    assert.match(error.message, /login refused for user "admin"/);
    assert.equal(lastStatus(c).fill, "red");
    const shown = everythingShown([c.results, c.failures, c.caught, c.statuses]);
    assert.ok(!shown.includes("wrong-Password-1"));
    assert.ok(!shown.includes(password));
  });

  it("reports unusable settings and payloads on done(err), naming them", async () => {
    const c = await load(sim, { timeZone: "Mars/Olympus" });
    await send(c, [tutorialOrder()]);
    assert.match((c.caught.messages[0]!.error as { message: string }).message, /time ?zone|Mars\/Olympus/i);
    await helper.unload();

    const d = await load(sim, { stateMap: '{"new": "shipped"}' });
    await send(d, [tutorialOrder()]);
    assert.match(
      (d.caught.messages[0]!.error as { message: string }).message,
      /"new" → "shipped" is not a Tryton target/,
    );
    await helper.unload();

    const e = await load(sim);
    await send(e, "not an order");
    assert.match(
      (e.caught.messages[0]!.error as { message: string }).message,
      /msg\.payload must be a Magento order/,
    );
  });

  it("follows the state map from the dialog: a Magento 'new' order can stay a draft", async () => {
    const c = await load(sim, { stateMap: '{"new": "draft"}' });
    await send(c, tutorialOrder());
    assert.equal(lastResults(c)[0]!.state, "draft");
  });

  it("logs out of Tryton when the flow stops", async () => {
    const c = await load(sim);
    await send(c, tutorialOrder());
    assert.equal(sim.counters["common.db.logout"] ?? 0, 0);
    await helper.unload();
    assert.equal(sim.counters["common.db.logout"], 1);
  });

  it("tests a connection from the editor and lists the companies, without echoing secrets", async () => {
    await load(sim);
    const ok = await helper
      .request()
      .post("/orderbridge/tryton/test")
      .send({ url: sim.url, database: sim.database, credentials: { username: "admin", password } })
      .expect(200);
    assert.equal(ok.body.ok, true);
    assert.match(ok.body.version, /^6\.0/);
    assert.deepEqual(
      ok.body.companies.map((x: { id: number }) => x.id),
      [sim.fixtures.company],
    );
    const saved = await helper
      .request()
      .post("/orderbridge/tryton/test")
      .send({ id: "cfg", url: sim.url, database: sim.database })
      .expect(200);
    assert.equal(saved.body.ok, true, "blank credentials fall back to the deployed node's");
    const bad = await helper
      .request()
      .post("/orderbridge/tryton/test")
      .send({
        url: sim.url,
        database: sim.database,
        credentials: { username: "admin", password: `x${password}` },
      })
      .expect(200);
    assert.equal(bad.body.ok, false);
    assert.match(bad.body.error, /login refused/);
    assert.ok(!JSON.stringify(bad.body).includes(password));
    const listed = await helper.request().get("/orderbridge/tryton/cfg/companies").expect(200);
    assert.deepEqual(listed.body.companies, ok.body.companies);
  });
});
