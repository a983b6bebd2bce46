/**
 * The example flows in the real editor, deployed as `npm start` deploys them (startDemo: the
 * Magento, Tryton and Salesforce simulators, a real Node-RED with the built pack, credentials
 * added at deploy time), driven with Debian's chromium: click each use case's inject buttons and
 * check what a user would check — debug sidebar messages, node status, and the data in the
 * simulated shop, ERP and CRM. One demo and one browser for the whole suite, so the tests run in
 * order and build on each other (the manual sync comes before the full push); everything is
 * stopped by PID afterwards.
 */
import assert from "node:assert/strict";
import {
  configureFlows,
  DEMO_SHOP_SEED,
  magentoFromEnv,
  prepareTrytonSimulator,
  salesforceFromEnv,
  trytonFromEnv,
  type Demo,
  type DemoTargets,
} from "../../src/sandbox/demo";
import { cancelSale, placeOrder } from "../../src/sandbox/demo-activity";
import { defaultAdmin, defaultIntegration } from "../../src/sandbox/magento";
import { startSalesforceSimulator } from "../../src/sandbox/salesforce";
import { startTrytonSimulator } from "../../src/sandbox/tryton";
import type { FlowNode } from "../../src/sandbox/node-red-runtime";
import {
  alive,
  clickInject,
  DebugWatch,
  exampleNames,
  readExample,
  showFlow,
  startQuietDemo,
  waitForStatus,
} from "./example-support";
import { waitUntil } from "../support/wait";
import {
  Cleanup,
  ensureBuilt,
  launchEditor,
  openEditor,
  requireChromium,
  showSidebarTab,
  type EditorSession,
  reportFailure,
} from "./support";

const PACK_TYPES = [
  "magento-order-in",
  "sync-filter",
  "tryton-sale-out",
  "salesforce-order-out",
  "status-export",
];
const CONFIG_TYPES = ["magento-config", "tryton-config", "salesforce-config"];

