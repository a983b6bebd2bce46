/**
 * The npm tarball in a user's hands: `npm pack`, `npm install <tgz>` into a fresh userDir (no
 * dev dependencies), then Node-RED 4.1 and 5.x, each on Node 22 and on Node 24, load every node
 * type and the sidebar plugin with no warning or error. The toolchains come from the npm registry
 * (Node: scripts/node.sh into .tmp/node-<major>; Node-RED 5: .tmp/nr5; 4.1 is the dev
 * dependency), installed side by side while the tarball is packed, once. Without CI=true a
 * toolchain that cannot be installed (no network) skips its runs loudly; with CI=true it fails.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { CHROMIUM, Cleanup, ensureBuilt, launchEditor, openEditor } from "./support";
import {
  CI,
  MATRIX,
  ensurePluginBuilt,
  installTarball,
  manifest,
  packTarball,
  startPlainNodeRed,
  toolchain,
  type RunningNodeRed,
  type Toolchain,
} from "./packaging-support";

const PLUGIN_ID = "orderbridge-order-sync";
/** Lines Node-RED logs at warn level on any fresh userDir, whatever is installed. */
const EXPECTED_WARNINGS = [/Projects disabled/, /Encrypted credentials not found/];

interface NodeSetInfo {
  id: string;
  name: string;
  types: string[];
  enabled: boolean;
  module: string;
  err?: string;
}
interface PluginSetInfo {
  id: string;
  enabled: boolean;
  module: string;
  err?: string;
  plugins: Array<{ id: string }>;
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { headers: { Accept: "application/json" } });
  assert.equal(res.status, 200, `GET ${url}`);
  return (await res.json()) as T;
}

async function assertPackLoaded(nodeRed: RunningNodeRed, tool: Toolchain): Promise<void> {
  const pkg = manifest();
  const where = `Node-RED ${tool.nodeRedVersion} on Node ${tool.nodeVersion}`;
  const problems = nodeRed
    .logs()
    .filter((l) => /\[(warn|error)\]/.test(l) && !EXPECTED_WARNINGS.some((w) => w.test(l)));
  assert.deepEqual(problems, [], `no warnings or errors in the log of ${where}`);

  const sets = (await getJson<NodeSetInfo[]>(`${nodeRed.url}/nodes`)).filter((s) => s.module === pkg.name);
  const declared = Object.keys(pkg["node-red"].nodes ?? {}).sort();
  assert.deepEqual(sets.map((s) => s.name).sort(), declared, `${where} lists every node set of the pack`);
  for (const set of sets) {
    assert.equal(set.err, undefined, `${set.id} loaded without error on ${where}`);
    assert.equal(set.enabled, true, `${set.id} enabled on ${where}`);
    assert.ok(set.types.includes(set.name), `${set.id} registers the type ${set.name} on ${where}`);
  }

  const plugins = (await getJson<PluginSetInfo[]>(`${nodeRed.url}/plugins`)).filter(
    (p) => p.module === pkg.name,
  );
  assert.deepEqual(
    plugins.map((p) => p.id),
    Object.keys(pkg["node-red"].plugins ?? {}).map((name) => `${pkg.name}/${name}`),
    `${where} lists the plugin`,
  );
  assert.equal(plugins[0].err, undefined);
  assert.deepEqual(
    plugins[0].plugins.map((p) => p.id),
    [PLUGIN_ID],
    `the runtime half registered itself on ${where}`,
  );
  // the editor fetches every plugin's HTML in one response
  const html = await (await fetch(`${nodeRed.url}/plugins`, { headers: { Accept: "text/html" } })).text();
  assert.match(
    html,
    /RED\.plugins\.registerPlugin\("orderbridge-order-sync"/,
    `editor half served by ${where}`,
  );
  // and the runtime half answers
  const results = await getJson<{ entries: unknown[] }>(`${nodeRed.url}/orderbridge/sync/results`);
  assert.deepEqual(results.entries, []);
  await assertEditorLoads(nodeRed, where);
}

/**
 * The editor registers every node type and shows the panel. On a heavily loaded machine the
 * Node-RED 5 editor has thrown "Cannot read properties of undefined (reading 'html')" from its
 * own code before our panel was shown (seen twice in about ten runs, once on each Node): a
 * page error there gets one more editor (printed loudly); a second one fails the test.
 */
async function assertEditorLoads(nodeRed: RunningNodeRed, where: string): Promise<void> {
  if (!existsSync(CHROMIUM)) {
    if (CI) throw new Error(`CI=true and ${CHROMIUM} not found: run \`bash scripts/chromium.sh\``);
    console.warn(`\n  !!! SKIPPING the editor check on ${where}: ${CHROMIUM} not found\n`);
    return;
  }
  const attempts = /Node-RED 5/.test(where) ? 2 : 1;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await editorLoads(nodeRed, where);
    } catch (err) {
      const pageErrorsOnly =
        err instanceof assert.AssertionError && /no page or console errors/.test(err.message);
      if (attempt >= attempts || !pageErrorsOnly) throw err;
      console.warn(`\n  !!! ${where}: page errors in the editor, opening it once more:\n  ${err.message}\n`);
    }
  }
}

