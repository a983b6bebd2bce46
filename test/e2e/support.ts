/**
 * Shared pieces of the end-to-end tests: Debian's chromium driven by playwright-core (never a
 * downloaded browser), a built pack, and a cleanup stack that stops every process by PID.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { missingBuildFiles, REPO_ROOT } from "../../src/sandbox/node-red-runtime";
import { WAIT_CAP_MS } from "../support/wait";

export const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];
const CI = /^(1|true|yes)$/i.test(process.env.CI ?? "");

/**
 * Skip the calling suite loudly when chromium is missing; with CI=true fail instead.
 * Call from a `before` hook: `before(function () { requireChromium(this); })`.
 */
export function requireChromium(ctx: Mocha.Context): void {
  if (existsSync(CHROMIUM)) return;
  const why = `${CHROMIUM} not found: run \`bash scripts/chromium.sh\` (installs Debian's chromium as root)`;
  if (CI) throw new Error(`CI=true and ${why}`);
  console.warn(`\n  !!! SKIPPING end-to-end editor tests: ${why}\n`);
  ctx.skip();
}

let built = false;
/** Build the pack once when `dist/` lacks any node file (throws with the compiler output if that fails). */
export function ensureBuilt(): void {
  if (built || missingBuildFiles().length === 0) {
    built = true;
    return;
  }
  console.warn("  (e2e) dist/ is missing or incomplete: running the build");
  try {
    execFileSync(process.execPath, [path.join(REPO_ROOT, "scripts", "build.mjs")], {
      cwd: REPO_ROOT,
      stdio: "pipe",
      encoding: "utf8",
    });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    const output = `${e.stdout ?? ""}${e.stderr ?? ""}`.trim();
    throw new Error(`npm run build failed:\n${output.split("\nnode:internal")[0] || e.message}`, {
      cause: err,
    });
  }
  const missing = missingBuildFiles();
  if (missing.length > 0) throw new Error(`the build did not produce ${missing.join(", ")}`);
  built = true;
}

/** LIFO list of cleanup steps; `run` executes all of them even if some fail, then throws the first error. */
export class Cleanup {
  private steps: Array<{ what: string; fn: () => unknown }> = [];
  add(what: string, fn: () => unknown): void {
    this.steps.push({ what, fn });
  }
  async run(): Promise<void> {
    const errors: string[] = [];
    while (this.steps.length > 0) {
      const step = this.steps.pop();
      if (!step) break;
      try {
        await step.fn();
      } catch (err) {
        errors.push(`${step.what}: ${(err as Error).message}`);
      }
    }
    if (errors.length > 0) throw new Error(`cleanup failed:\n${errors.join("\n")}`);
  }
}

/** A temp dir removed by the cleanup stack. */
export function tempDir(cleanup: Cleanup, prefix = "orderbridge-e2e-"): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  cleanup.add(`remove ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface EditorSession {
  context: BrowserContext;
  page: Page;
  /** Uncaught page errors and console errors, in order. */
  problems: string[];
}

/**
 * Launch chromium on an empty temp profile (closed and removed by the cleanup stack) with a page
 * that records page errors and console errors.
 */
export async function launchEditor(cleanup: Cleanup): Promise<EditorSession> {
  const profile = tempDir(cleanup, "orderbridge-chromium-");
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1400, height: 900 },
  });
  cleanup.add("close chromium", () => context.close());
  // Every wait and action (locators, waitForFunction, navigation) gets the cap of a wait, not
  // playwright's 30 s: on a busy machine the editor only takes longer.
  context.setDefaultTimeout(WAIT_CAP_MS);
  const page = context.pages()[0] ?? (await context.newPage());
  const problems: string[] = [];
  page.on("pageerror", (err) =>
    problems.push(
      `pageerror: ${err.message}${err.stack ? ` (${err.stack.split("\n")[1]?.trim() ?? ""})` : ""}`,
    ),
  );
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.push(`console.error: ${msg.text()}`);
  });
  return { context, page, problems };
}

/** Open the editor and wait until it has loaded the flows (and, when given, drawn `nodeId`). */
export async function openEditor(page: Page, url: string, nodeId?: string): Promise<void> {
  await page.goto(url + "/", { waitUntil: "domcontentloaded" });
  await page.waitForFunction((id) => {
    const RED = (window as unknown as { RED?: { nodes?: { node(id: string): unknown; version(): unknown } } })
      .RED;
    if (!RED?.nodes?.version?.()) return false;
    return id ? !!RED.nodes.node(id) : true;
  }, nodeId ?? null);
  if (nodeId) await page.locator(nodeSelector(nodeId)).waitFor({ state: "visible" });
}

/** The workspace shape of a node (double-click opens its dialog). */
export function nodeSelector(nodeId: string): string {
  return `g.red-ui-flow-node-group[id='${nodeId}'] rect.red-ui-flow-node`;
}

/** Show a sidebar tab ("debug", "info", …) by clicking it like a user would. */
export async function showSidebarTab(page: Page, tab: string): Promise<void> {
  const link = page.locator(`#red-ui-tab-${tab} a.red-ui-tab-label`);
  if (await link.isVisible()) {
    await link.click();
  } else {
    // narrow window: the tab may be collapsed into the sidebar's tab menu
    await page.evaluate(
      (t) => (window as unknown as { RED: { sidebar: { show(t: string): void } } }).RED.sidebar.show(t),
      tab,
    );
  }
  await page.locator(`#red-ui-tab-${tab}.active`).waitFor();
}

/**
 * After a failed test: the last Node-RED log lines, the editor's problems, and a screenshot in
 * `.tmp/e2e-failures/<prefix><title>.png`, so a CI failure can be read without a rerun.
 */
export async function reportFailure(
  title: string,
  nodeRedLogs: string[],
  session: EditorSession | undefined,
  prefix = "",
): Promise<void> {
  console.warn(`--- Node-RED log of the failed test ---\n${nodeRedLogs.slice(-40).join("\n")}`);
  if (!session) return;
  console.warn(`--- editor problems ---\n${session.problems.join("\n")}`);
  const file = path.join(REPO_ROOT, ".tmp", "e2e-failures", `${prefix}${title.replace(/\W+/g, "-")}.png`);
  await session.page.screenshot({ path: file }).then(
    () => console.warn(`--- screenshot: ${file}`),
    () => undefined,
  );
}
