/**
 * The "Order sync" sidebar panel in the real editor: a real Node-RED with the built pack, the
 * Magento simulator with two broken orders (one with markup in its increment id), and Debian's
 * chromium. Intake failures are results with target "magento", so the panel has rows without
 * any target system; "sync again" must make Magento serve the chosen orders again. The queue
 * view runs against the Tryton simulator too: orders it refuses or holds wait in the sale
 * node's sync queue until they are synced again (or dismissed) from the panel.
 */
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import { REPO_ROOT, startNodeRed, type NodeRedInstance } from "../../src/sandbox/node-red-runtime";
import { prepareTrytonSimulator } from "../../src/sandbox/demo";
import { defaultAdmin, startMagentoSimulator, type MagentoSimulator } from "../../src/sandbox/magento";
import { startTrytonSimulator } from "../../src/sandbox/tryton";
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
import { clickInject } from "./example-support";
import { ensurePluginBuilt } from "./packaging-support";
import { waitUntil } from "../support/wait";

const TAB = "orderbridge-order-sync";
const CONFIG = "sidebar-magento";
const INJECT = "sidebar-pull";
const INTAKE = "sidebar-intake";
const MARKUP = `<img src=x onerror="window.__orderbridgeXss=1">`;
const SALE_OUT = "sidebar-sale-out";
const ROW = ".orderbridge-sync-row";

/** Inject → magento-order-in on one tab; the intake's orders go to `next`, `extra` nodes join the flow. */
function flow(magentoUrl: string, next: string[] = [], extra: object[] = []): object[] {
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
      wires: [next, []],
    },
    ...extra,
  ];
}

async function rows(page: Page, selector = ROW): Promise<number> {
  return page.locator(`#orderbridge-sync-list ${selector}`).count();
}

async function waitRows(page: Page, selector: string, n: number): Promise<void> {
  await page.waitForFunction(
    ([sel, count]) => document.querySelectorAll(`#orderbridge-sync-list ${sel}`).length === count,
    [selector, n] as const,
  );
}

/**
 * Watches for an editor notification from now on: the panel's notices show for 3 s, which a busy
 * machine can spend before the test gets to look. Await the result after the click.
 */
function notification(page: Page, text: string): Promise<void> {
  const seen = page.locator(".red-ui-notification").filter({ hasText: text }).waitFor();
  seen.catch(() => undefined); // awaited by the caller; no unhandled rejection if the test failed before
  return seen;
}

