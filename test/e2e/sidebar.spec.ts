/**
 * The "Order sync" sidebar panel in the real editor: a real Node-RED with the built pack, the
 * Magento simulator with two broken orders (one with markup in its increment id), and Debian's
 * chromium. Intake failures are results with target "magento", so the panel has rows without
 * any target system; "sync again" must make Magento serve the chosen orders again.
 */
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import { REPO_ROOT, startNodeRed, type NodeRedInstance } from "../../src/sandbox/node-red-runtime";
import { defaultAdmin, startMagentoSimulator, type MagentoSimulator } from "../../src/sandbox/magento";
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
import { ensurePluginBuilt } from "./packaging-support";

const TAB = "orderbridge-order-sync";
const CONFIG = "sidebar-magento";
const INJECT = "sidebar-pull";
const INTAKE = "sidebar-intake";
const MARKUP = `<img src=x onerror="window.__orderbridgeXss=1">`;
const ROW = ".orderbridge-sync-row";

function flow(magentoUrl: string): object[] {
  return [
    { id: "sidebar-tab", type: "tab", label: "Sync panel" },
    {
      id: CONFIG,
      type: "magento-config",
      name: "Simulated shop",
      baseUrl: magentoUrl,
      storeCode: "default",
      authMode: "admin",
      timeout: 30,
      pageSize: 50,
      rejectUnauthorized: true,
      ca: "",
    },
    {
      id: INJECT,
      type: "inject",
      z: "sidebar-tab",
      name: "pull",
      props: [{ p: "payload" }],
      repeat: "",
      crontab: "",
      once: false,
      topic: "",
      payload: "",
      payloadType: "date",
      x: 140,
      y: 100,
      wires: [[INTAKE]],
    },
    {
      id: INTAKE,
      type: "magento-order-in",
      z: "sidebar-tab",
      name: "Shop orders",
      magento: CONFIG,
      autoSync: false,
      interval: 5,
      intervalUnit: "m",
      x: 360,
      y: 100,
      wires: [[], []],
    },
  ];
}

async function rows(page: Page, selector = ROW): Promise<number> {
  return page.locator(`#orderbridge-sync-list ${selector}`).count();
}

async function waitRows(page: Page, selector: string, n: number): Promise<void> {
  await page.waitForFunction(
    ([sel, count]) => document.querySelectorAll(`#orderbridge-sync-list ${sel}`).length === count,
    [selector, n] as const,
    { timeout: 20_000 },
  );
}

async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("e2e: the Order sync sidebar panel", function () {
  this.timeout(120_000);
  let cleanup: Cleanup;
  let nodeRed: NodeRedInstance;
  let sim: MagentoSimulator;
  let session: EditorSession;
  let qtyBroken: string;

  before(function () {
    requireChromium(this);
    ensureBuilt();
    ensurePluginBuilt();
  });

  beforeEach(async () => {
    cleanup = new Cleanup();
    sim = await startMagentoSimulator({ seed: 7, admin: defaultAdmin });
    cleanup.add("stop the Magento simulator", () => sim.stop());
    const five = sim.orders.get(5)!;
    (five.items as Array<Record<string, unknown>>)[0].qty_ordered = "lots";
    qtyBroken = String(five.increment_id);
    const nine = sim.orders.get(9)!;
    nine.increment_id = MARKUP;
    delete nine.customer_email;
    nodeRed = await startNodeRed({ flows: flow(sim.url), credentials: { [CONFIG]: { ...defaultAdmin } } });
    cleanup.add("stop Node-RED", () => nodeRed.stop());
    session = await launchEditor(cleanup);
    await openEditor(session.page, nodeRed.url, INTAKE);
  });

  afterEach(async function () {
    if (this.currentTest?.state === "failed" && nodeRed) {
      await reportFailure(this.currentTest.title, nodeRed.logs(), session, "sidebar-");
    }
    await cleanup.run();
  });

  it("shows intake failures with a red mark, filters them, escapes order data and syncs them again", async () => {
    const { page } = session;
    const tab = page.locator(`#red-ui-tab-${TAB}`);
    assert.equal(await tab.count(), 1, "the Order sync tab is in the sidebar");
    await showSidebarTab(page, TAB);
    await page.locator("#orderbridge-sync-empty").waitFor({ state: "visible" });
    assert.equal(await rows(page), 0);

    // a pull through the inject button: two orders fail validation
    await page
      .locator(
        `g.red-ui-flow-node-group[id='${INJECT}'] .red-ui-flow-node-button rect.red-ui-flow-node-button-button`,
      )
      .click();
    await waitRows(page, `${ROW}[data-target='magento'][data-action='failed']`, 2);
    assert.equal(await rows(page), 2);
    const marks = page.locator(`#orderbridge-sync-list ${ROW} .orderbridge-sync-mark`);
    assert.deepEqual(await marks.allTextContents(), ["\u2717", "\u2717"]);
    const color = await marks.first().evaluate((el) => getComputedStyle(el).color);
    assert.equal(color, "rgb(214, 49, 45)", "failed is red");
    assert.match(
      await page.locator("#orderbridge-sync-summary").innerText(),
      /0 synced · 0 skipped · 2 failed/,
    );

    const broken = page.locator(`#orderbridge-sync-list ${ROW}[data-increment-id='${qtyBroken}']`);
    assert.match(await broken.locator(".orderbridge-sync-error").innerText(), /items\.0\.qty_ordered/);
    // increment ids and messages from outside are text, never markup
    const markupRow = page.locator(`#orderbridge-sync-list ${ROW}[data-order-id='9']`);
    assert.equal((await markupRow.locator(".orderbridge-sync-order").innerText()).trim(), `#${MARKUP}`);
    assert.equal(await page.locator("#orderbridge-sync-list img").count(), 0);
    assert.equal(
      await page.evaluate(() => (window as { __orderbridgeXss?: number }).__orderbridgeXss),
      undefined,
    );

    // filters: target, failed only, search by increment id
    await page.locator("#orderbridge-sync-target").selectOption("salesforce");
    await waitRows(page, ROW, 0);
    await page.locator("#orderbridge-sync-target").selectOption("magento");
    await waitRows(page, ROW, 2);
    await page.locator("#orderbridge-sync-failed").check();
    await page.locator("#orderbridge-sync-search").fill(qtyBroken);
    await waitRows(page, ROW, 1);
    await page.locator("#orderbridge-sync-search").fill("");
    await waitRows(page, ROW, 2);

    mkdirSync(path.join(REPO_ROOT, ".tmp", "screenshots"), { recursive: true });
    await page
      .locator("#red-ui-sidebar")
      .screenshot({ path: path.join(REPO_ROOT, ".tmp", "screenshots", "order-sync-panel.png") });

    // sync again on one failed row: Magento is asked for that order
    sim.resetCounters();
    await broken.locator(".orderbridge-sync-row-again").click();
    await until("Magento to be asked again", () => (sim.counters["GET /V1/orders"] ?? 0) >= 1);
    await page
      .locator(".red-ui-notification")
      .filter({ hasText: "Pulling 1 order(s) again through Shop orders" })
      .waitFor({ timeout: 10_000 });

    // sync again for selected rows
    const again = page.locator("#orderbridge-sync-again");
    assert.ok(await again.isDisabled(), "nothing selected: nothing to sync");
    await page.locator(`#orderbridge-sync-list ${ROW} .orderbridge-sync-select`).nth(0).check();
    await page.locator(`#orderbridge-sync-list ${ROW} .orderbridge-sync-select`).nth(1).check();
    assert.equal((await again.innerText()).trim(), "Sync again (2)");
    sim.resetCounters();
    await again.click();
    await until(
      "Magento to be asked for the selected orders",
      () => (sim.counters["GET /V1/orders"] ?? 0) >= 1,
    );
    await page
      .locator(".red-ui-notification")
      .filter({ hasText: "Pulling 2 order(s) again" })
      .waitFor({ timeout: 10_000 });
    assert.ok(await again.isDisabled(), "the selection is cleared after sync again");
    // the intakes fail again (the orders are still broken) and the rows stay, updated
    await waitRows(page, `${ROW}[data-action='failed']`, 2);
    assert.deepEqual(session.problems, [], "no page errors and no console errors in the editor");
  });
});

