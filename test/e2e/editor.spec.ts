/**
 * The pack in the real Node-RED editor: a real Node-RED (src/sandbox/node-red-runtime.ts) with the
 * built pack, the Magento simulator, and Debian's chromium driven by playwright-core.
 * Every test gets its own simulator, Node-RED and browser, all stopped (by PID) afterwards.
 */
import assert from "node:assert/strict";
import { startNodeRed, type NodeRedInstance } from "../../src/sandbox/node-red-runtime";
import { defaultAdmin, startMagentoSimulator } from "../../src/sandbox/magento";
import {
  Cleanup,
  ensureBuilt,
  launchEditor,
  nodeSelector,
  openEditor,
  requireChromium,
  showSidebarTab,
  type EditorSession,
  reportFailure,
} from "./support";

const ADMIN = defaultAdmin;
const TAB = "e2e-tab";
const CONFIG = "e2e-magento";
const INJECT = "e2e-pull";
const ORDERS = "e2e-orders";
const CONFIG_NAME = "Simulated shop";
const ORDERS_NAME = "Pull from the shop";

function intakeFlow(magentoUrl: string): object[] {
  return [
    { id: TAB, type: "tab", label: "e2e intake" },
    {
      id: CONFIG,
      type: "magento-config",
      name: CONFIG_NAME,
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
      z: TAB,
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
      wires: [[ORDERS]],
    },
    {
      id: ORDERS,
      type: "magento-order-in",
      z: TAB,
      name: ORDERS_NAME,
      magento: CONFIG,
      autoSync: false,
      interval: 5,
      intervalUnit: "m",
      x: 380,
      y: 100,
      wires: [["e2e-debug-orders"], ["e2e-debug-invalid"]],
    },
    {
      id: "e2e-debug-orders",
      type: "debug",
      z: TAB,
      name: "orders",
      active: true,
      tosidebar: true,
      console: false,
      tostatus: false,
      complete: "payload",
      targetType: "msg",
      x: 620,
      y: 80,
      wires: [],
    },
    {
      id: "e2e-debug-invalid",
      type: "debug",
      z: TAB,
      name: "invalid orders",
      active: true,
      tosidebar: true,
      console: false,
      tostatus: false,
      complete: "true",
      targetType: "full",
      x: 630,
      y: 140,
      wires: [],
    },
  ];
}

/** Store view names as the simulator's REST API reports them (what the Test button must show). */
async function storeViewNames(magentoUrl: string): Promise<string[]> {
  const tokenRes = await fetch(`${magentoUrl}/rest/V1/integration/admin/token`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(ADMIN),
  });
  assert.equal(tokenRes.status, 200, "admin token from the simulator");
  const token = (await tokenRes.json()) as string;
  const res = await fetch(`${magentoUrl}/rest/V1/store/storeViews`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  assert.equal(res.status, 200, "store views from the simulator");
  return ((await res.json()) as Array<{ name: string }>).map((v) => v.name);
}

function assertNoProblems(session: EditorSession): void {
  assert.deepEqual(session.problems, [], "no page errors and no console errors in the editor");
}

