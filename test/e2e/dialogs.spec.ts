/**
 * Every edit dialog of the pack in the real editor, on the example flows as `npm start` deploys
 * them (startDemo: the Magento, Tryton and Salesforce simulators and a real Node-RED with the
 * built pack), driven with Debian's chromium: open each node's dialog, change a field, Done,
 * Deploy, and read the saved value back from Node-RED's admin API; a value the dialog refuses is
 * marked and makes the node invalid; each Test connection button names a refused login and
 * succeeds with the right secret. The run also takes the README's screenshots (docs/images/),
 * each only after the assertions before it passed. One demo and one browser for the whole suite,
 * so the tests run in order; everything is stopped by PID afterwards.
 */
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import type { Demo } from "../../src/sandbox/demo";
import { defaultAdmin } from "../../src/sandbox/magento";
import { REPO_ROOT, type FlowNode } from "../../src/sandbox/node-red-runtime";
import { alive, clickInject, DebugWatch, showFlow, startQuietDemo, waitForStatus } from "./example-support";
import { ensurePluginBuilt } from "./packaging-support";
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

const IMAGES = path.join(REPO_ROOT, "docs", "images");
const VIEWPORT = { width: 1280, height: 800 };
const WRONG = "Wrong-Secret-42";

type EditorWindow = {
  RED: {
    nodes: {
      dirty(): boolean;
      version(): string | null;
      node(id: string): { valid?: boolean; [key: string]: unknown } | null;
    };
    actions: { invoke(name: string): void };
    comms: { subscribe(topic: string, cb: (topic: string, msg: { revision: string }) => void): void };
  };
};

/**
 * Wait until the dialog on top has finished opening. Node-RED builds it off screen, slides it in
 * and then focuses its first field: typing before that (on a busy machine) loses keys to the
 * field that takes the focus.
 */
async function dialogOpened(page: Page): Promise<void> {
  await page.waitForFunction(() => {
    const trays = document.querySelectorAll("#red-ui-editor-stack > .red-ui-tray");
    const body = trays[trays.length - 1]?.querySelector(".red-ui-tray-body");
    return !!body && body.contains(document.activeElement);
  });
}

/** Double-click a node on its flow tab and wait for its edit dialog. */
async function openNodeDialog(page: Page, tab: string, id: string): Promise<void> {
  await showFlow(page, tab);
  await page.locator(nodeSelector(id)).dblclick();
  await page.locator("#node-dialog-ok").waitFor({ state: "visible" });
  await page.locator("#node-input-name").waitFor({ state: "visible" });
  await dialogOpened(page);
}

/** From an open node dialog, the pencil beside a config select opens the config node's dialog. */
async function openConfigDialog(page: Page, property: string): Promise<void> {
  await page.locator(`#node-input-btn-${property}-edit`).click();
  await page.locator("#node-config-dialog-ok").waitFor({ state: "visible" });
  await page.locator("#node-config-input-name").waitFor({ state: "visible" });
  await dialogOpened(page);
}

async function closeConfigDialog(page: Page, button: "ok" | "cancel"): Promise<void> {
  await page.locator(`#node-config-dialog-${button}`).click();
  await page.locator("#node-config-input-name").waitFor({ state: "detached" });
}

async function closeNodeDialog(page: Page, button: "ok" | "cancel"): Promise<void> {
  await page.locator(`#node-dialog-${button}`).click();
  await page.locator("#node-dialog-ok").waitFor({ state: "detached" });
}

/** Type into a field like a user (replacing what it held) and leave it, so it validates. */
async function type(page: Page, selector: string, value: string): Promise<void> {
  const input = page.locator(selector);
  await input.fill(value);
  await input.press("Tab");
}

async function hasInputError(page: Page, selector: string): Promise<boolean> {
  return page.locator(selector).evaluate((el) => el.classList.contains("input-error"));
}

async function isDirty(page: Page): Promise<boolean> {
  return page.evaluate(() => (window as unknown as EditorWindow).RED.nodes.dirty());
}

