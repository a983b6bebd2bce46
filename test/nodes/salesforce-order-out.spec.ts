import assert from "node:assert/strict";
import salesforceConfig from "../../src/nodes/salesforce-config";
import salesforceOrderOut from "../../src/nodes/salesforce-order-out";
import type { SalesforceSimulator } from "../../src/sandbox/salesforce";
import { Collector, deliver, everythingShown, helper } from "../support/node-red";
import { orders, simulator, stopAll, writtenRecords } from "../unit/salesforce-fixtures";

type Msg = Record<string, unknown> & { payload: unknown };
type Result = { action: string; targetId?: string; url?: string; error?: { code: string; message: string } };

function credentialsOf(sim: SalesforceSimulator, authMode: string): Record<string, string> {
  const c = sim.credentials;
  switch (authMode) {
    case "jwt":
      return { clientId: c.clientId, username: c.username, privateKey: c.privateKeyPem as string };
    case "client_credentials":
      return { clientId: c.clientId, clientSecret: c.clientSecret };
    case "refresh_token":
      return { clientId: c.clientId, clientSecret: c.clientSecret, refreshToken: c.refreshToken as string };
    default:
      return {
        clientId: c.clientId,
        clientSecret: c.clientSecret,
        username: c.username,
        password: c.password,
        securityToken: c.securityToken,
      };
  }
}

function secretsOf(sim: SalesforceSimulator): string[] {
  const c = sim.credentials;
  const pemBody = (c.privateKeyPem as string).split("\n")[1];
  return [
    c.clientSecret,
    c.password,
    c.securityToken,
    c.password + c.securityToken,
    c.refreshToken as string,
    pemBody,
  ];
}

