import assert from "node:assert/strict";

import magentoConfig from "../../src/nodes/magento-config";
import magentoOrderIn from "../../src/nodes/magento-order-in";
import statusExport from "../../src/nodes/status-export";
import trytonConfig from "../../src/nodes/tryton-config";
import trytonSaleOut from "../../src/nodes/tryton-sale-out";
import { defaultIntegration, startMagentoSimulator, type MagentoSimulator } from "../../src/sandbox/magento";
import { startTrytonSimulator, type TrytonSimulator } from "../../src/sandbox/tryton";
import type { StatusCursor, StatusResult } from "../../src/sync/status-export";
import type { SyncResult } from "../../src/sync/result";
import { TrytonClient } from "../../src/tryton/rpc";
import { SaleImporter } from "../../src/tryton/sale-import";
import { Collector, everythingShown, helper, sleep } from "../support/node-red";
import { waitUntil } from "../support/wait";
import { fixtureOrder, placeOrder, TrytonDesk, writes } from "../support/status-export";

const trytonPassword = "status-node-Secret-4";
const PREFIX = "MAG-";
const trytonWrites = /^model\.[\w.]+\.(create|write|delete|copy|quote|confirm|process|cancel|draft)$/;

type NodeDef = { id: string; type: string } & Record<string, unknown>;

function flow(magento: MagentoSimulator, tryton: TrytonSimulator, exp: Record<string, unknown> = {}) {
  const onTab = (nodes: NodeDef[]) => nodes.map((n) => ({ z: "tab", ...n }));
  return [
    { id: "tab", type: "tab", label: "status export" },
    {
      id: "shop",
      type: "magento-config",
      baseUrl: magento.url,
      storeCode: "default",
      authMode: "bearer",
      timeout: 5,
      pageSize: 50,
      rejectUnauthorized: true,
      ca: "",
    },
    {
      id: "erp",
      type: "tryton-config",
      url: tryton.url,
      database: tryton.database,
      language: "en",
      company: "",
      timeout: 30,
    },
    ...onTab([
      {
        id: "pull",
        type: "magento-order-in",
        magento: "shop",
        autoSync: false,
        interval: 1,
        intervalUnit: "h",
        wires: [["import"], []],
      },
      {
        id: "import",
        type: "tryton-sale-out",
        tryton: "erp",
        shippingProduct: "SHIPPING",
        discountProduct: "DISCOUNT",
        taxMap: "",
        bundle: "parent",
        referencePrefix: PREFIX,
        timeZone: "UTC",
        stateMap: "",
        mismatch: "hold",
        accountCategory: "",
        productType: "auto",
        wires: [["imported"], []],
      },
      { id: "imported", type: "helper" },
      {
        id: "exporter",
        type: "status-export",
        tryton: "erp",
        magento: "shop",
        referencePrefix: PREFIX,
        cancel: true,
        ship: true,
        invoice: "off",
        comment: true,
        notify: false,
        carrierCode: "custom",
        carrierTitle: "Tracking number",
        autoSync: false,
        interval: 1,
        intervalUnit: "h",
        ...exp,
        wires: [["results"], ["failures"]],
      },
      { id: "results", type: "helper" },
      { id: "failures", type: "helper" },
      // One complete/catch/status node each: the test helper loads a core node's module once per node.
      { id: "done", type: "complete", scope: ["import", "exporter"], wires: [["completed"]] },
      { id: "completed", type: "helper" },
      { id: "catcher", type: "catch", scope: ["exporter"], wires: [["caught"]] },
      { id: "caught", type: "helper" },
      { id: "stat", type: "status", scope: ["exporter"], wires: [["statuses"]] },
      { id: "statuses", type: "helper" },
    ]),
  ];
}

async function load(
  magento: MagentoSimulator,
  tryton: TrytonSimulator,
  exp?: Record<string, unknown>,
  token = defaultIntegration.accessToken,
) {
  await helper.load(
    [magentoConfig, trytonConfig, magentoOrderIn, trytonSaleOut, statusExport],
    flow(magento, tryton, exp),
    {
      shop: { token },
      erp: { username: "admin", password: trytonPassword },
    },
  );
  return {
    imported: new Collector("imported"),
    results: new Collector("results"),
    failures: new Collector("failures"),
    completed: new Collector("completed"),
    caught: new Collector("caught"),
    statuses: new Collector("statuses"),
  };
}