/**
 * Click Deploy and wait until the editor has nothing left to deploy and the runtime has started
 * the new flows: Node-RED answers the deploy before it starts them, and tells the editor once it
 * has (the retained runtime-deploy notification, with the flows' revision).
 */
async function deploy(page: Page): Promise<void> {
  assert.ok(await isDirty(page), "the dialog left a change to deploy");
  await page.evaluate(() => {
    const w = window as unknown as EditorWindow & { __obStarted?: string | null };
    if (w.__obStarted !== undefined) return;
    w.__obStarted = null;
    w.RED.comms.subscribe("notification/runtime-deploy", (_topic, msg) => {
      w.__obStarted = msg.revision;
    });
  });
  await page.locator("#red-ui-header-button-deploy").click();
  await page.waitForFunction(() => {
    const w = window as unknown as EditorWindow & { __obStarted?: string | null };
    const revision = w.RED.nodes.version();
    return !w.RED.nodes.dirty() && !!revision && w.__obStarted === revision;
  });
  await page.locator("#red-ui-header-button-deploy.disabled").waitFor();
}

/** Whether the workspace draws the node with its red "invalid" badge. */
async function shownInvalid(page: Page, id: string): Promise<boolean> {
  const badge = page.locator(`g.red-ui-flow-node-group[id='${id}'] .red-ui-flow-node-error`);
  return (await badge.count()) > 0 && (await badge.first().isVisible());
}

/** A README screenshot (docs/images/), without the passing "Successfully deployed" notifications. */
async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(IMAGES, { recursive: true });
  await page.screenshot({
    path: path.join(IMAGES, name),
    style: "#red-ui-notifications { display: none !important; }",
  });
}

/** Drag the bar between the workspace and the sidebar by `dx` pixels (negative: a wider sidebar). */
async function dragSidebarEdge(page: Page, dx: number): Promise<void> {
  const box = await page.locator("#red-ui-sidebar-separator").boundingBox();
  assert.ok(box, "the sidebar separator is on screen");
  const x = box.x + box.width / 2;
  const y = box.y + box.height / 2;
  await page.mouse.move(x, y);
  await page.mouse.down();
  await page.mouse.move(x + dx, y, { steps: 8 });
  await page.mouse.up();
}

/** Wait until an element has kept its place and size over ten frames (the editor animates its layout). */
async function settled(page: Page, selector: string): Promise<void> {
  // (no named functions in here: the test's compiler would wrap them in a helper the page lacks)
  await page.waitForFunction(
    async (sel) => {
      let last = "";
      for (let frame = 0; frame < 10; frame++) {
        await new Promise((resolve) => requestAnimationFrame(resolve));
        const r = document.querySelector(sel)?.getBoundingClientRect();
        const chart = document.querySelector("#red-ui-workspace-chart");
        const now = r
          ? `${r.left},${r.top},${r.width},${r.height},${chart?.scrollLeft},${chart?.scrollTop}`
          : "";
        if (frame > 0 && now !== last) return false;
        last = now;
      }
      return last !== "";
    },
    selector,
    { polling: 100 },
  );
}

function invoke(page: Page, action: string): Promise<void> {
  return page.evaluate((a) => (window as unknown as EditorWindow).RED.actions.invoke(a), action);
}