describe("e2e: Order sync panel routes need the orderbridge permissions (adminAuth)", function () {
  this.timeout(60_000);
  let nodeRed: NodeRedInstance | undefined;

  before(function () {
    ensureBuilt();
    ensurePluginBuilt();
  });
  after(async () => {
    await nodeRed?.stop();
  });

  it("lets a read-only user look but not sync again, and a full user both", async () => {
    const nodeRedRequire = createRequire(require.resolve("node-red/package.json", { paths: [REPO_ROOT] }));
    const bcrypt = nodeRedRequire("bcryptjs") as { hashSync(p: string, rounds: number): string };
    const hash = bcrypt.hashSync("viewer-pass", 4);
    nodeRed = await startNodeRed({
      settings: {
        adminAuth: {
          type: "credentials",
          users: [
            { username: "viewer", password: hash, permissions: "read" },
            { username: "admin", password: hash, permissions: "*" },
          ],
        },
      },
    });
    const url = nodeRed.url;
    const login = async (username: string, scope: string) => {
      const res = await fetch(`${url}/auth/token`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({
          client_id: "node-red-admin",
          grant_type: "password",
          scope,
          username,
          password: "viewer-pass",
        }),
      });
      assert.equal(res.status, 200, `login as ${username}`);
      return { Authorization: `Bearer ${((await res.json()) as { access_token: string }).access_token}` };
    };
    const again = (headers: Record<string, string>) =>
      fetch(`${url}/orderbridge/sync/again`, {
        method: "POST",
        headers: { ...headers, "Content-Type": "application/json" },
        body: JSON.stringify({ orders: [{ orderId: 1 }] }),
      });

    assert.equal((await fetch(`${url}/orderbridge/sync/results`)).status, 401, "anonymous: no results");
    assert.equal((await fetch(`${url}/orderbridge/sync/intakes`)).status, 401);
    assert.equal((await again({})).status, 401);

    const viewer = await login("viewer", "read");
    assert.equal((await fetch(`${url}/orderbridge/sync/results`, { headers: viewer })).status, 200);
    assert.equal((await fetch(`${url}/orderbridge/sync/intakes`, { headers: viewer })).status, 200);
    // Node-RED answers 401 (not 403) when a valid token lacks the permission
    assert.equal((await again(viewer)).status, 401, "read-only: no sync again");

    const admin = await login("admin", "*");
    const res = await again(admin);
    assert.equal(res.status, 409, "allowed, but no intake is deployed");
    assert.match(((await res.json()) as { error: string }).error, /No magento-order-in node is deployed/);
  });
});
