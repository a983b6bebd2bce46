import assert from "node:assert/strict";

import { MagentoClient } from "../../src/magento/client";
import { defaultIntegration, startMagentoSimulator, type MagentoSimulator } from "../../src/sandbox/magento";
import { startTrytonSimulator, type TrytonSimulator } from "../../src/sandbox/tryton";
import {
  StatusExporter,
  type ExportPage,
  type StatusExportOptions,
  type StatusResult,
} from "../../src/sync/status-export";
import { TrytonClient } from "../../src/tryton/rpc";
import { SaleImporter } from "../../src/tryton/sale-import";
import { StatusReader, stampMicros, stampText, trackingNumbers } from "../../src/tryton/status-reader";
import { fixtureOrder, memoryCursor, placeOrder, TrytonDesk, writes } from "../support/status-export";

const PREFIX = "SHOP1-";
const password = "status-unit-Secret-3";

describe("status exporter (simulators)", function () {
  let magento: MagentoSimulator;
  let tryton: TrytonSimulator;
  let client: TrytonClient;
  let shop: MagentoClient;
  let desk: TrytonDesk;
  let importer: SaleImporter;

  beforeEach(async () => {
    magento = await startMagentoSimulator({ orders: 0 });
    tryton = await startTrytonSimulator({ password });
    client = new TrytonClient({
      url: tryton.url,
      database: tryton.database,
      username: "admin",
      password,
      retry: false,
    });
    shop = new MagentoClient({
      baseUrl: magento.url,
      auth: { kind: "bearer", token: defaultIntegration.accessToken },
      retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
    });
    desk = new TrytonDesk(client);
    importer = new SaleImporter(client, { referencePrefix: PREFIX });
  });
  afterEach(async () => {
    shop.close();
    await client.logout();
    await magento.stop();
    await tryton.stop();
  });

  async function imported(entityId: number, state: "new" | "processing", teeQty = 1): Promise<number> {
    const raw = placeOrder(magento, fixtureOrder(entityId, state, teeQty));
    const { results, failures } = await importer.importOrders([raw]);
    assert.deepEqual(failures, []);
    return results[0]!.targetId as number;
  }

  async function run(
    exporter: StatusExporter,
    cursor = memoryCursor(),
    trigger = { kind: "incremental" as const },
  ) {
    const pages: ExportPage[] = [];
    const summary = await exporter.run(trigger, cursor, { onPage: (p) => void pages.push(p) });
    return { summary, pages, results: pages.flatMap((p) => p.results) };
  }

  const exporter = (options: Partial<StatusExportOptions> = {}) =>
    new StatusExporter(client, shop, { referencePrefix: PREFIX, ...options });

  it("reads the store's sales only: marker and reference prefix", async () => {
    const ours = await imported(11, "new");
    const other = new SaleImporter(client, { referencePrefix: "SHOP2-" });
    await other.importOrders([placeOrder(magento, fixtureOrder(12, "new"))]);
    const reader = new StatusReader(client, { referencePrefix: PREFIX, invoices: false });
    const { ids, highWater } = await reader.changedSince(null);
    assert.deepEqual(ids, [ours]);
    assert.ok(highWater !== null && highWater > 0);
    const [status] = await reader.read(ids);
    assert.deepEqual(
      [status!.orderId, status!.reference, status!.state],
      [11, `${PREFIX}700000011`, "quotation"],
    );
    assert.deepEqual(await reader.salesForOrders([11, 12]), [ours]);
  });

  it("exports in pages and moves the cursor to the latest Tryton change, not the local clock", async () => {
    const sales = [];
    for (const id of [21, 22, 23, 24, 25]) sales.push(await imported(id, "new"));
    for (const sale of sales) await desk.cancel(sale);
    const cursor = memoryCursor();
    const { pages, summary } = await run(exporter({ pageSize: 2 }), cursor);
    assert.deepEqual(
      pages.map((p) => p.results.map((r) => r.orderId)),
      [[21, 22], [23, 24], [25]],
    );
    assert.deepEqual([summary.updated, summary.failed], [5, 0]);
    const [latest] = await client.searchRead("sale.sale", [["id", "in", sales]], ["write_date"], {
      order: [["write_date", "DESC"]],
      limit: 1,
    });
    assert.equal(cursor.value!.since, stampText(stampMicros(latest!.write_date)!));
    assert.deepEqual(Object.keys(cursor.value!.exported).map(Number).sort(), [...sales].sort());
  });

  it("a sale seen again unchanged costs no Magento call; a new shipment makes it count again", async () => {
    const sale = await imported(31, "processing", 3);
    const [first] = await desk.openShipments(sale);
    await desk.ship(first!, "A-1", { "WS12-M-Orange": 1 });
    const cursor = memoryCursor();
    const exp = exporter();
    await run(exp, cursor);
    magento.resetCounters();
    const quiet = await run(exp, cursor);
    assert.deepEqual([quiet.results, magento.counters], [[], {}]);

    const [rest] = await desk.openShipments(sale);
    await desk.ship(rest!, "A-2");
    const next = await run(exp, cursor);
    assert.deepEqual(
      next.results.map((r) => [r.action, r.sent]),
      [["updated", ["ship"]]],
    );
    assert.equal(magento.orders.get(31)!.items.find((i) => i.item_id === 3)!.qty_shipped, 3);
  });

  it("tries a sale again on the next run after a passing Magento error (HTTP 503), even when Tryton did not change", async () => {
    const sale = await imported(41, "processing");
    const [shipment] = await desk.openShipments(sale);
    await desk.ship(shipment!, "B-1");
    const cursor = memoryCursor();
    magento.setFaults({ rate: 1, kinds: ["503"], routes: /ship$/ });
    const failed = await run(exporter(), cursor);
    assert.deepEqual(
      failed.results.map((r) => [r.action, r.error?.code]),
      [["failed", "http_503"]],
    );
    assert.deepEqual(cursor.value!.retry, [sale]);
    magento.setFaults(undefined);
    const retried = await run(exporter(), cursor);
    assert.deepEqual(
      retried.results.map((r) => [r.action, r.sent]),
      [["updated", ["ship"]]],
    );
    assert.deepEqual(cursor.value!.retry, []);
  });

  it("never repeats a write Magento may have done: a ship answered 500 is sent once; 503 (not done) is repeated", async () => {
    const retrying = new MagentoClient({
      baseUrl: magento.url,
      auth: { kind: "bearer", token: defaultIntegration.accessToken },
      retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 1 },
    });
    try {
      const sale = await imported(45, "processing");
      const [shipment] = await desk.openShipments(sale);
      await desk.ship(shipment!, "R-1");
      const exp = new StatusExporter(client, retrying, { referencePrefix: PREFIX });
      const cursor = memoryCursor();
      magento.setFaults({ rate: 1, kinds: ["500"], routes: /ship$/ });
      magento.resetCounters();
      const failed = await run(exp, cursor);
      assert.deepEqual(failed.results[0]!.error?.code, "http_500");
      assert.equal(magento.counters["POST /V1/order/:orderId/ship"], 1, "not repeated");
      magento.setFaults({ rate: 1, kinds: ["503"], routes: /ship$/, seed: 2 });
      magento.resetCounters();
      await run(exp, cursor);
      assert.equal(
        magento.counters["POST /V1/order/:orderId/ship"],
        3,
        "503: Magento did not act, so repeated",
      );
      magento.setFaults(undefined);
      const done = await run(exp, cursor);
      assert.deepEqual(
        done.results.map((r) => r.sent),
        [["ship"]],
      );
      assert.equal(magento.shipments.size, 1);
    } finally {
      retrying.close();
    }
  });

  it("writes nothing for a sale whose reference is not the Magento order's number, or whose order is gone", async () => {
    const moved = await imported(51, "new");
    const gone = await imported(52, "new");
    await desk.cancel(moved);
    await desk.cancel(gone);
    await client.write("sale.sale", [moved], { reference: `${PREFIX}999` });
    magento.orders.delete(52);
    magento.resetCounters();
    const { results } = await run(exporter());
    assert.deepEqual(
      results.map((r: StatusResult) => [r.orderId, r.action, r.error?.code]),
      [
        [51, "failed", "mismatch"],
        [52, "failed", "not_found"],
      ],
    );
    assert.match(results[0]!.error!.message, /reference "SHOP1-999", but Magento order #700000051/);
    assert.deepEqual(writes(magento), {});
  });

  it("fails the whole run when Magento cannot be reached, without moving the cursor", async () => {
    const sale = await imported(61, "new");
    await desk.cancel(sale);
    const cursor = memoryCursor();
    await magento.stop();
    await assert.rejects(run(exporter(), cursor), /Magento GET \/V1\/orders failed/);
    assert.equal(cursor.value, null);
  });

  it("honours the switches: nothing for shipments when shipping is off", async () => {
    const sale = await imported(71, "processing");
    const [shipment] = await desk.openShipments(sale);
    await desk.ship(shipment!, "C-1");
    magento.resetCounters();
    const { results } = await run(exporter({ ship: false }));
    assert.deepEqual(
      results.map((r) => [r.action, r.sent]),
      [["unchanged", []]],
    );
    assert.deepEqual(writes(magento), {});
  });

  it("splits tracking references on commas, semicolons and new lines", () => {
    assert.deepEqual(trackingNumbers(" 1Z1, 1Z2;1Z3\n1Z4 "), ["1Z1", "1Z2", "1Z3", "1Z4"]);
    assert.deepEqual(trackingNumbers(null), []);
    assert.equal(stampText(stampMicros("2024-05-01T10:00:00.5Z")!), "2024-05-01 10:00:00.500000");
  });
});