function flow(sim: SalesforceSimulator, out: Record<string, unknown> = {}, authMode = "password") {
  const onTab = (nodes: Array<{ id: string; type: string } & Record<string, unknown>>) =>
    nodes.map((n) => ({ z: "tab", ...n }));
  return [
    { id: "tab", type: "tab", label: "test" },
    {
      id: "sfcfg",
      type: "salesforce-config",
      loginUrl: "custom",
      customUrl: sim.url,
      apiVersion: "60.0",
      authMode,
    },
    ...onTab([
      {
        id: "out",
        type: "salesforce-order-out",
        salesforce: "sfcfg",
        defaultStatus: "Draft",
        statusMap: '{"complete": "Activated"}',
        activatedOrders: "report",
        updateOrders: true,
        syncNotes: true,
        contacts: true,
        ...out,
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
    ]),
  ];
}

async function load(sim: SalesforceSimulator, out: Record<string, unknown> = {}, authMode = "password") {
  await helper.load([salesforceConfig, salesforceOrderOut], flow(sim, out, authMode), {
    sfcfg: credentialsOf(sim, authMode),
  });
  return {
    results: new Collector("results"),
    failures: new Collector("failures"),
    completed: new Collector("completed"),
    caught: new Collector("caught"),
    statuses: new Collector("statuses"),
  };
}

type Collectors = Awaited<ReturnType<typeof load>>;

/** Sends one message to the node and waits until it has finished with it (done or error). */
const send = (c: Collectors, payload: unknown) => deliver("out", { payload }, [c.completed, c.caught]);

const lastResults = (c: Collectors) => (c.results.messages.at(-1) as Msg).payload as Result[];
const statusTexts = (c: Collectors) =>
  c.statuses.messages.map((m) => (m.status as { fill?: string; text?: string }) ?? {});

describe("salesforce-order-out node", function () {
  afterEach(async () => {
    await helper.unload();
    await stopAll();
  });

  it("pushes a page of orders, reports one result per order, and an unchanged page costs one call", async () => {
    const sim = await simulator();
    const c = await load(sim);
    const page = orders(250, 31);
    await send(c, page);
    assert.equal(c.caught.messages.length, 0, JSON.stringify(c.caught.messages[0]?.error));
    const results = lastResults(c);
    assert.equal(results.length, 250);
    assert.ok(
      results.every(
        (r) =>
          r.action === "created" && r.targetId && r.url?.endsWith(`/lightning/r/Order/${r.targetId}/view`),
      ),
    );
    assert.equal(c.failures.messages.length, 0, "nothing on output 2");
    assert.equal(sim.db.count("Order"), 250);
    // A complete node gets the message as it left (the results), not another copy of the page of orders.
    assert.deepEqual((c.completed.messages.at(-1) as Msg).payload, results);
    const green = statusTexts(c).filter((s) => s.fill === "green");
    assert.match(green.at(-1)?.text ?? "", /^250 new · API \d+\/15000/);

    const before = sim.counters.api;
    await send(c, page);
    assert.ok(lastResults(c).every((r) => r.action === "unchanged"));
    assert.equal(sim.counters.api - before, 1, "the lookup query only");
    assert.equal(sim.counters["oauth.token"], 1, "one login for the node's life");

    await send(c, page[0]);
    assert.equal(lastResults(c).length, 1, "a single order is accepted too");
  });

  it("sends failed orders to output 2 and keeps going with the others", async () => {
    const sim = await simulator();
    const c = await load(sim);
    const page = orders(20, 32);
    page[4] = { ...page[4], customer_email: "broken@nowhere" };
    (page[9] as unknown as Record<string, unknown>).items = "none";
    await send(c, page);
    const failures = (c.failures.messages[0] as Msg).payload as Result[];
    assert.deepEqual(
      failures.map((f) => f.error?.code),
      ["INVALID_EMAIL_ADDRESS", "invalid_order"],
    );
    assert.equal(lastResults(c).filter((r) => r.action === "created").length, 18);
    const yellow = statusTexts(c).filter((s) => s.fill === "yellow");
    assert.match(yellow.at(-1)?.text ?? "", /18 new, 2 failed/);
  });

  it("refuses an Activated-group Default Status at start and on input, before any order is written", async () => {
    const sim = await simulator();
    const c = await load(sim, { defaultStatus: "Shipped" });
    await c.statuses.until((m) => m.some((x) => (x.status as { fill?: string }).fill === "red"));
    await send(c, orders(3, 33));
    assert.equal(c.caught.messages.length, 1);
    const message = (c.caught.messages[0].error as { message: string }).message;
    assert.match(message, /Default Status "Shipped" is in Salesforce's Activated status group/);
    assert.equal(c.results.messages.length, 0);
    assert.equal(writtenRecords(sim), 0);
  });

  it("logs in with each OAuth flow and survives an expired session", async () => {
    for (const authMode of ["client_credentials", "jwt", "refresh_token"]) {
      const sim = await simulator();
      const c = await load(sim, {}, authMode);
      const list = orders(20, 34);
      await send(c, list.slice(0, 10));
      sim.expireSessions();
      await send(c, list);
      assert.equal(c.caught.messages.length, 0, authMode);
      assert.deepEqual(
        lastResults(c)
          .map((r) => r.action)
          .sort(),
        [...Array(10).fill("created"), ...Array(10).fill("unchanged")],
        authMode,
      );
      assert.equal(sim.counters["session.invalid"], 1);
      const shown = everythingShown(Object.values(c));
      for (const secret of secretsOf(sim)) assert.ok(!shown.includes(secret), `a ${authMode} secret leaked`);
      await helper.unload();
    }
  });

  it("gives a refused login to Catch nodes with a red status and no secret anywhere", async () => {
    const sim = await simulator();
    const c = sim.credentials;
    await helper.load([salesforceConfig, salesforceOrderOut], flow(sim), {
      sfcfg: { ...credentialsOf(sim, "password"), password: "Wrong-" + c.password },
    });
    const col = {
      results: new Collector("results"),
      failures: new Collector("failures"),
      completed: new Collector("completed"),
      caught: new Collector("caught"),
      statuses: new Collector("statuses"),
    };
    await send(col, orders(2, 35));
    assert.equal(col.caught.messages.length, 1);
    assert.match(
      (col.caught.messages[0].error as { message: string }).message,
      /Salesforce login failed \(password flow, invalid_grant\)/,
    );
    assert.ok(statusTexts(col).some((s) => s.fill === "red"));
    const shown = everythingShown(Object.values(col));
    for (const secret of [...secretsOf(sim), "Wrong-" + c.password])
      assert.ok(!shown.includes(secret), "a secret leaked");
  });

  it("stops on the daily API limit with done(err) and a red status", async () => {
    const sim = await simulator({ dailyApiLimit: 6 });
    const c = await load(sim);
    await send(c, orders(400, 36));
    assert.equal(c.caught.messages.length, 1);
    assert.match(
      (c.caught.messages[0].error as { message: string }).message,
      /daily API request limit is reached/,
    );
    assert.ok(statusTexts(c).some((s) => s.fill === "red"));
    assert.equal(sim.counters["limit.exceeded"], 1);
  });

  it("answers the editor: test connection, Order statuses with their group, and the setup check", async () => {
    const sim = await simulator({ customFields: {} });
    await load(sim);
    const test = await helper
      .request()
      .post("/orderbridge/salesforce/test")
      .send({
        loginUrl: "custom",
        customUrl: sim.url,
        apiVersion: "60.0",
        authMode: "password",
        credentials: credentialsOf(sim, "password"),
      })
      .expect(200);
    assert.equal(test.body.ok, true, test.body.error);
    assert.equal(test.body.username, sim.credentials.username);
    assert.equal(test.body.apiUsage.max, 15000);
    assert.ok(
      test.body.statuses.some(
        (s: { apiName: string; statusCode: string }) =>
          s.apiName === "Shipped" && s.statusCode === "Activated",
      ),
    );
    const saved = await helper
      .request()
      .post("/orderbridge/salesforce/test")
      .send({ id: "sfcfg", loginUrl: "custom", customUrl: sim.url, authMode: "password" })
      .expect(200);
    assert.equal(saved.body.ok, true, "blank credentials fall back to the deployed node's");
    const bad = await helper
      .request()
      .post("/orderbridge/salesforce/test")
      .send({
        loginUrl: "custom",
        customUrl: sim.url,
        authMode: "password",
        credentials: { ...credentialsOf(sim, "password"), securityToken: "nope-token" },
      })
      .expect(200);
    assert.equal(bad.body.ok, false);
    assert.match(bad.body.error, /authentication failure/);
    for (const secret of secretsOf(sim)) assert.ok(!JSON.stringify([test.body, bad.body]).includes(secret));

    const statuses = await helper.request().get("/orderbridge/salesforce/sfcfg/order-statuses").expect(200);
    assert.deepEqual(
      statuses.body.statuses.map(
        (s: { apiName: string; statusCode: string }) => `${s.apiName}:${s.statusCode}`,
      ),
      ["Draft:Draft", "In Progress:Draft", "Activated:Activated", "Shipped:Activated"],
    );
    const check = await helper
      .request()
      .post("/orderbridge/salesforce/sfcfg/setup-check")
      .send({ defaultStatus: "Activated", hashField: "Magento_Sync_Hash__c" })
      .expect(200);
    assert.equal(check.body.ok, false);
    assert.equal(check.body.problems.length, 2);
    assert.match(check.body.problems[0], /Magento_Sync_Hash__c: Text\(64\)/);
    assert.match(
      check.body.problems[1],
      /Default Status "Activated" is in Salesforce's Activated status group/,
    );
    const fine = await helper
      .request()
      .post("/orderbridge/salesforce/sfcfg/setup-check")
      .send({ defaultStatus: "Draft", updateOrders: false })
      .expect(200);
    assert.equal(fine.body.ok, true, JSON.stringify(fine.body.problems));
    assert.equal(fine.body.pricebook, "Standard Price Book");
  });

  it("says what is missing when there is no configuration or msg.payload is not an order", async () => {
    const sim = await simulator();
    const c = await load(sim);
    await send(c, "hello");
    assert.match(
      (c.caught.messages[0].error as { message: string }).message,
      /msg.payload must be a Magento order or an array/,
    );
    await helper.unload();
    await helper.load(
      [salesforceConfig, salesforceOrderOut],
      flow(sim).map((n) => (n.id === "out" ? { ...n, salesforce: "" } : n)),
    );
    const again = {
      results: new Collector("results"),
      failures: new Collector("failures"),
      completed: new Collector("completed"),
      caught: new Collector("caught"),
      statuses: new Collector("statuses"),
    };
    await send(again, orders(1));
    assert.match(
      (again.caught.messages[0].error as { message: string }).message,
      /choose a Salesforce configuration node/,
    );
  });
});