type Collectors = Awaited<ReturnType<typeof load>>;

/** Sends a message to status-export and waits until it is done with it (done or error). */
const finished = (c: Collectors, topic: string) =>
  c.completed.messages.filter((m) => m.topic === topic).length + c.caught.messages.length;

async function exportNow(c: Collectors, payload: unknown = "") {
  const before = finished(c, "export");
  helper.getNode("exporter").receive({ payload, topic: "export" } as never);
  await waitUntil("the export", () => finished(c, "export") > before);
}

/** Pulls from Magento into Tryton through magento-order-in → tryton-sale-out; resolves with the import results. */
async function pullAndImport(c: Collectors): Promise<SyncResult[]> {
  const before = finished(c, "pull");
  helper.getNode("pull").receive({ payload: "", topic: "pull" } as never);
  await waitUntil("the import", () => finished(c, "pull") > before);
  return c.imported.messages.at(-1)!.payload as SyncResult[];
}

const exported = (c: Collectors) => c.results.messages.flatMap((m) => m.payload as StatusResult[]);
const lastStatus = (c: Collectors) => {
  const { fill, text } = c.statuses.messages.at(-1)!.status as { text: string; fill: string };
  return { fill, text };
};

describe("status-export node", function () {
  let magento: MagentoSimulator;
  let tryton: TrytonSimulator;
  let desk: TrytonDesk;
  let client: TrytonClient;

  beforeEach(async () => {
    magento = await startMagentoSimulator({ orders: 0 });
    tryton = await startTrytonSimulator({ password: trytonPassword });
    client = new TrytonClient({
      url: tryton.url,
      database: tryton.database,
      username: "admin",
      password: trytonPassword,
      retry: false,
    });
    desk = new TrytonDesk(client);
  });
  afterEach(async () => {
    await helper.unload();
    await client.logout();
    await magento.stop();
    await tryton.stop();
  });

  it("ships a Tryton shipment to Magento on input, and the next pull imports nothing: no sync loop", async () => {
    const c = await load(magento, tryton);
    const raw = placeOrder(magento, fixtureOrder(101, "processing"));
    const first = await pullAndImport(c);
    assert.deepEqual(
      first.map((r) => [r.orderId, r.action]),
      [[101, "created"]],
    );
    const [shipment] = await desk.openShipments(first[0]!.targetId as number);
    await desk.ship(shipment!, "1Z-NODE-1");
    await sleep(1100); // Magento's updated_at has one-second resolution

    await exportNow(c);
    const [result] = exported(c);
    assert.equal(result!.orderId, raw.entity_id);
    assert.deepEqual(
      [result!.action, result!.sent, result!.target],
      ["updated", ["comment", "ship"], "magento"],
    );
    assert.equal(c.results.messages[0]!.topic, "export", "the input message travels on");
    assert.equal(c.failures.messages.length, 0);
    assert.deepEqual(lastStatus(c), { fill: "green", text: "1 upd" });
    const shipped = [...magento.shipments.values()].filter((s) => s.order_id === raw.entity_id);
    assert.deepEqual(
      shipped.map((s) => s.tracks.map((t) => t.track_number)),
      [["1Z-NODE-1"]],
    );

    const before = { ...tryton.counters };
    const again = await pullAndImport(c);
    assert.deepEqual(
      again.map((r) => [r.orderId, r.action]),
      [[101, "unchanged"]],
      "the comment and the shipment bumped updated_at; the importer sees nothing to do",
    );
    const written = Object.keys(tryton.counters).filter(
      (m) => trytonWrites.test(m) && tryton.counters[m] !== before[m],
    );
    assert.deepEqual(written, [], "no Tryton write");

    magento.resetCounters();
    await exportNow(c);
    assert.equal(c.results.messages.length, 1, "nothing new: no message");
    assert.deepEqual(writes(magento), {});
    assert.deepEqual(lastStatus(c), { fill: "green", text: "nothing new" });
  });

  it("keeps its cursor in the node context; payload.reset looks at every sale again and finds Magento up to date", async () => {
    const c = await load(magento, tryton, { comment: false });
    placeOrder(magento, fixtureOrder(102, "new"));
    const [imported] = await pullAndImport(c);
    await desk.cancel(imported!.targetId as number);
    await exportNow(c);
    assert.deepEqual(
      exported(c).map((r) => [r.action, r.sent, r.state]),
      [["updated", ["cancel"], "canceled"]],
    );
    const cursor = helper.getNode("exporter").context().get("statusCursor") as StatusCursor;
    assert.match(cursor.since!, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}$/);

    magento.resetCounters();
    await exportNow(c, { reset: true });
    assert.deepEqual(
      exported(c)
        .slice(1)
        .map((r) => [r.action, r.sent]),
      [["unchanged", []]],
    );
    assert.deepEqual(writes(magento), {});
    await exportNow(c, { orderIds: [102] });
    assert.deepEqual(exported(c).at(-1)!.action, "unchanged", "manual export of a chosen order");
  });

  it("sends a refused cancel to output 2 as a conflict, status yellow", async () => {
    const c = await load(magento, tryton);
    placeOrder(magento, fixtureOrder(103, "new"));
    const [imported] = await pullAndImport(c);
    await desk.cancel(imported!.targetId as number);
    magento.touchOrder(103, { state: "holded", status: "holded" });
    await exportNow(c);
    const failures = c.failures.messages.flatMap((m) => m.payload as StatusResult[]);
    assert.deepEqual(
      failures.map((f) => [f.orderId, f.action, f.error?.code]),
      [[103, "failed", "conflict"]],
    );
    assert.match(failures[0]!.error!.message, /refused to cancel/);
    assert.equal(lastStatus(c).fill, "yellow");
    assert.equal(c.caught.messages.length, 0, "a refused order is not a failed run");
  });

  it("reports a run Magento refuses as a whole with done(err): catch node, red status, no secret shown", async () => {
    const token = "wrong-token-status-export-123";
    const c = await load(magento, tryton, {}, token);
    placeOrder(magento, fixtureOrder(104, "new"));
    const importer = new SaleImporter(client, { referencePrefix: PREFIX });
    const { results } = await importer.importOrders([structuredClone(magento.orders.get(104))]);
    await desk.cancel(results[0]!.targetId as number);
    await exportNow(c);
    assert.equal(c.caught.messages.length, 1);
    const error = c.caught.messages[0]!.error as { message: string };
    assert.match(error.message, /HTTP 401/);
    assert.equal(lastStatus(c).fill, "red");
    assert.equal(c.results.messages.length, 0);
    assert.equal(helper.getNode("exporter").context().get("statusCursor"), undefined, "cursor not moved");
    const shown = everythingShown([c.results, c.failures, c.caught, c.statuses]);
    assert.doesNotMatch(shown, new RegExp(token));
    assert.doesNotMatch(shown, new RegExp(trytonPassword));
  });

  it("exports on its own timer when automatic export is on", async () => {
    placeOrder(magento, fixtureOrder(105, "new"));
    const importer = new SaleImporter(client, { referencePrefix: PREFIX });
    const { results } = await importer.importOrders([structuredClone(magento.orders.get(105))]);
    await desk.cancel(results[0]!.targetId as number);
    const c = await load(magento, tryton, { autoSync: true, interval: 1, intervalUnit: "h" });
    await c.results.count(1);
    assert.deepEqual(
      exported(c).map((r) => [r.orderId, r.sent]),
      [[105, ["comment", "cancel"]]],
    );
    assert.equal(magento.orders.get(105)!.state, "canceled");
  });

  it("says what is missing when a configuration node is not set", async () => {
    const alone: NodeDef[] = [
      { id: "tab", type: "tab", label: "t" },
      { id: "alone", z: "tab", type: "status-export", tryton: "", magento: "", wires: [[], []] },
      { id: "catcher", z: "tab", type: "catch", scope: ["alone"], wires: [["caught"]] },
      { id: "caught", z: "tab", type: "helper" },
    ];
    await helper.load([statusExport], alone);
    const caught = new Collector("caught");
    helper.getNode("alone").receive({ payload: "" } as never);
    await caught.count(1);
    assert.match(
      (caught.messages[0]!.error as { message: string }).message,
      /choose a complete Tryton configuration/,
    );
  });
});