async function editorLoads(nodeRed: RunningNodeRed, where: string): Promise<void> {
  const cleanup = new Cleanup();
  try {
    const { page, problems } = await launchEditor(cleanup);
    await openEditor(page, nodeRed.url);
    const types = Object.keys(manifest()["node-red"].nodes ?? {});
    await page.waitForFunction((ts) => {
      const RED = (window as unknown as { RED: { nodes: { getType(t: string): unknown } } }).RED;
      return ts.every((t) => RED.nodes.getType(t));
    }, types);
    await page.locator("#orderbridge-sync").waitFor({ state: "attached" });
    await page.evaluate(() =>
      (window as unknown as { RED: { sidebar: { show(id: string): void } } }).RED.sidebar.show(
        "orderbridge-order-sync",
      ),
    );
    await page.locator("#orderbridge-sync").waitFor({ state: "visible" });
    await page.waitForFunction(() =>
      /0 synced/.test(document.querySelector("#orderbridge-sync-summary")?.textContent ?? ""),
    );
    assert.deepEqual(problems, [], `no page or console errors in the editor of ${where}`);
  } finally {
    await cleanup.run();
  }
}

describe("packaging: the npm tarball installs and loads in Node-RED 4.1 and 5.x on Node 22 and 24", function () {
  this.timeout(600_000);
  let work: string;
  let tarball: string;
  /** The tarball installed once; every run gets a copy (Node-RED writes into its userDir). */
  let installed: string;
  let running: RunningNodeRed | undefined;
  const toolchains = new Map<string, Promise<Toolchain>>();
  const name = (m: (typeof MATRIX)[number]) => `Node-RED ${m.nodeRed} on Node ${m.node}`;

  before(function () {
    const started = Date.now();
    // every toolchain installs in the background (the first run once, later runs find them)
    for (const m of MATRIX) {
      const tool = toolchain(m);
      tool.then(
        () => console.log(`      (${name(m)} toolchain ready after ${Date.now() - started} ms)`),
        () => undefined, // reported by the run that needs it
      );
      toolchains.set(name(m), tool);
    }
    ensureBuilt();
    ensurePluginBuilt();
    work = mkdtempSync(path.join(os.tmpdir(), "orderbridge-pack-"));
    let t = Date.now();
    tarball = packTarball(work);
    console.log(`      (npm pack: ${Date.now() - t} ms)`);
    installed = path.join(work, "user");
    t = Date.now();
    try {
      installTarball(installed, tarball); // its dependencies come from the npm registry
    } catch (err) {
      if (CI) throw err;
      console.warn(`\n  !!! SKIPPED every packaging run: ${headline(err)}\n`);
      this.skip();
    }
    console.log(`      (npm install <tgz>: ${Date.now() - t} ms)`);
  });

  afterEach(async () => {
    await running?.stop();
    running = undefined;
  });

  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("ships the compiled nodes and plugin with their HTML, the examples and no sources or tests", () => {
    const listing = execTar(tarball);
    const pkg = manifest();
    for (const file of [
      ...Object.values(pkg["node-red"].nodes ?? {}),
      ...Object.values(pkg["node-red"].plugins ?? {}),
    ]) {
      assert.ok(listing.includes(`package/${file}`), `${file} is in the tarball`);
      const html = file.replace(/\.js$/, ".html");
      assert.ok(listing.includes(`package/${html}`), `${html} is in the tarball`);
    }
    assert.ok(
      listing.some((f) => f.startsWith("package/examples/") && f.endsWith(".json")),
      "examples",
    );
    assert.ok(!listing.some((f) => /^package\/(src|test|scripts)\//.test(f)), "no sources, tests or scripts");
  });

  for (const m of MATRIX) {
    it(`loads without warnings in ${name(m)}`, async function () {
      let t = Date.now();
      let tool: Toolchain;
      try {
        tool = await (toolchains.get(name(m)) as Promise<Toolchain>);
      } catch (err) {
        if (CI) throw err;
        console.warn(`\n  !!! SKIPPED ${name(m)}: ${headline(err)}\n`);
        this.skip();
      }
      console.log(`      (waited ${Date.now() - t} ms for the toolchain)`);
      assert.match(tool.nodeRedVersion, m.nodeRed === "4.1" ? /^4\.1\./ : /^5\./);
      assert.match(tool.nodeVersion, new RegExp(`^v${m.node}\\.`));
      const userDir = path.join(work, `user-${m.nodeRed}-${m.node}`);
      cpSync(installed, userDir, { recursive: true, verbatimSymlinks: true });
      t = Date.now();
      running = await startPlainNodeRed(tool, userDir);
      console.log(
        `      (Node-RED ${tool.nodeRedVersion} on ${tool.nodeVersion} start: ${Date.now() - t} ms)`,
      );
      await assertPackLoaded(running, tool);
    });
  }
});

/** The first and the last line of an install failure (the command, and npm's reason). */
function headline(err: unknown): string {
  const lines = (err as Error).message.split("\n").filter((l) => l.trim());
  return lines.length > 1 ? `${lines[0]} … ${lines[lines.length - 1].trim()}` : (lines[0] ?? String(err));
}

function execTar(tarball: string): string[] {
  const res = spawnSync("tar", ["tzf", tarball], { encoding: "utf8" });
  assert.equal(res.status, 0, res.stderr);
  return res.stdout.split("\n").filter(Boolean);
}