describe("examples: the files under examples/", () => {
  const names = exampleNames();
  const all = readExample("flows");

  it("has flows.json and one file per use case, numbered in menu order", () => {
    assert.deepEqual(names, [
      "01 Magento to Tryton import",
      "02 Tryton to Magento status export",
      "03 Magento to Salesforce with sync filter",
      "04 Manual sync of chosen orders",
      "05 Webhook-driven sync",
      "06 Error handling",
      "flows",
    ]);
  });

  it("uses every node type of the pack, the webhook's http in/response and catch nodes", () => {
    const used = new Set(all.map((n) => n.type));
    for (const type of [
      ...PACK_TYPES,
      ...CONFIG_TYPES,
      "http in",
      "http response",
      "catch",
      "inject",
      "debug",
    ]) {
      assert.ok(used.has(type), `flows.json uses ${type}`);
    }
  });

  it("each use-case file is one tab of flows.json with the configuration nodes it uses", () => {
    const byId = new Map(all.map((n) => [n.id, n]));
    const tabs = all.filter((n) => n.type === "tab");
    assert.equal(tabs.length, names.length - 1, "one tab per use case");
    for (const name of names.filter((n) => n !== "flows")) {
      const nodes = readExample(name);
      const [tab, ...rest] = nodes;
      assert.equal(tab.type, "tab", `${name}: starts with its tab`);
      for (const node of rest) {
        assert.deepEqual(node, byId.get(node.id), `${name}: ${node.id} is as in flows.json`);
        assert.ok(node.z === tab.id || CONFIG_TYPES.includes(node.type), `${name}: ${node.id} on its tab`);
      }
      const onTab = all.filter((n) => n.z === tab.id).map((n) => n.id);
      assert.deepEqual(
        rest.filter((n) => n.z === tab.id).map((n) => n.id),
        onTab,
        `${name}: every node of the tab`,
      );
      const text = JSON.stringify(rest.filter((n) => n.z));
      for (const config of rest.filter((n) => !n.z)) {
        assert.ok(text.includes(`"${config.id}"`), `${name}: ${config.id} is used`);
      }
      for (const used of all.filter((n) => !n.z && n.type !== "tab" && text.includes(`"${n.id}"`))) {
        assert.ok(
          rest.some((n) => n.id === used.id),
          `${name}: carries ${used.id}`,
        );
      }
    }
  });

  it("explains each tab (flow info) and leaves no node unnamed where the name tells what to click", () => {
    for (const tab of all.filter((n) => n.type === "tab")) {
      assert.ok(String(tab.info ?? "").length > 200, `${String(tab.label)}: has an explanation`);
      assert.ok(
        all.some((n) => n.z === tab.id && n.type === "comment"),
        `${String(tab.label)}: has a comment`,
      );
    }
    for (const inject of all.filter((n) => n.type === "inject")) {
      assert.ok(String(inject.name ?? "").length > 5, `inject ${inject.id} says what it does`);
    }
  });

  it("holds no credentials: config nodes point at the demo simulators' default ports", async () => {
    const salesforce = await startSalesforceSimulator();
    await salesforce.stop();
    const secrets = [
      ...Object.values(defaultIntegration).filter((v): v is string => typeof v === "string"),
      defaultAdmin.password,
      salesforce.credentials.clientSecret,
      salesforce.credentials.password,
      salesforce.credentials.securityToken,
      "Demo-Tryton-Pass-1",
    ];
    for (const name of names) {
      const nodes = readExample(name);
      for (const node of nodes) {
        assert.equal(node.credentials, undefined, `${name}: ${node.id} carries no credentials`);
        for (const key of Object.keys(node)) {
          assert.doesNotMatch(key, /password|secret|token|privateKey/i, `${name}: ${node.id}.${key}`);
        }
      }
      const text = JSON.stringify(nodes);
      for (const secret of secrets) assert.ok(!text.includes(secret), `${name} holds no demo secret`);
    }
    const configs = all.filter((n) => CONFIG_TYPES.includes(n.type));
    assert.deepEqual(
      configs.map((n) => n.baseUrl ?? n.url ?? n.customUrl),
      ["http://127.0.0.1:18811", "http://127.0.0.1:18812", "http://127.0.0.1:18813"],
    );
  });

  it("carries the tax map of the demo's Tryton (countries and taxes the demo adds)", async () => {
    const fresh = await startTrytonSimulator({ password: "x-Prep-Check-1" });
    try {
      const map = JSON.parse(prepareTrytonSimulator(fresh)) as Record<string, number[]>;
      for (const node of all.filter((n: FlowNode) => n.type === "tryton-sale-out")) {
        assert.deepEqual(JSON.parse(String(node.taxMap)), map, `${node.id}: tax map of the demo Tryton`);
      }
    } finally {
      await fresh.stop();
    }
  });
});

describe("examples: the demo's configuration (npm start)", () => {
  it("uses the simulators unless MAGENTO_URL, TRYTON_URL or SALESFORCE_LOGIN_URL is set", () => {
    assert.equal(magentoFromEnv({}), null);
    assert.equal(trytonFromEnv({}), null);
    assert.equal(salesforceFromEnv({}), null);
  });

  it("names what is missing for a real server", () => {
    assert.throws(
      () => trytonFromEnv({ TRYTON_URL: "http://erp:8000" }),
      /TRYTON_DATABASE, TRYTON_PASSWORD are not set/,
    );
    assert.throws(
      () => salesforceFromEnv({ SALESFORCE_LOGIN_URL: "production", SALESFORCE_CLIENT_ID: "id" }),
      /SALESFORCE_AUTH=password .*client secret \(consumer secret\), username, password/,
    );
    assert.throws(
      () => salesforceFromEnv({ SALESFORCE_LOGIN_URL: "sandbox", SALESFORCE_AUTH: "magic" }),
      /SALESFORCE_AUTH=magic/,
    );
    assert.throws(() => magentoFromEnv({ MAGENTO_URL: "https://shop" }), /MAGENTO_TOKEN/);
    assert.throws(
      () =>
        trytonFromEnv({
          TRYTON_URL: "http://erp:8000",
          TRYTON_DATABASE: "db",
          TRYTON_PASSWORD: "p",
          TRYTON_TAX_MAP: "{20:",
        }),
      /TRYTON_TAX_MAP is not JSON/,
    );
  });

  it("points the example flows at real servers with their credentials, kept out of the flows", () => {
    const targets: DemoTargets = {
      magento: magentoFromEnv({ MAGENTO_URL: "https://shop.example", MAGENTO_TOKEN: "tok-1234" })!,
      tryton: trytonFromEnv({
        TRYTON_URL: "https://erp.example",
        TRYTON_DATABASE: "prod",
        TRYTON_PASSWORD: "pw-1234",
        TRYTON_TAX_MAP: '{"19":[12]}',
      })!,
      salesforce: salesforceFromEnv({
        SALESFORCE_LOGIN_URL: "https://acme.my.salesforce.com",
        SALESFORCE_AUTH: "client_credentials",
        SALESFORCE_CLIENT_ID: "cid",
        SALESFORCE_CLIENT_SECRET: "csecret",
      })!,
    };
    const { flows, credentials } = configureFlows(readExample("flows"), targets);
    const byType = (type: string) => flows.filter((n) => n.type === type);
    assert.deepEqual(
      byType("magento-config").map((n) => [n.baseUrl, n.authMode]),
      [["https://shop.example", "bearer"]],
    );
    assert.deepEqual(
      byType("tryton-config").map((n) => [n.url, n.database]),
      [["https://erp.example", "prod"]],
    );
    assert.deepEqual(
      byType("salesforce-config").map((n) => [n.loginUrl, n.customUrl, n.authMode]),
      [["custom", "https://acme.my.salesforce.com", "client_credentials"]],
    );
    for (const n of byType("tryton-sale-out")) assert.equal(n.taxMap, '{"19":[12]}');
    assert.deepEqual(credentials, {
      "ob-magento": { token: "tok-1234" },
      "ob-tryton": { username: "admin", password: "pw-1234" },
      "ob-salesforce": { clientId: "cid", clientSecret: "csecret" },
    });
    assert.ok(!JSON.stringify(flows).includes("pw-1234"), "secrets travel apart from the flows");
  });
});