describe("e2e: every edit dialog of the pack, on the example flows in the real editor", function () {
  this.timeout(5 * 60_000);
  let cleanup: Cleanup;
  let demo: Demo;
  let session: EditorSession;
  let started = 0;

  before(async function () {
    this.timeout(10 * 60_000);
    requireChromium(this);
    ensureBuilt();
    ensurePluginBuilt();
    started = Date.now();
    cleanup = new Cleanup();
    demo = await startQuietDemo(cleanup);
    session = await launchEditor(cleanup);
    await session.page.setViewportSize(VIEWPORT);
    await openEditor(session.page, demo.nodeRed.url, "ob1-orders");
  });

  after(async function () {
    if (!cleanup) return;
    const pid = demo?.nodeRed.pid;
    await cleanup.run();
    if (pid) assert.equal(alive(pid), false, "Node-RED stopped");
    if (started) console.log(`      dialogs e2e: ${Date.now() - started} ms`);
  });

  afterEach(async function () {
    if (this.currentTest?.state === "failed" && demo) {
      await reportFailure(this.currentTest.title, demo.nodeRed.logs(), session, "dialogs-");
      if (session) {
        // leave no dialog open for the next test
        for (let open = 0; open < 3; open++) {
          const cancel = session.page.locator("#node-config-dialog-cancel, #node-dialog-cancel").last();
          if (!(await cancel.isVisible())) break;
          const handle = await cancel.elementHandle();
          await cancel.click().catch(() => undefined);
          await handle?.waitForElementState("hidden").catch(() => undefined);
        }
      }
    }
    if (session) assert.deepEqual(session.problems, [], "no page errors and no console errors in the editor");
  });

  /** The deployed flows, as the admin API returns them. */
  async function deployedFlows(): Promise<FlowNode[]> {
    const res = await fetch(`${demo.nodeRed.url}/flows`, { headers: { "Node-RED-API-Version": "v2" } });
    assert.equal(res.status, 200, "GET /flows");
    return ((await res.json()) as { flows: FlowNode[] }).flows;
  }
  async function deployed(id: string): Promise<FlowNode> {
    const node = (await deployedFlows()).find((n) => n.id === id);
    assert.ok(node, `${id} is deployed`);
    return node;
  }
  /** An admin route of the pack that works only when the deployed config node still has its secrets. */
  async function adminGet(route: string): Promise<{ ok: boolean; error?: string; [key: string]: unknown }> {
    const res = await fetch(`${demo.nodeRed.url}/orderbridge/${route}`);
    assert.equal(res.status, 200, `GET /orderbridge/${route}`);
    return (await res.json()) as { ok: boolean; error?: string };
  }

  describe("screenshots of the example flows and the Order sync panel", () => {
    it("Magento → Salesforce after 'push new orders': counts under the nodes, results in the debug sidebar (flows.png)", async () => {
      const { page } = session;
      await showSidebarTab(page, "debug");
      await showFlow(page, "ob-tab-salesforce");
      const results = await DebugWatch.start(page, "Salesforce results");
      await clickInject(page, "ob3-now");
      const pushed = await results.next(['"created"']);
      assert.match(pushed.header, /msg\.payload : array\[\d+\]/);
      assert.match(await waitForStatus(page, "ob3-orders", /\d+ orders/), /\d+ orders/);
      assert.match(await waitForStatus(page, "ob3-push", /\d+ new/), /\d+ new/);
      // the whole tab beside the sidebar: no palette, zoomed out to 80 %, scrolled to its corner
      await invoke(page, "core:toggle-palette");
      await settled(page, "#red-ui-workspace");
      await invoke(page, "core:zoom-out");
      await invoke(page, "core:zoom-out");
      await page.locator("#red-ui-workspace-chart").evaluate((chart) => chart.scrollTo(0, 0));
      // the pointer off the debug message, which would highlight its node
      await page.mouse.move(400, 600);
      await settled(page, "#red-ui-workspace-chart");
      await screenshot(page, "flows.png");
      await invoke(page, "core:zoom-reset");
      await invoke(page, "core:toggle-palette");
    });

    it("the Order sync panel lists the orders pushed to Salesforce and imported into Tryton (sync-panel.png)", async () => {
      const { page } = session;
      await showSidebarTab(page, "orderbridge-order-sync");
      const rows = page.locator("#orderbridge-sync-list .orderbridge-sync-row");
      await page
        .locator(
          "#orderbridge-sync-list .orderbridge-sync-row[data-target='salesforce'][data-action='created']",
        )
        .first()
        .waitFor();
      await page
        .locator("#orderbridge-sync-list .orderbridge-sync-row[data-target='tryton']")
        .first()
        .waitFor();
      assert.ok((await rows.count()) > 10, "one row per order and target");
      assert.match(await page.locator("#orderbridge-sync-summary").innerText(), /\d+ synced/);
      // a wider sidebar shows the target ids and times beside the order numbers
      await dragSidebarEdge(page, -260);
      await screenshot(page, "sync-panel.png");
      await dragSidebarEdge(page, 260);
      await showSidebarTab(page, "debug");
    });
  });

  describe("each edit dialog opens and saves", () => {
    it("magento-order-in: name", async () => {
      const { page } = session;
      await openNodeDialog(page, "ob-tab-salesforce", "ob3-orders");
      assert.equal(await page.locator("select#node-input-magento").inputValue(), "ob-magento");
      await type(page, "#node-input-name", "Shop orders (edited)");
      await closeNodeDialog(page, "ok");
      await deploy(page);
      assert.equal((await deployed("ob3-orders")).name, "Shop orders (edited)");
    });

    it("sync-filter: name and one more status to let through", async () => {
      const { page } = session;
      await openNodeDialog(page, "ob-tab-salesforce", "ob3-filter");
      const holded = page.locator("#sync-filter-status-holded");
      assert.equal(await holded.isChecked(), false);
      assert.equal(await page.locator("#sync-filter-status-processing").isChecked(), true);
      await type(page, "#node-input-name", "paid statuses only");
      await holded.check();
      await closeNodeDialog(page, "ok");
      await deploy(page);
      const node = await deployed("ob3-filter");
      assert.equal(node.name, "paid statuses only");
      assert.deepEqual([...(node.statuses as string[])].sort(), [
        "closed",
        "complete",
        "holded",
        "pending",
        "processing",
      ]);
    });

    it("salesforce-order-out: name and the Default Status picked from the org's list (dialog.png)", async () => {
      const { page } = session;
      await openNodeDialog(page, "ob-tab-salesforce", "ob3-push");
      // the pick list comes from the deployed salesforce-config (the org's Order statuses)
      const pick = page.locator("#salesforce-order-out-status-pick");
      await pick.locator("option[value='In Progress']").waitFor({ state: "attached" });
      assert.equal(await pick.inputValue(), "Draft");
      await type(page, "#node-input-name", "Orders to Salesforce");
      await pick.selectOption("In Progress");
      assert.equal(await page.locator("#node-input-defaultStatus").inputValue(), "In Progress");
      assert.equal(await page.locator("#node-input-defaultStatusGroup").inputValue(), "Draft");
      assert.match(await page.locator("#salesforce-order-out-status-note").innerText(), /draft/i);
      await screenshot(page, "dialog.png");
      await closeNodeDialog(page, "ok");
      await deploy(page);
      const node = await deployed("ob3-push");
      assert.equal(node.name, "Orders to Salesforce");
      assert.equal(node.defaultStatus, "In Progress");
      assert.equal(node.defaultStatusGroup, "Draft");
    });

    it("tryton-sale-out: name and reference prefix", async () => {
      const { page } = session;
      await openNodeDialog(page, "ob-tab-tryton", "ob1-sales");
      assert.equal(await page.locator("select#node-input-tryton").inputValue(), "ob-tryton");
      await type(page, "#node-input-name", "Sales in Tryton");
      await type(page, "#node-input-referencePrefix", "WEB-");
      await closeNodeDialog(page, "ok");
      await deploy(page);
      const node = await deployed("ob1-sales");
      assert.equal(node.name, "Sales in Tryton");
      assert.equal(node.referencePrefix, "WEB-");
    });

    it("status-export: name", async () => {
      const { page } = session;
      await openNodeDialog(page, "ob-tab-status", "ob2-export");
      await type(page, "#node-input-name", "Tryton status back to the shop");
      await closeNodeDialog(page, "ok");
      await deploy(page);
      assert.equal((await deployed("ob2-export")).name, "Tryton status back to the shop");
    });

    it("magento-config (pencil beside the select): name and page size; the secrets stay deployed", async () => {
      const { page } = session;
      await openNodeDialog(page, "ob-tab-salesforce", "ob3-orders");
      await openConfigDialog(page, "magento");
      assert.equal(await page.locator("#node-config-input-pageSize").inputValue(), "50");
      await type(page, "#node-config-input-name", "Demo shop");
      await type(page, "#node-config-input-pageSize", "120");
      assert.equal(await hasInputError(page, "#node-config-input-pageSize"), false);
      await closeConfigDialog(page, "ok");
      await closeNodeDialog(page, "ok");
      await deploy(page);
      const node = await deployed("ob-magento");
      assert.equal(node.name, "Demo shop");
      assert.equal(Number(node.pageSize), 120);
      assert.equal(node.authMode, "bearer");
      const views = await adminGet("magento/ob-magento/store-views");
      assert.equal(views.ok, true, `the redeployed config still logs in: ${views.error ?? ""}`);
    });

    it("tryton-config: name; an emptied database is marked and refused", async () => {
      const { page } = session;
      await openNodeDialog(page, "ob-tab-tryton", "ob1-sales");
      await openConfigDialog(page, "tryton");
      const database = await page.locator("#node-config-input-database").inputValue();
      assert.equal(database, demo.targets.tryton.database);
      await type(page, "#node-config-input-database", "");
      assert.equal(await hasInputError(page, "#node-config-input-database"), true, "required field marked");
      await type(page, "#node-config-input-database", database);
      assert.equal(await hasInputError(page, "#node-config-input-database"), false);
      await type(page, "#node-config-input-name", "Demo ERP");
      await closeConfigDialog(page, "ok");
      await closeNodeDialog(page, "ok");
      await deploy(page);
      const node = await deployed("ob-tryton");
      assert.equal(node.name, "Demo ERP");
      assert.equal(node.database, database);
      const companies = await adminGet("tryton/ob-tryton/companies");
      assert.equal(companies.ok, true, `the redeployed config still logs in: ${companies.error ?? ""}`);
    });

    it("salesforce-config: name and API version", async () => {
      const { page } = session;
      await openNodeDialog(page, "ob-tab-salesforce", "ob3-push");
      await openConfigDialog(page, "salesforce");
      assert.equal(await page.locator("#node-config-input-apiVersion").inputValue(), "60.0");
      await type(page, "#node-config-input-name", "Demo org");
      await type(page, "#node-config-input-apiVersion", "61.0");
      await closeConfigDialog(page, "ok");
      await closeNodeDialog(page, "ok");
      await deploy(page);
      const node = await deployed("ob-salesforce");
      assert.equal(node.name, "Demo org");
      assert.equal(node.apiVersion, "61.0");
      const statuses = await adminGet("salesforce/ob-salesforce/order-statuses");
      assert.equal(statuses.ok, true, `the redeployed config still logs in: ${statuses.error ?? ""}`);
    });

    it("status-export: its dialog shows the renamed config nodes, and Cancel changes nothing", async () => {
      const { page } = session;
      await openNodeDialog(page, "ob-tab-status", "ob2-export");
      const magento = page.locator("select#node-input-magento option:checked");
      const tryton = page.locator("select#node-input-tryton option:checked");
      assert.equal((await magento.innerText()).trim(), "Demo shop");
      assert.equal((await tryton.innerText()).trim(), "Demo ERP");
      await closeNodeDialog(page, "cancel");
      assert.equal(await isDirty(page), false, "Cancel changes nothing");
    });
  });

  describe("validation in the dialogs", () => {
    it("magento-config: a page size of 1000 is marked, makes the nodes using it invalid, and is not deployed", async () => {
      const { page } = session;
      await openNodeDialog(page, "ob-tab-salesforce", "ob3-orders");
      await openConfigDialog(page, "magento");
      await type(page, "#node-config-input-pageSize", "1000");
      assert.equal(await hasInputError(page, "#node-config-input-pageSize"), true, "1000 > 300 is marked");
      await type(page, "#node-config-input-pageSize", "0");
      assert.equal(await hasInputError(page, "#node-config-input-pageSize"), true, "0 is marked");
      await closeConfigDialog(page, "ok");
      // the node's own dialog marks its config select
      assert.equal(await hasInputError(page, "select#node-input-magento"), true, "config select marked");
      await closeNodeDialog(page, "ok");
      const valid = await page.evaluate(() => {
        const { nodes } = (window as unknown as EditorWindow).RED;
        return [nodes.node("ob-magento")?.valid, nodes.node("ob3-orders")?.valid];
      });
      assert.deepEqual(valid, [false, false], "config node and its user are invalid");
      assert.equal(await shownInvalid(page, "ob3-orders"), true, "the workspace shows the red badge");
      assert.equal(await shownInvalid(page, "ob3-push"), false, "nodes not using it stay valid");

      // Deploy warns about invalid nodes; the runtime keeps the last good value
      await page.locator("#red-ui-header-button-deploy").click();
      const warning = page.locator(".red-ui-notification").filter({ hasText: "not properly configured" });
      await warning.waitFor();
      assert.match(await warning.innerText(), /Magento orders|Shop orders|Demo shop/);
      await warning.getByRole("button", { name: "Cancel" }).click();
      assert.equal(Number((await deployed("ob-magento")).pageSize), 120);

      // a valid value again clears the marks and deploys
      await openNodeDialog(page, "ob-tab-salesforce", "ob3-orders");
      await openConfigDialog(page, "magento");
      await type(page, "#node-config-input-pageSize", "300");
      assert.equal(await hasInputError(page, "#node-config-input-pageSize"), false, "300 is allowed");
      await closeConfigDialog(page, "ok");
      await closeNodeDialog(page, "ok");
      assert.equal(await shownInvalid(page, "ob3-orders"), false);
      await deploy(page);
      assert.equal(Number((await deployed("ob-magento")).pageSize), 300);
    });
    it("salesforce-order-out: an Activated Default Status is flagged and makes the node invalid until a Draft one is chosen", async () => {
      const { page } = session;
      await openNodeDialog(page, "ob-tab-salesforce", "ob3-push");
      const pick = page.locator("#salesforce-order-out-status-pick");
      const note = page.locator("#salesforce-order-out-status-note");
      await pick.locator("option[value='Activated']").waitFor({ state: "attached" });
      await pick.selectOption("Activated");
      assert.match(await note.innerText(), /Activated status group: Salesforce refuses new orders/);
      assert.equal(await note.evaluate((el) => el.classList.contains("salesforce-fail")), true, "in red");
      assert.equal(await hasInputError(page, "#node-input-defaultStatus"), true, "Activated is marked");
      await closeNodeDialog(page, "ok");
      assert.equal(await shownInvalid(page, "ob3-push"), true, "the workspace shows the red badge");

      // reopened, the dialog marks the field; a Draft-group status makes the node valid again
      await openNodeDialog(page, "ob-tab-salesforce", "ob3-push");
      await pick.locator("option[value='In Progress']").waitFor({ state: "attached" });
      assert.equal(await hasInputError(page, "#node-input-defaultStatus"), true, "Activated is marked");
      await pick.selectOption("In Progress");
      assert.match(await note.innerText(), /^Draft status group/);
      assert.equal(await hasInputError(page, "#node-input-defaultStatus"), false, "In Progress is not");
      await closeNodeDialog(page, "ok");
      assert.equal(await shownInvalid(page, "ob3-push"), false);
      await deploy(page);
      const node = await deployed("ob3-push");
      assert.deepEqual([node.defaultStatus, node.defaultStatusGroup], ["In Progress", "Draft"]);
    });
  });

  describe("Test connection reports a clear failure for a wrong password", () => {
    it("magento-config, admin user: a wrong password is refused; the right one lists the store views", async () => {
      const { page } = session;
      await openNodeDialog(page, "ob-tab-salesforce", "ob3-orders");
      await openConfigDialog(page, "magento");
      await page.locator("#node-config-input-authMode").selectOption("admin");
      await page.locator("#node-config-input-password").waitFor({ state: "visible" });
      await type(page, "#node-config-input-username", defaultAdmin.username);
      await type(page, "#node-config-input-password", WRONG);
      const result = page.locator("#node-config-magento-test-result");
      await page.locator("#node-config-magento-test").click();
      await result.locator("xpath=self::*[contains(@class,'magento-fail')]").waitFor();
      const refused = await result.innerText();
      assert.match(refused, /HTTP 401/);
      assert.match(refused, /sign-in was incorrect/);
      assert.match(refused, /Check the admin username and password/);
      assert.ok(!refused.includes(WRONG), "the typed password is not echoed");

      await type(page, "#node-config-input-password", defaultAdmin.password);
      await page.locator("#node-config-magento-test").click();
      await result.locator("xpath=self::*[contains(@class,'magento-ok')]").waitFor();
      assert.match(await result.innerText(), /^Connected\. Store views: .*Default Store View \(default\)/);

      // Cancel: the deployed configuration keeps its bearer token
      await closeConfigDialog(page, "cancel");
      await closeNodeDialog(page, "cancel");
      assert.equal(await isDirty(page), false);
      assert.equal((await deployed("ob-magento")).authMode, "bearer");
    });

    it("tryton-config: a wrong password is refused; the right one lists the companies", async () => {
      const { page } = session;
      await openNodeDialog(page, "ob-tab-tryton", "ob1-sales");
      await openConfigDialog(page, "tryton");
      await type(page, "#node-config-input-password", WRONG);
      const result = page.locator("#node-config-tryton-test-result");
      await page.locator("#node-config-tryton-test").click();
      await result.locator("xpath=self::*[contains(@class,'tryton-fail')]").waitFor();
      const refused = await result.innerText();
      assert.match(refused, /login refused for user "admin"/);
      assert.match(refused, /wrong user or password/);
      assert.ok(!refused.includes(WRONG), "the typed password is not echoed");

      await type(page, "#node-config-input-password", demo.targets.tryton.credentials.password);
      await page.locator("#node-config-tryton-test").click();
      await result.locator("xpath=self::*[contains(@class,'tryton-ok')]").waitFor();
      assert.match(await result.innerText(), /^Connected to Tryton 6\.0\.\d+\. Companies: .+ \(1\)/);
      assert.equal(await page.locator("#node-config-tryton-companies").isVisible(), true);
      await closeConfigDialog(page, "cancel");
      await closeNodeDialog(page, "cancel");
      assert.equal(await isDirty(page), false);
    });

    it("salesforce-config: a wrong password is refused; the right one names the user and the org", async () => {
      const { page } = session;
      const { credentials } = demo.targets.salesforce;
      await openNodeDialog(page, "ob-tab-salesforce", "ob3-push");
      await openConfigDialog(page, "salesforce");
      await type(page, "#node-config-input-password", WRONG);
      const result = page.locator("#node-config-salesforce-test-result");
      await page.locator("#node-config-salesforce-test").click();
      await result.locator("xpath=self::*[contains(@class,'salesforce-fail')]").waitFor();
      const refused = await result.innerText();
      assert.match(
        refused,
        /Salesforce login failed \(password flow, invalid_grant\): authentication failure/,
      );
      assert.match(refused, /the password and the security token/);
      assert.ok(!refused.includes(WRONG), "the typed password is not echoed");

      await type(page, "#node-config-input-password", credentials.password);
      await page.locator("#node-config-salesforce-test").click();
      await result.locator("xpath=self::*[contains(@class,'salesforce-ok')]").waitFor();
      const ok = await result.innerText();
      assert.match(
        ok,
        new RegExp(`^Connected as .+ <${credentials.username.replace(/\./g, "\\.")}> to org 00D`),
      );
      assert.match(ok, /Order statuses: Draft \(Draft\)/);
      await closeConfigDialog(page, "cancel");
      await closeNodeDialog(page, "cancel");
      assert.equal(await isDirty(page), false);
    });
  });
});
