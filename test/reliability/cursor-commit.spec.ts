/**
 * What makes crash-and-resume lose nothing: `magento-order-in` stores its cursor in the node
 * context only past pages the flow is done with. A writer that holds on to its pages (as
 * tryton-sale-out does while Tryton works) keeps the stored cursor behind them; pages done out
 * of order never move it back; the pull itself goes on from the last page sent.
 */
import assert from "node:assert/strict";
import { hooks } from "@node-red/util";
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from "node-red";
import magentoConfig from "../../src/nodes/magento-config";
import magentoOrderIn from "../../src/nodes/magento-order-in";
import { queuedError } from "../../src/nodes/shared/flow-completion";
import type { OrderCursor } from "../../src/magento/search";
import { defaultIntegration, startMagentoSimulator, type MagentoSimulator } from "../../src/sandbox/magento";
import { helper } from "../support/node-red";
import { waitUntil } from "../support/wait";

interface Held {
  msg: NodeMessageInFlow & { magento?: { cursor: OrderCursor; page: number } };
  done: (err?: Error) => void;
}
const held: Held[] = [];

/** A writer that finishes a page only when the test says so. */
function heldWriter(RED: NodeAPI): void {
  RED.nodes.registerType("held-writer", function (this: Node, def: NodeDef) {
    RED.nodes.createNode(this, def);
    this.on("input", (msg, _send, done) => held.push({ msg: msg as Held["msg"], done }));
  });
}

/**
 * The test helper's RED lacks `hooks` (a real runtime has them: RED.hooks = @node-red/util hooks,
 * which its flows trigger); give the node the runtime's own.
 */
function withRuntimeHooks(register: (RED: NodeAPI) => void) {
  return (RED: NodeAPI) => {
    (RED as unknown as { hooks: unknown }).hooks ??= hooks;
    register(RED);
  };
}

/** Waits until `check` passes (the shared wait's cap); its last failure names what is wrong. */
async function eventually(check: () => void): Promise<void> {
  let last: unknown;
  await waitUntil(
    "the stored cursor",
    () => {
      try {
        check();
        return true;
      } catch (err) {
        last = err;
        return false;
      }
    },
    { detail: () => String(last) },
  );
}

/** magento-order-in (page size 10, no polling) on the shop at `url`, into the held writer. */
function loadIntake(url: string): Promise<void> {
  return helper.load(
    [magentoConfig, withRuntimeHooks(magentoOrderIn), heldWriter],
    [
      { id: "tab", type: "tab", label: "cursor" },
      {
        id: "cfg",
        type: "magento-config",
        baseUrl: url,
        storeCode: "default",
        authMode: "bearer",
        timeout: 5,
        pageSize: 10,
        rejectUnauthorized: true,
        ca: "",
      },
      {
        id: "intake",
        type: "magento-order-in",
        z: "tab",
        magento: "cfg",
        autoSync: false,
        interval: 1,
        intervalUnit: "h",
        wires: [["writer"], []],
      },
      { id: "writer", type: "held-writer", z: "tab", wires: [] },
    ] as never,
    { cfg: { token: defaultIntegration.accessToken } },
  );
}

const stored = () => helper.getNode("intake").context().get("magentoCursor") as OrderCursor | undefined;

/** Sends `msg` to the intake and waits until `pages` pages have reached the writer. */
async function pull(pages: number, msg: object = { payload: {} }): Promise<void> {
  const target = held.length + pages;
  helper.getNode("intake").receive(msg as never);
  await waitUntil(`${pages} page(s) in the writer`, () => held.length >= target, {
    detail: () => `${held.length - target + pages} arrived`,
  });
}

/**
 * A page's `done()` reaches the stored cursor through Node-RED's hooks, promise callbacks and the
 * memory store's synchronous callbacks, never a timer: one turn of the event loop later the cursor
 * is where it will stay, so "it did not move" can be checked then.
 */
const settle = () => new Promise<void>((r) => setImmediate(r));

describe("reliability: the stored cursor passes only pages the flow is done with", function () {
  let sim: MagentoSimulator;

  before(async () => {
    sim = await startMagentoSimulator({ orders: 30, seed: 3 });
  });
  after(async () => {
    await helper.unload();
    await sim.stop();
  });

  it("holds the cursor behind unfinished pages, never moves it back, and pulls on from the last page sent", async () => {
    await loadIntake(sim.url);
    await pull(3);
    assert.equal(held.length, 3, "three pages of ten");
    assert.equal(stored(), undefined, "nothing stored while every page is in the writer");

    held[0]!.done();
    await settle();
    assert.deepEqual(stored(), held[0]!.msg.magento!.cursor, "past page 1 once it is done");

    held[2]!.done();
    await settle();
    assert.deepEqual(
      stored(),
      held[0]!.msg.magento!.cursor,
      "page 3 done before page 2: still behind page 2",
    );

    held[1]!.done();
    await settle();
    assert.deepEqual(stored(), held[2]!.msg.magento!.cursor, "all done: past page 3");

    // Within this run, the next pull starts after the last page sent, even before the writer is done.
    sim.addOrder({});
    await pull(1);
    assert.equal(held.length, 4, "only the new order");
    assert.deepEqual(
      (held[3]!.msg.payload as Array<{ entity_id: number }>).map((o) => o.entity_id),
      [31],
    );
    assert.deepEqual(stored(), held[2]!.msg.magento!.cursor, "the new page is not done yet");
    held[3]!.done();
    await settle();
    assert.deepEqual(stored(), held[3]!.msg.magento!.cursor);

    // payload.reset forgets the cursor at once, and a page finishing later does not bring it back.
    sim.addOrder({});
    await pull(1);
    // From the start again: 32 orders, four pages of ten.
    await pull(4, { payload: { reset: true } });
    for (const h of held.slice(4)) h.done();
    await settle();
    const last = held.at(-1)!.msg.magento!.cursor;
    assert.deepEqual(stored(), last, "after the reset the full pull's own pages move it again");
  });
  it("holds the cursor before a page a node failed without queuing its orders, and pulls that page again", async () => {
    await helper.unload();
    held.splice(0);
    const shop = await startMagentoSimulator({ orders: 20, seed: 5 });
    try {
      await loadIntake(shop.url);
      await pull(2);
      assert.equal(held.length, 2, "two pages of ten");
      const ids = (h: Held) => (h.msg.payload as Array<{ entity_id: number }>).map((o) => o.entity_id);
      // Page 1 failed, but its orders are in the writer's sync queue: the cursor may pass it.
      held[0]!.done(queuedError(new Error("Salesforce is unavailable (orders queued)")));
      await eventually(() => assert.deepEqual(stored(), held[0]!.msg.magento!.cursor));
      // Page 2 failed and nobody kept its orders: the cursor stays before it.
      held[1]!.done(new Error("a function node threw"));
      await settle();
      assert.deepEqual(stored(), held[0]!.msg.magento!.cursor, "held before the failed page");
      await pull(1);
      assert.deepEqual(ids(held[2]!), ids(held[1]!), "the next pull starts at the failed page again");
      held[2]!.done();
      await eventually(() => assert.deepEqual(stored(), held[2]!.msg.magento!.cursor));
    } finally {
      await helper.unload();
      await shop.stop();
    }
  });
});