describe("e2e: the example flows in the real editor, as npm start deploys them", function () {
  this.timeout(5 * 60_000);
  let cleanup: Cleanup;
  let demo: Demo;
  let session: EditorSession;
  let started = 0;

  before(async function () {
    this.timeout(10 * 60_000);
    requireChromium(this);
    ensureBuilt();
    started = Date.now();
    cleanup = new Cleanup();
    demo = await startQuietDemo(cleanup);
    session = await launchEditor(cleanup);
    await openEditor(session.page, demo.nodeRed.url, "ob1-orders");
    await showSidebarTab(session.page, "debug");
  });

  after(async function () {
    if (!cleanup) return;
    const pid = demo?.nodeRed.pid;
    await cleanup.run();
    if (pid) assert.equal(alive(pid), false, "Node-RED stopped");
    if (started) console.log(`      examples e2e: ${Date.now() - started} ms`);
  });

  afterEach(async function () {
    if (this.currentTest?.state === "failed" && demo) {
      await reportFailure(this.currentTest.title, demo.nodeRed.logs(), session);
    }
    if (session) assert.deepEqual(session.problems, [], "no page errors and no console errors in the editor");
  });

  const sims = () => {
    const { magento, tryton, salesforce } = demo.simulators;
    assert.ok(magento && tryton && salesforce, "the demo runs all three simulators");
    return { magento, tryton, salesforce };
  };
  const sale = (reference: string) =>
    sims()
      .tryton.db.rows("sale.sale")
      .find((s) => s.reference === reference);
  const salesforceOrder = (incrementId: string) =>
    sims()
      .salesforce.db.records("Order")
      .find((o) => o.OrderReferenceNumber === incrementId);

  it("Magento → Tryton: the automatic poll imported the shop; 'import new orders now' imports a new order", async () => {
    const { page } = session;
    const { magento, tryton } = sims();
    await showFlow(page, "ob-tab-tryton");
    // the poll that ran at deploy: its counts are under the node, its sales reach Tryton after them
    await waitForStatus(page, "ob1-orders", /^\d+ orders$/);
    await waitUntil("the poll's sales in Tryton", () => tryton.db.count("sale.sale") >= 50, {
      detail: () => `${tryton.db.count("sale.sale")} so far`,
    });

    const results = await DebugWatch.start(page, "Tryton results");
    const increment = placeOrder(magento);
    await clickInject(page, "ob1-now");
    const { header, text } = await results.next([increment, '"created"']);
    assert.match(header, /msg\.payload : array\[\d+\]/);
    assert.ok(
      text.includes(increment) && text.includes('"created"'),
      `debug shows #${increment} created:\n${text}`,
    );
    const created = sale(increment);
    assert.ok(created, `Tryton has a sale for #${increment}`);
    assert.notEqual(created.state, "draft", "the sale went through the workflow");
  });

  it("Tryton → Magento: a sale cancelled in Tryton cancels its Magento order on 'export status now'", async () => {
    const { page } = session;
    const { magento, tryton } = sims();
    await showFlow(page, "ob-tab-status");
    const updates = await DebugWatch.start(page, "Magento updates");
    const cancelled = cancelSale(tryton);
    assert.ok(cancelled, "a quotation to cancel");
    const order = () => [...magento.orders.values()].find((o) => o.increment_id === cancelled.reference);
    assert.notEqual(order()?.state, "canceled");
    await clickInject(page, "ob2-now");
    const { text } = await updates.next([cancelled.reference, '"cancel"']);
    assert.ok(text.includes('"updated"'), `debug shows the order updated:\n${text}`);
    await waitUntil("the Magento order canceled", () => order()?.state === "canceled");
    await waitForStatus(page, "ob2-export", /upd/);
  });

  it("Manual sync: 'sync #000000011 and #000000015' creates those two Orders in Salesforce", async () => {
    const { page } = session;
    await showFlow(page, "ob-tab-manual");
    assert.equal(DEMO_SHOP_SEED, 1, "the inject names orders of the seed-1 shop");
    const results = await DebugWatch.start(page, "manual sync results");
    await clickInject(page, "ob4-numbers");
    const { header, text } = await results.next(["000000011", "000000015", '"created"']);
    assert.equal(header, "msg.payload : array[2]");
    assert.equal((text.match(/"created"/g) ?? []).length, 2, `both created:\n${text}`);
    for (const increment of ["000000011", "000000015"]) {
      const order = salesforceOrder(increment);
      assert.ok(order, `Salesforce has an Order for #${increment}`);
      assert.equal(order.Status, "Draft", "new Orders get the Default Status");
    }
    assert.equal(sims().salesforce.db.count("Order"), 2, "nothing else was pushed");
  });

  it("Magento → Salesforce: 'push new orders' creates the orders sync-filter passes and shows what it skipped", async () => {
    const { page } = session;
    const { magento, salesforce } = sims();
    await showFlow(page, "ob-tab-salesforce");
    const results = await DebugWatch.start(page, "Salesforce results");
    const skipped = await DebugWatch.start(page, "skipped by the filter");
    await clickInject(page, "ob3-now");
    const held = await skipped.next(["zero_grand_total", "status_not_selected"]);
    assert.ok(held.text.includes("zero_grand_total"), `zero totals skipped:\n${held.text}`);
    const pushed = await results.next(['"created"', '"unchanged"']);
    assert.ok(pushed.text.includes('"created"'), `created Orders in the debug sidebar:\n${pushed.text}`);
    assert.ok(pushed.text.includes('"unchanged"'), "the two pushed by hand are unchanged");
    await waitForStatus(page, "ob3-push", /new/);

    const orders = [...magento.orders.values()];
    const zero = orders.filter((o) => Number(o.grand_total) === 0);
    assert.ok(zero.length > 0, "the shop has zero-total orders");
    for (const o of zero)
      assert.equal(salesforceOrder(o.increment_id), undefined, `#${o.increment_id} (0.00) not pushed`);
    const wanted = orders.filter(
      (o) => Number(o.grand_total) > 0 && ["pending", "processing", "complete", "closed"].includes(o.status),
    );
    for (const o of wanted)
      assert.ok(salesforceOrder(o.increment_id), `#${o.increment_id} (${o.status}) pushed`);
    assert.equal(salesforce.db.count("Order"), wanted.length);

    // pushing everything again changes nothing: keyed upserts and the sync hash
    const again = await DebugWatch.start(page, "Salesforce results");
    await clickInject(page, "ob3-reset");
    const repeat = await again.next();
    assert.match(repeat.header, /msg\.payload : array\[\d+\]/);
    await waitForStatus(page, "ob3-push", /^\d+ same/);
    assert.equal(salesforce.db.count("Order"), wanted.length, "no Order twice");
  });

  it("Webhook: POST /orderbridge/magento-order answers 200 at once and the order reaches Salesforce", async () => {
    const { page } = session;
    const { magento } = sims();
    await showFlow(page, "ob-tab-webhook");
    const results = await DebugWatch.start(page, "webhook results");
    const increment = placeOrder(magento);
    const order = [...magento.orders.values()].find((o) => o.increment_id === increment);
    assert.ok(order);
    const res = await fetch(`${demo.nodeRed.url}/orderbridge/magento-order`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ entity_id: order.entity_id }),
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { received: order.entity_id });
    const { text } = await results.next([increment, '"created"']);
    assert.ok(text.includes('"created"'), `webhook result:\n${text}`);
    await waitUntil(`Salesforce Order for #${increment}`, () => salesforceOrder(increment));

    // the inject button sends the same body without HTTP
    const simulated = await DebugWatch.start(page, "webhook results");
    await clickInject(page, "ob5-simulate");
    const { text: nineteen } = await simulated.next(['"salesforce"']);
    assert.match(nineteen, /orderId: 19\b/);
  });

  it("Error handling: per-order failures leave on output 2, a bad message reaches the catch node", async () => {
    const { page } = session;
    await showFlow(page, "ob-tab-errors");
    const failed = await DebugWatch.start(page, "failed orders");
    await clickInject(page, "ob6-china");
    const lines = await failed.next(['"CN"']);
    assert.match(lines.text, /#2000000010 → tryton: .*no country with code "CN"/);
    assert.match(lines.text, /#2000000011 → tryton/);
    await waitForStatus(page, "ob6-sales", /2 failed/);

    const caught = await DebugWatch.start(page, "errors (catch)");
    await clickInject(page, "ob6-not-order");
    const error = await caught.next();
    assert.match(error.text, /Tryton sales: .*msg\.payload must be a Magento order/);
    const caughtAgain = await DebugWatch.start(page, "errors (catch)");
    await clickInject(page, "ob6-since");
    const bad = await caughtAgain.next();
    assert.match(bad.text, /chosen Magento orders: .*msg\.payload\.since/);
  });

  it("Import › Examples lists the pack's examples and imports one as a new flow", async () => {
    const { page } = session;
    await page.locator("#red-ui-header-button-sidemenu").click();
    await page.locator("#menu-item-import").click();
    await page.locator("#red-ui-clipboard-dialog-import-tabs li", { hasText: "Examples" }).click();
    const examples = page.locator("#red-ui-clipboard-dialog-import-tab-examples");
    await examples.locator(".red-ui-treeList-label", { hasText: "@orderbridge/node-red-order-sync" }).click();
    const first = examples.locator(".red-ui-treeList-label", { hasText: "01 Magento to Tryton import" });
    await first.waitFor({ state: "visible" });
    const labels = await examples
      .locator(".red-ui-treeList-label")
      .evaluateAll((els) => els.map((e) => (e.textContent ?? "").trim()));
    const start = labels.indexOf("@orderbridge/node-red-order-sync") + 1;
    assert.deepEqual(labels.slice(start, start + exampleNames().length), exampleNames());

    const before = await page.evaluate(() => {
      let n = 0;
      (
        window as unknown as { RED: { nodes: { eachWorkspace(cb: () => void): void } } }
      ).RED.nodes.eachWorkspace(() => (n += 1));
      return n;
    });
    await examples.locator(".red-ui-treeList-label", { hasText: "06 Error handling" }).click();
    await page.locator("#red-ui-clipboard-dialog-ok").click();
    // the demo already has these nodes: import a copy, as Node-RED offers
    await page.getByRole("button", { name: "Import copy" }).click();
    await page.waitForFunction((n) => {
      let count = 0;
      (
        window as unknown as { RED: { nodes: { eachWorkspace(cb: () => void): void } } }
      ).RED.nodes.eachWorkspace(() => (count += 1));
      return count === n + 1;
    }, before);
    const imported = await page.evaluate(() => {
      type N = { type: string; z?: string };
      const RED = (
        window as unknown as {
          RED: { workspaces: { active(): string }; nodes: { filterNodes(f: object): N[] } };
        }
      ).RED;
      return RED.nodes.filterNodes({ z: RED.workspaces.active() }).map((n) => n.type);
    });
    assert.ok(
      imported.includes("magento-order-in") && imported.includes("tryton-sale-out"),
      imported.join(", "),
    );
  });
});