describe("e2e: the Order sync sidebar panel", function () {
  this.timeout(5 * 60_000);
  let cleanup: Cleanup;
  let nodeRed: NodeRedInstance | undefined;
  let session: EditorSession | undefined;

  before(function () {
    requireChromium(this);
    ensureBuilt();
    ensurePluginBuilt();
  });

  beforeEach(() => {
    cleanup = new Cleanup();
    nodeRed = undefined;
    session = undefined;
  });

  afterEach(async function () {
    if (this.currentTest?.state === "failed" && nodeRed) {
      await reportFailure(this.currentTest.title, nodeRed.logs(), session, "sidebar-");
    }
    await cleanup.run();
  });

  /** The simulated shop (seed 7), stopped after the test. */
  async function startShop(orders?: number): Promise<MagentoSimulator> {
    const shop = await startMagentoSimulator({ seed: 7, admin: defaultAdmin, ...(orders ? { orders } : {}) });
    cleanup.add("stop the Magento simulator", () => shop.stop());
    return shop;
  }

  /** Node-RED running `flows` (the shop's credentials added) and the editor open on them. */
  async function startEditor(flows: object[], credentials: Record<string, object> = {}) {
    const started = await startNodeRed({
      flows,
      credentials: { [CONFIG]: { ...defaultAdmin }, ...credentials },
    });
    nodeRed = started;
    cleanup.add("stop Node-RED", () => started.stop());
    session = await launchEditor(cleanup);
    await openEditor(session.page, started.url, INTAKE);
    return { nodeRed: started, page: session.page, problems: session.problems };
  }

  it("shows intake failures with a red mark, filters them, escapes order data and syncs them again", async () => {
    const sim = await startShop();
    const five = sim.orders.get(5)!;
    (five.items as Array<Record<string, unknown>>)[0].qty_ordered = "lots";
    const qtyBroken = String(five.increment_id);
    const nine = sim.orders.get(9)!;
    nine.increment_id = MARKUP;
    delete nine.customer_email;
    const { page, problems } = await startEditor(flow(sim.url));
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
    const resultAt = () => broken.locator(".orderbridge-sync-time").getAttribute("title");
    const firstAt = await resultAt();
    sim.resetCounters();
    const pulling = notification(page, "Pulling 1 order(s) again through Shop orders");
    await broken.locator(".orderbridge-sync-row-again").click();
    await waitUntil("Magento to be asked again", () => (sim.counters["GET /V1/orders"] ?? 0) >= 1);
    await pulling;
    // It fails again: its new result replaces the row, selection box included, when the panel
    // refreshes. Select rows only after that (on a busy machine the refresh comes late).
    await waitUntil("the order's new result in the panel", async () => (await resultAt()) !== firstAt);

    // sync again for selected rows
    const again = page.locator("#orderbridge-sync-again");
    assert.ok(await again.isDisabled(), "nothing selected: nothing to sync");
    await page.locator(`#orderbridge-sync-list ${ROW} .orderbridge-sync-select`).nth(0).check();
    await page.locator(`#orderbridge-sync-list ${ROW} .orderbridge-sync-select`).nth(1).check();
    assert.equal((await again.innerText()).trim(), "Sync again (2)");
    sim.resetCounters();
    const pullingTwo = notification(page, "Pulling 2 order(s) again");
    await again.click();
    await waitUntil(
      "Magento to be asked for the selected orders",
      () => (sim.counters["GET /V1/orders"] ?? 0) >= 1,
    );
    await pullingTwo;
    assert.ok(await again.isDisabled(), "the selection is cleared after sync again");
    // the intakes fail again (the orders are still broken) and the rows stay, updated
    await waitRows(page, `${ROW}[data-action='failed']`, 2);
    assert.deepEqual(problems, [], "no page errors and no console errors in the editor");
  });

  it("shows the sync queue: held orders are not green, entries are synced again or dismissed, and go once synced", async () => {
    // Tryton has no country "IS" (orders 1 and 4 fail) and totals order 2 differently (held: mismatch)
    const shop = await startShop(4);
    const tryton = await startTrytonSimulator({ password: "Panel-Tryton-Pass-1" });
    cleanup.add("stop the Tryton simulator", () => tryton.stop());
    const taxMap = prepareTrytonSimulator(tryton);
    for (const id of [1, 4])
      (shop.orders.get(id)!.billing_address as { country_id: string }).country_id = "IS";
    const held = shop.orders.get(2)!;
    Object.assign(held, {
      grand_total: Number(held.grand_total) + 5,
      state: "processing",
      status: "processing",
    });
    const increment = (id: number) => String(shop.orders.get(id)!.increment_id);
    const saleOut = {
      id: SALE_OUT,
      type: "tryton-sale-out",
      z: "sidebar-tab",
      name: "ERP sales",
      tryton: "sidebar-tryton",
      shippingProduct: "SHIPPING",
      discountProduct: "DISCOUNT",
      taxMap,
      bundle: "parent",
      referencePrefix: "",
      timeZone: "UTC",
      stateMap: "",
      mismatch: "hold",
      accountCategory: "",
      productType: "auto",
      // the second failure of an order needs attention
      retryAttempts: 2,
      x: 580,
      y: 100,
      wires: [[], []],
    };
    const trytonConfig = {
      id: "sidebar-tryton",
      type: "tryton-config",
      name: "ERP",
      url: tryton.url,
      database: tryton.database,
      language: "en",
      company: "",
      timeout: 30,
    };
    const { nodeRed, page, problems } = await startEditor(
      flow(shop.url, [SALE_OUT], [saleOut, trytonConfig]),
      {
        "sidebar-tryton": { username: tryton.username, password: tryton.password },
      },
    );
    const queued = async () => {
      const res = await fetch(`${nodeRed.url}/orderbridge/sync/queue`);
      return ((await res.json()) as { entries: Array<{ key: string; nodeId: string }> }).entries;
    };
    const row = (id: number) => page.locator(`#orderbridge-sync-list ${ROW}[data-key='id:${id}']`);

    await showSidebarTab(page, TAB);
    await clickInject(page, INJECT);
    await waitRows(page, `${ROW}[data-target='tryton']`, 4);

    // results: the held sale is amber, never the green tick; "failed only" shows it too
    const heldRow = page.locator(`#orderbridge-sync-list ${ROW}[data-target='tryton'][data-order-id='2']`);
    assert.equal(await heldRow.getAttribute("data-status"), "held");
    const heldMark = heldRow.locator(".orderbridge-sync-mark");
    assert.equal(await heldMark.innerText(), "\u26a0");
    assert.equal(await heldMark.getAttribute("title"), "held: mismatch");
    assert.equal(await heldMark.evaluate((el) => getComputedStyle(el).color), "rgb(194, 124, 14)");
    assert.match(await heldRow.locator(".orderbridge-sync-error").innerText(), /grand_total is/);
    assert.match(await page.locator("#orderbridge-sync-summary").innerText(), / · 2 failed · 1 held$/);
    await page.locator("#orderbridge-sync-failed").check();
    await waitRows(page, ROW, 3);
    assert.deepEqual(
      (
        await page
          .locator(`#orderbridge-sync-list ${ROW}`)
          .evaluateAll((els) =>
            els.map((el) => `${el.getAttribute("data-order-id")} ${el.getAttribute("data-status")}`),
          )
      ).sort(),
      ["1 failed", "2 held", "4 failed"],
    );

    // the queue: every order that did not reach Tryton, with its state and attempts
    await page.locator("#orderbridge-sync-view").selectOption("queue");
    await waitRows(page, `${ROW}[data-node-id='${SALE_OUT}'][data-state='pending']`, 3);
    assert.ok(
      await page.locator("#orderbridge-sync-failed").isHidden(),
      "'failed only' belongs to the results",
    );
    assert.match(
      await page.locator("#orderbridge-sync-summary").innerText(),
      /^3 waiting · 0 retrying · 0 need attention$/,
    );
    assert.equal(await row(2).getAttribute("data-retry-class"), "hold");
    assert.equal((await row(1).locator(".orderbridge-sync-order").innerText()).trim(), `#${increment(1)}`);
    // 30 min after the failure, less the time a busy machine took to get here
    assert.match(
      await row(1).locator(".orderbridge-sync-when").innerText(),
      /^next try in (2\d|30) min · attempt 2$/,
    );
    assert.match(await row(1).locator(".orderbridge-sync-error").innerText(), /no country with code "IS"/);
    assert.equal((await row(1).locator(".orderbridge-sync-node").innerText()).trim(), "ERP sales");
    await row(1).locator(".orderbridge-sync-node").click(); // shows the node in the workspace

    // sync again one order: it fails a second time and needs attention
    await row(1).locator(".orderbridge-sync-row-again").click();
    await page.locator(`#orderbridge-sync-list ${ROW}[data-key='id:1'][data-state='attention']`).waitFor();
    assert.equal(await row(1).getAttribute("data-attempts"), "2");
    assert.equal(await row(1).locator(".orderbridge-sync-mark").innerText(), "!");
    assert.match(
      await row(1).locator(".orderbridge-sync-when").innerText(),
      /^needs attention · 2 attempts$/,
    );
    assert.match(
      await page.locator("#orderbridge-sync-summary").innerText(),
      /^2 waiting · 0 retrying · 1 need attention$/,
    );
    await page.locator("#orderbridge-sync-attention").check();
    await waitRows(page, ROW, 1);
    await page.locator("#orderbridge-sync-attention").uncheck();
    await waitRows(page, ROW, 3);

    mkdirSync(path.join(REPO_ROOT, ".tmp", "screenshots"), { recursive: true });
    await page
      .locator("#red-ui-sidebar")
      .screenshot({ path: path.join(REPO_ROOT, ".tmp", "screenshots", "order-sync-queue.png") });

    // dismiss the held order, after a confirmation
    await row(2).locator(".orderbridge-sync-row-dismiss").click();
    await page.locator("#orderbridge-sync-dismiss-confirm").click();
    await waitRows(page, ROW, 2);
    assert.deepEqual((await queued()).map((e) => `${e.nodeId} ${e.key}`).sort(), [
      `${SALE_OUT} id:1`,
      `${SALE_OUT} id:4`,
    ]);

    // Tryton learns the country; sync again the selection: both orders reach Tryton and leave the queue
    tryton.db.call("country.country", "create", [
      [{ code: "IS", code3: "ISL", code_numeric: "352", name: "Iceland" }],
    ]);
    const again = page.locator("#orderbridge-sync-queue-again");
    assert.ok(await again.isDisabled(), "nothing selected: nothing to sync");
    await row(1).locator(".orderbridge-sync-select").check();
    await row(4).locator(".orderbridge-sync-select").check();
    assert.equal((await again.innerText()).trim(), "Sync again (2)");
    assert.equal((await page.locator("#orderbridge-sync-dismiss").innerText()).trim(), "Dismiss (2)");
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith("/orderbridge/sync/queue/again")),
      again.click(),
    ]);
    assert.equal(response.status(), 200);
    assert.deepEqual(await response.json(), { ok: true, changed: 2, intakes: [INTAKE], unassigned: 0 });
    await page.locator("#orderbridge-sync-empty").waitFor({ state: "visible" });
    assert.equal(await rows(page), 0);
    assert.deepEqual(await queued(), []);
    assert.match(await page.locator("#orderbridge-sync-summary").innerText(), /^0 waiting/);

    // the results view shows them synced
    await page.locator("#orderbridge-sync-view").selectOption("results");
    await page.locator("#orderbridge-sync-failed").uncheck();
    await waitRows(page, `${ROW}[data-target='tryton'][data-status='synced']`, 3);
    assert.deepEqual(problems, [], "no page errors and no console errors in the editor");
  });
});

describe("e2e: Order sync panel routes need the orderbridge permissions (adminAuth)", function () {
  this.timeout(5 * 60_000);
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
