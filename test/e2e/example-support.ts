/**
 * Helpers for driving the example flows in the real editor: switch flow tabs, click inject
 * buttons, read node status texts, and wait for (and open up) debug sidebar messages the way a
 * user would read them.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type { Locator, Page } from "playwright-core";
import { startDemo, type Demo } from "../../src/sandbox/demo";
import type { Cleanup } from "./support";
import { REPO_ROOT, type FlowNode } from "../../src/sandbox/node-red-runtime";
import { WAIT_CAP_MS, waitUntil } from "../support/wait";

/** Whether a process is still alive. */
export { isAlive as alive } from "../../src/sandbox/processes";

export const EXAMPLES_DIR = path.join(REPO_ROOT, "examples");

/** The example files (names without `.json`), in the order the Import › Examples menu lists them. */
export function exampleNames(): string[] {
  return readdirSync(EXAMPLES_DIR)
    .filter((f) => f.endsWith(".json"))
    .map((f) => f.replace(/\.json$/, ""))
    .sort((a, b) => a.localeCompare(b));
}

export function readExample(name: string): FlowNode[] {
  return JSON.parse(readFileSync(path.join(EXAMPLES_DIR, `${name}.json`), "utf8")) as FlowNode[];
}

type RED = {
  workspaces: { show(id: string): void; active(): string };
  nodes: { eachWorkspace(cb: (ws: { id: string; label: string }) => void): void };
};

/*
 * Node-RED's tab bar takes two clicks within 400 ms as a double click on the second tab, even on two
 * different tabs (one timer for the bar, red.js `onTabClick`, by the page's clock), and opens that
 * flow's edit tray: a quick test that starts and ends with a tab click would open it for the next
 * test. The page's own clock decides, so a busy browser that handles two clicks late and back to
 * back cannot take them for one.
 */
const TAB_DOUBLE_CLICK_MS = 400;
const lastTabClick = new WeakMap<Page, number>();

/** Bring a flow tab to the front by clicking it (or through the tab menu when it is scrolled away). */
export async function showFlow(page: Page, tabId: string): Promise<void> {
  const tab = page.locator(`#red-ui-tab-${tabId} a.red-ui-tab-label`);
  if (await tab.isVisible()) {
    const last = lastTabClick.get(page);
    const gap = TAB_DOUBLE_CLICK_MS + 100;
    if (last !== undefined)
      await page.waitForFunction(([t, ms]) => Date.now() - t > ms, [last, gap] as const);
    await tab.click();
    lastTabClick.set(page, await page.evaluate(() => Date.now()));
  } else await page.evaluate((id) => (window as unknown as { RED: RED }).RED.workspaces.show(id), tabId);
  await page.locator(`#red-ui-tab-${tabId}.active`).waitFor();
}

/** Click the button on the left of an inject node. */
export async function clickInject(page: Page, nodeId: string): Promise<void> {
  const button = page.locator(
    `g.red-ui-flow-node-group[id='${nodeId}'] .red-ui-flow-node-button rect.red-ui-flow-node-button-button`,
  );
  await button.waitFor({ state: "visible" });
  await button.click();
}

/** The status text under a node on the workspace ("" when it has none). */
export async function nodeStatus(page: Page, nodeId: string): Promise<string> {
  const label = page.locator(`g.red-ui-flow-node-group[id='${nodeId}'] .red-ui-flow-node-status-label`);
  return ((await label.count()) ? await label.first().textContent() : "")?.trim() ?? "";
}

/** Wait until a node's status text matches. */
export async function waitForStatus(page: Page, nodeId: string, pattern: RegExp): Promise<string> {
  let text = "";
  await waitUntil(
    `the status of ${nodeId} to match ${pattern}`,
    async () => pattern.test((text = await nodeStatus(page, nodeId))),
    { everyMs: 200, detail: () => `it is "${text}"` },
  );
  return text;
}

/** Debug sidebar messages of the debug node named `name`, oldest first. */
export function debugMessages(page: Page, name: string): Locator {
  return page.locator(".red-ui-debug-msg").filter({
    has: page.locator(".red-ui-debug-msg-name", { hasText: new RegExp(`^node: ${escape(name)}$`) }),
  });
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Remembers how many messages a debug node has shown, so `next` can wait for the first one
 * that arrives afterwards (whatever triggered it: a click or the flow's own timer).
 */
export class DebugWatch {
  private constructor(
    private readonly page: Page,
    readonly name: string,
    private readonly before: number,
  ) {}

  static async start(page: Page, name: string): Promise<DebugWatch> {
    return new DebugWatch(page, name, await debugMessages(page, name).count());
  }

  /** The first new message; its header ("msg.payload : array[3]") and payload text after opening it up until `needles` show. */
  async next(needles: string[] = [], timeoutMs = WAIT_CAP_MS): Promise<{ header: string; text: string }> {
    const message = debugMessages(this.page, this.name).nth(this.before);
    await message.waitFor({ state: "visible", timeout: timeoutMs }).catch((err: Error) => {
      throw new Error(`no new message from debug node "${this.name}" within ${timeoutMs} ms`, { cause: err });
    });
    await message.scrollIntoViewIfNeeded();
    const header = (await message.locator(".red-ui-debug-msg-topic").innerText()).trim();
    const text = await expandUntil(message, needles);
    return { header, text };
  }
}

/**
 * Open the collapsed parts of a debug message (arrays, groups of ten, objects), first to last,
 * until every needle is in its text or nothing is left to open; returns the text.
 */
export async function expandUntil(message: Locator, needles: string[], maxClicks = 120): Promise<string> {
  const payload = message.locator(".red-ui-debug-msg-payload");
  const has = (text: string) => needles.every((n) => text.includes(n));
  let text = await payload.innerText();
  for (let clicks = 0; clicks < maxClicks && !has(text); clicks++) {
    // arrays and objects (.red-ui-debug-msg-element) and groups of ten (.red-ui-debug-msg-object-entry)
    const closed = payload.locator(".collapsed > .red-ui-debug-msg-expandable");
    if ((await closed.count()) === 0) break;
    await closed.first().click();
    text = await payload.innerText();
  }
  return text;
}

/** Free ports, no background activity: the test is the only customer and the only Tryton clerk. */
const DEMO_ENV = {
  PORT: "0",
  MAGENTO_SIM_PORT: "0",
  TRYTON_SIM_PORT: "0",
  SALESFORCE_SIM_PORT: "0",
  DEMO_ACTIVITY_SECONDS: "0",
};

/** The demo as `npm start` runs it, quiet and on free ports; `cleanup` stops it. */
export async function startQuietDemo(cleanup: Cleanup): Promise<Demo> {
  const demo = await startDemo(DEMO_ENV, {
    banner: false,
    log: () => undefined,
    nodeRedLog: () => undefined,
  });
  cleanup.add("stop the demo (simulators and Node-RED)", () => demo.stop());
  return demo;
}
