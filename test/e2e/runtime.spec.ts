/**
 * The Node-RED runtime helper itself (src/sandbox/node-red-runtime.ts): a real Node-RED CLI,
 * flows of core nodes deployed through the admin API, crash and restart on the same userDir.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { startNodeRed, type NodeRedInstance } from "../../src/sandbox/node-red-runtime";
import { isAlive as alive } from "../../src/sandbox/processes";
import { Cleanup, ensureBuilt, tempDir } from "./support";
import { waitUntil } from "../support/wait";

async function get(nr: NodeRedInstance, route: string): Promise<{ status: number; text: string }> {
  const res = await fetch(nr.url + route, { headers: { "Node-RED-API-Version": "v2" } });
  return { status: res.status, text: await res.text() };
}

/** http-in /count → function (counter in global context) → http response; plus an http request node with credentials. */
const TAB = { id: "rt-tab", type: "tab", label: "runtime test" };
const coreFlows = [
  TAB,
  {
    id: "rt-in",
    type: "http in",
    z: TAB.id,
    url: "/count",
    method: "get",
    x: 120,
    y: 80,
    wires: [["rt-fn"]],
  },
  {
    id: "rt-fn",
    type: "function",
    z: TAB.id,
    func: "const n = (global.get('n') || 0) + 1;\nglobal.set('n', n);\nmsg.payload = String(n);\nreturn msg;",
    outputs: 1,
    x: 300,
    y: 80,
    wires: [["rt-out"]],
  },
  { id: "rt-out", type: "http response", z: TAB.id, x: 480, y: 80, wires: [] },
  {
    id: "rt-req",
    type: "http request",
    z: TAB.id,
    method: "GET",
    url: "http://127.0.0.1:9/unused",
    authType: "basic",
    ret: "txt",
    x: 300,
    y: 160,
    wires: [[]],
  },
];
const secret = "pa55-word-from-the-test";
const coreCredentials = { "rt-req": { user: "alice", password: secret } };

describe("e2e: Node-RED runtime helper", function () {
  this.timeout(5 * 60_000);
  let cleanup: Cleanup;

  beforeEach(() => {
    cleanup = new Cleanup();
  });
  afterEach(async () => {
    await cleanup.run();
  });

  it("starts on a free 127.0.0.1 port, deploys core flows that answer at once, stops and removes its temp userDir", async () => {
    const nr = await startNodeRed({ installPack: false });
    cleanup.add("stop Node-RED", () => nr.stop());
    assert.match(nr.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(nr.port > 0);
    assert.ok(alive(nr.pid));
    assert.equal((await get(nr, "/settings")).status, 200);

    await nr.deploy(coreFlows, coreCredentials);
    // deploy() resolves only once the new flows run: the route answers right away
    assert.deepEqual(await get(nr, "/count"), { status: 200, text: "1" });
    assert.ok(nr.logs().some((l) => l.includes("Started flows")));

    const settings = readFileSync(path.join(nr.userDir, "settings.js"), "utf8");
    assert.match(settings, /"uiHost": "127\.0\.0\.1"/);
    assert.match(settings, /"catalogues": \[\]/);

    const userDir = nr.userDir;
    await nr.stop();
    assert.equal(alive(nr.pid), false);
    assert.equal(existsSync(userDir), false, "temp userDir removed on stop");
  });

  it("after kill -9, a restart on the same userDir keeps flows, credentials and persistent context", async () => {
    const userDir = tempDir(cleanup);
    const first = await startNodeRed({
      userDir,
      installPack: false,
      persistentContext: true,
      flows: coreFlows,
      credentials: coreCredentials,
    });
    cleanup.add("stop first Node-RED", () => first.stop());
    assert.equal((await get(first, "/count")).text, "1");
    assert.equal((await get(first, "/count")).text, "2");
    assert.deepEqual(JSON.parse((await get(first, "/credentials/http-request/rt-req")).text), {
      user: "alice",
      has_password: true,
    });
    const stored = readFileSync(path.join(userDir, "flows_cred.json"), "utf8");
    assert.ok(!stored.includes(secret), "credentials are stored encrypted");
    // the localfilesystem store flushes every second here: wait until the file holds the count
    const contextFile = path.join(userDir, "context", "global", "global.json");
    await waitUntil("the global context flushed to disk", () => {
      try {
        return (JSON.parse(readFileSync(contextFile, "utf8")) as { n?: unknown }).n === 2;
      } catch {
        return false; // not written yet, or being written
      }
    });

    await first.kill9();
    assert.equal(alive(first.pid), false);
    assert.ok(existsSync(userDir), "kill9 keeps the userDir");

    const second = await startNodeRed({ userDir, installPack: false, persistentContext: true });
    cleanup.add("stop second Node-RED", () => second.stop());
    assert.notEqual(second.pid, first.pid);
    const flows = JSON.parse((await get(second, "/flows")).text) as { flows: Array<{ id: string }> };
    assert.deepEqual(flows.flows.map((n) => n.id).sort(), coreFlows.map((n) => n.id).sort());
    assert.deepEqual(JSON.parse((await get(second, "/credentials/http-request/rt-req")).text), {
      user: "alice",
      has_password: true,
    });
    assert.equal((await get(second, "/count")).text, "3", "global context survived the crash");
  });

  it("fails fast, with the log, when a flow uses a node type that is not installed", async () => {
    const lines: string[] = [];
    await assert.rejects(
      startNodeRed({
        installPack: false,
        log: (l) => lines.push(l),
        flows: [TAB, { id: "x1", type: "no-such-node-type", z: TAB.id, wires: [] }],
      }),
      (err: Error) => {
        // Failed on the log line, not on a timeout.
        assert.match(err.message, /missing node types/);
        assert.doesNotMatch(err.message, /timed out/);
        assert.match(err.message, /no-such-node-type/);
        return true;
      },
    );
    assert.ok(lines.some((l) => l.includes("Waiting for missing types")));
  });

  it("installs the built pack into the userDir so Node-RED loads its node types", async () => {
    ensureBuilt();
    const nr = await startNodeRed({});
    cleanup.add("stop Node-RED", () => nr.stop());
    const res = await fetch(nr.url + "/nodes", { headers: { Accept: "application/json" } });
    const sets = (await res.json()) as Array<{
      module: string;
      types: string[];
      enabled: boolean;
      err?: string;
    }>;
    const pack = sets.filter((s) => s.module === "@orderbridge/node-red-order-sync");
    assert.ok(pack.length > 0, "the pack's node sets are listed");
    for (const s of pack) assert.equal(s.err, undefined, `node set failed to load: ${s.err}`);
    const types = pack.flatMap((s) => s.types);
    assert.ok(types.includes("magento-config"), `types: ${types.join(", ")}`);
    assert.ok(types.includes("magento-order-in"), `types: ${types.join(", ")}`);
  });
});