describe("e2e: the pack in the Node-RED editor", function () {
  this.timeout(5 * 60_000);
  let cleanup: Cleanup;
  let nodeRed: NodeRedInstance;
  let magentoUrl: string;
  let session: EditorSession;

  before(function () {
    requireChromium(this);
    ensureBuilt();
  });

  beforeEach(async () => {
    cleanup = new Cleanup();
    const sim = await startMagentoSimulator({ seed: 7, admin: ADMIN });
    cleanup.add("stop the Magento simulator", () => sim.stop());
    magentoUrl = sim.url;
    nodeRed = await startNodeRed({
      flows: intakeFlow(magentoUrl),
      credentials: { [CONFIG]: { ...ADMIN } },
    });
    cleanup.add("stop Node-RED", () => nodeRed.stop());
    session = await launchEditor(cleanup);
    await openEditor(session.page, nodeRed.url, ORDERS);
  });

  afterEach(async function () {
    if (this.currentTest?.state === "failed" && nodeRed) {
      await reportFailure(this.currentTest.title, nodeRed.logs(), session);
    }
    await cleanup.run();
  });

  it("shows magento-order-in in the palette with its label", async () => {
    const { page } = session;
    const entry = page.locator(".red-ui-palette-node[data-palette-type='magento-order-in']");
    await entry.waitFor({ state: "visible" });
    const expected = await page.evaluate(() => {
      type Def = { paletteLabel?: string | ((this: unknown) => string) };
      const RED = (window as unknown as { RED: { nodes: { getType(t: string): Def | null } } }).RED;
      const def = RED.nodes.getType("magento-order-in");
      if (!def) return null;
      const label = typeof def.paletteLabel === "function" ? def.paletteLabel.call(def) : def.paletteLabel;
      return label ?? "magento-order-in";
    });
    assert.ok(expected, "magento-order-in is registered in the editor");
    // the palette wraps long labels over lines: compare the words
    const shown = (await entry.locator(".red-ui-palette-label").textContent()) ?? "";
    assert.equal(shown.replace(/\s+/g, " ").trim(), expected);
    const types = await page.evaluate(() => {
      const RED = (
        window as unknown as { RED: { nodes: { getType(t: string): { category?: string } | null } } }
      ).RED;
      return { config: RED.nodes.getType("magento-config")?.category ?? null };
    });
    assert.equal(types.config, "config", "magento-config is registered as a config node");
    assertNoProblems(session);
  });

  it("draws the magento-order-in node on the workspace with its label", async () => {
    const { page } = session;
    const label = page.locator(`g.red-ui-flow-node-group[id='${ORDERS}'] .red-ui-flow-node-label`);
    await label.waitFor({ state: "visible" });
    assert.equal((await label.textContent())?.trim(), ORDERS_NAME);
    assertNoProblems(session);
  });

  it("opens the edit dialog on double-click, with the Magento config select resolved to the config node", async () => {
    const { page } = session;
    await page.locator(nodeSelector(ORDERS)).dblclick();
    const select = page.locator("select#node-input-magento");
    await select.waitFor({ state: "visible" });
    assert.equal(await select.inputValue(), CONFIG);
    assert.equal((await select.locator("option:checked").innerText()).trim(), CONFIG_NAME);
    assert.equal(await page.locator("#node-input-name").inputValue(), ORDERS_NAME);
    await page.locator("#node-dialog-cancel").click();
    await select.waitFor({ state: "detached" });
    assertNoProblems(session);
  });

  it("tests the Magento connection from the config dialog and lists the simulator's store views", async () => {
    const { page } = session;
    const expected = await storeViewNames(magentoUrl);
    assert.ok(expected.length > 0, "the simulator has store views");
    await page.locator(nodeSelector(ORDERS)).dblclick();
    await page.locator("select#node-input-magento").waitFor({ state: "visible" });
    // the pencil beside the select opens the config node's own dialog
    await page.locator("#node-input-btn-magento-edit").click();
    const button = page.locator("#node-config-magento-test");
    await button.waitFor({ state: "visible" });
    assert.equal(await page.locator("#node-config-input-baseUrl").inputValue(), magentoUrl);
    await button.click();
    const result = page.locator("#node-config-magento-test-result");
    for (const name of expected) {
      await page.waitForFunction(
        ([sel, text]) => (document.querySelector(sel)?.textContent ?? "").includes(text),
        ["#node-config-magento-test-result", name] as const,
      );
    }
    const text = (await result.innerText()).trim();
    assert.match(text, /Connected/i, `success message, got: ${text}`);
    assertNoProblems(session);
  });

  it("clicking the inject button shows a page of orders (an array) in the debug sidebar", async () => {
    const { page } = session;
    await showSidebarTab(page, "debug");
    await page
      .locator(
        `g.red-ui-flow-node-group[id='${INJECT}'] .red-ui-flow-node-button rect.red-ui-flow-node-button-button`,
      )
      .click();
    const message = page.locator(".red-ui-debug-msg").filter({ hasText: "node: orders" }).first();
    await message.waitFor({ state: "visible" });
    const header = (await message.locator(".red-ui-debug-msg-topic").innerText()).trim();
    assert.match(header, /msg\.payload : array\[\d+\]/, `debug header: ${header}`);
    const count = Number(/array\[(\d+)\]/.exec(header)?.[1]);
    assert.ok(count > 0, "at least one order on the page");
    // expand the array (and its first group of ten, when it has more) down to the first order:
    // orders carry Magento's increment_id
    const payload = message.locator(".red-ui-debug-msg-payload");
    const field = payload.getByText("increment_id").first();
    for (let depth = 0; depth < 4 && !(await field.isVisible()); depth++) {
      await payload.locator(".red-ui-debug-msg-object-handle").nth(depth).click();
    }
    await field.waitFor({ state: "visible" });
    assertNoProblems(session);
  });
});
