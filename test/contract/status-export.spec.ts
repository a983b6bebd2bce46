/**
 * Tryton status back to Magento, against the real Tryton 6.0 and the Tryton simulator (same
 * tests), with the Magento simulator: orders imported by the sale importer, then cancelled,
 * shipped (whole, partial, with tracking) or invoiced in Tryton, reach Magento after one
 * export; an export run again sends nothing; and the comment the export writes does not
 * make the next pull import anything.
 *
 * Each test has its own reference prefix (the "store") and its own Magento entity ids, so
 * tests share the servers without seeing each other's sales.
 */
import assert from "node:assert/strict";

import { MagentoClient } from "../../src/magento/client";
import { runPull } from "../../src/magento/intake";
import type { OrderCursor } from "../../src/magento/search";
import { defaultIntegration, startMagentoSimulator, type MagentoSimulator } from "../../src/sandbox/magento";
import {
  StatusExporter,
  type ExportSummary,
  type StatusExportOptions,
  type StatusResult,
} from "../../src/sync/status-export";
import type { TrytonClient } from "../../src/tryton/rpc";
import { SaleImporter } from "../../src/tryton/sale-import";
import {
  fixtureOrder,
  memoryCursor,
  placeOrder,
  TrytonDesk,
  writes,
  type RawOrder,
} from "../support/status-export";
import { describeOnEveryTryton, type ContractContext } from "./harness";

const writeMethods = /\.(create|write|delete|copy|quote|confirm|process|cancel|draft)$/;

function statusContract(ctx: ContractContext): void {
  let magento: MagentoSimulator;
  let shop: MagentoClient;
  let tryton: TrytonClient;
  let desk: TrytonDesk;
  let nextId = 0;
  let started = 0;

  before(async function () {
    started = Date.now();
    magento = await startMagentoSimulator({ orders: 0 });
    shop = new MagentoClient({
      baseUrl: magento.url,
      auth: { kind: "bearer", token: defaultIntegration.accessToken },
      timeoutMs: 10_000,
    });
    tryton = ctx.client();
    desk = new TrytonDesk(tryton, () => ctx.server.settle?.() ?? Promise.resolve());
    nextId = 930_000_000 + (ctx.server.kind === "real" ? 0 : 500_000) + (Date.now() % 100_000) * 10;
  });
  after(async () => {
    shop?.close();
    await magento?.stop();
    console.log(`      [${ctx.server.kind}] status export suite: ${Date.now() - started} ms`);
  });

  /** A store of its own: a reference prefix, an importer and an exporter for it. */
  function store(options: Partial<StatusExportOptions> = {}) {
    const prefix = `${ctx.unique("SE")}-`;
    const importer = new SaleImporter(tryton, { referencePrefix: prefix, timeZone: "UTC" });
    const exporter = new StatusExporter(tryton, shop, { referencePrefix: prefix, ...options });
    const cursor = memoryCursor();
    return {
      prefix,
      cursor,
      exporter,
      /** Places orders in Magento and imports them as the tryton-sale-out node would (from GET /V1/orders/:id). */
      async imported(...raws: RawOrder[]): Promise<number[]> {
        const pulled = [];
        for (const raw of raws) {
          placeOrder(magento, raw);
          pulled.push(await shop.getOrder(raw.entity_id));
        }
        const { results, failures } = await importer.importOrders(pulled);
        assert.deepEqual(failures, []);
        return results.map((r) => r.targetId as number);
      },
      async export(): Promise<{ summary: ExportSummary; results: StatusResult[] }> {
        const results: StatusResult[] = [];
        const summary = await exporter.run({ kind: "incremental" }, cursor, {
          onPage: (page) => void results.push(...page.results),
        });
        return { summary, results };
      },
    };
  }

  const order = (state: "new" | "processing", teeQty = 1) => fixtureOrder((nextId += 1), state, teeQty);
  const inMagento = (raw: RawOrder) => magento.orders.get(raw.entity_id)!;
  const shipmentsOf = (raw: RawOrder) =>
    [...magento.shipments.values()].filter((s) => s.order_id === raw.entity_id);
  const shipped = (raw: RawOrder) =>
    Object.fromEntries(inMagento(raw).items.map((i) => [i.item_id, i.qty_shipped ?? 0]));

  it("an order imported, then cancelled in Tryton, is canceled in Magento after one export; the next export sends nothing", async function () {
    const s = store();
    const raw = order("new");
    const [saleId] = await s.imported(raw);
    await desk.cancel(saleId!);

    magento.resetCounters();
    const first = await s.export();
    assert.deepEqual(
      first.results.map((r) => [r.orderId, r.action, r.sent, r.state, r.error]),
      [[raw.entity_id, "updated", ["cancel"], "canceled", undefined]],
    );
    assert.equal(inMagento(raw).state, "canceled");
    assert.deepEqual(writes(magento), { "POST /V1/orders/:id/cancel": 1 });

    magento.resetCounters();
    const again = await s.export();
    assert.deepEqual(magento.counters, {}, "no Magento call at all");
    assert.deepEqual([again.results, again.summary.updated], [[], 0]);

    // Idempotent by key, not by memory: a run without any cursor finds Magento has it already.
    const fresh = await s.exporter.run({ kind: "reset" }, memoryCursor());
    assert.deepEqual([fresh.updated, fresh.unchanged, fresh.failed], [0, 1, 0]);
    assert.deepEqual(writes(magento), {}, "nothing written without a cursor either");
  });

  it("Magento refusing the cancel (false) is a conflict, not a success", async function () {
    const s = store();
    const raw = order("new");
    const [saleId] = await s.imported(raw);
    await desk.cancel(saleId!);
    magento.touchOrder(raw.entity_id, { state: "holded", status: "holded" });
    const { results, summary } = await s.export();
    assert.equal(summary.failed, 1);
    assert.deepEqual([results[0]!.action, results[0]!.error?.code], ["failed", "conflict"]);
    assert.match(
      results[0]!.error!.message,
      /Magento order #7\d+: Magento refused to cancel the order for Tryton sale/,
    );
    assert.equal(inMagento(raw).state, "holded");
  });

  it("a confirmed order whose shipment is done with a tracking reference is shipped in Magento: items and tracking", async function () {
    const s = store();
    const raw = order("processing");
    const [saleId] = await s.imported(raw);
    const [shipment] = await desk.openShipments(saleId!);
    await desk.ship(shipment!, "1Z999AA10123456784");

    magento.resetCounters();
    const { results } = await s.export();
    assert.deepEqual(
      results.map((r) => [r.action, r.sent, r.error]),
      [["updated", ["ship"], undefined]],
    );
    const [doc, ...more] = shipmentsOf(raw);
    assert.deepEqual(more, []);
    assert.deepEqual(
      doc!.items.map((i) => [i.order_item_id, i.qty]),
      [
        [3, 1],
        [5, 1],
        [10, 1],
      ],
      "simple, bundle by its parent, configurable by its parent; the download is not shipped",
    );
    assert.deepEqual(
      doc!.tracks.map((t) => [t.track_number, t.carrier_code, t.title]),
      [["1Z999AA10123456784", "custom", "Tracking number"]],
    );
    assert.deepEqual(shipped(raw), { 3: 1, 4: 0, 5: 1, 6: 1, 7: 1, 8: 1, 9: 1, 10: 1, 11: 1 });
    assert.deepEqual(writes(magento), { "POST /V1/order/:orderId/ship": 1 });

    magento.resetCounters();
    await s.export();
    assert.deepEqual(magento.counters, {}, "run again: nothing sent");
  });

  it("partial shipments ship only what was shipped, each with its own tracking number", async function () {
    const s = store();
    const raw = order("processing", 3);
    const [saleId] = await s.imported(raw);
    const [first] = await desk.openShipments(saleId!);
    await desk.ship(first!, "TRACK-A", { "WS12-M-Orange": 1 });

    await s.export();
    assert.deepEqual(shipped(raw)[3], 1, "1 of 3 tees");
    assert.equal(inMagento(raw).state, "processing");

    const [backorder, ...others] = await desk.openShipments(saleId!);
    assert.ok(backorder, "Tryton made a backorder for the 2 tees left");
    assert.deepEqual(others, []);
    await desk.ship(backorder, "TRACK-B");
    magento.resetCounters();
    const { results } = await s.export();
    assert.deepEqual(
      results.map((r) => [r.action, r.sent]),
      [["updated", ["ship"]]],
    );
    assert.deepEqual(
      shipmentsOf(raw).map((d) => [
        d.items.map((i) => [i.order_item_id, i.qty]),
        d.tracks.map((t) => t.track_number),
      ]),
      [
        [
          [
            [3, 1],
            [5, 1],
            [10, 1],
          ],
          ["TRACK-A"],
        ],
        [[[3, 2]], ["TRACK-B"]],
      ],
    );
    assert.deepEqual(shipped(raw), { 3: 3, 4: 0, 5: 1, 6: 1, 7: 1, 8: 1, 9: 1, 10: 1, 11: 1 });
    assert.deepEqual(writes(magento), { "POST /V1/order/:orderId/ship": 1 });
  });

  it("a posted invoice becomes a Magento invoice (offline capture) when switched on, once", async function () {
    const s = store({ invoice: "offline" });
    const raw = order("processing");
    const [saleId] = await s.imported(raw);
    await desk.postInvoices(saleId!);
    const { results } = await s.export();
    assert.deepEqual(
      results.map((r) => [r.action, r.sent, r.error]),
      [["updated", ["invoice"], undefined]],
    );
    const invoices = [...magento.invoices.values()].filter((i) => i.order_id === raw.entity_id);
    assert.equal(invoices.length, 1);
    assert.deepEqual(
      invoices[0]!.items.map((i) => [i.order_item_id, i.qty]),
      [
        [3, 1],
        [4, 1],
        [5, 1],
        [10, 1],
      ],
    );
    assert.equal(inMagento(raw).total_invoiced, raw.grand_total);
    magento.resetCounters();
    const again = await s.exporter.run({ kind: "reset" }, memoryCursor());
    assert.deepEqual([again.updated, again.unchanged], [0, 1]);
    assert.deepEqual(writes(magento), {});
  });

  it("no sync loop: after the export's comment, the next pull imports nothing", async function () {
    const s = store({ comment: true });
    const importer = new SaleImporter(tryton, { referencePrefix: s.prefix, timeZone: "UTC" });
    const raw = order("processing");
    const [saleId] = await s.imported(raw);
    const [shipment] = await desk.openShipments(saleId!);
    await desk.ship(shipment!, "1Z-LOOP");
    const before = inMagento(raw).updated_at;
    let pulled: OrderCursor | null = { updatedAt: before, entityId: raw.entity_id };

    // Magento's clock has one-second resolution: let the comment land in a later second.
    await new Promise((r) => setTimeout(r, 1100));
    const { results } = await s.export();
    assert.deepEqual(results[0]!.sent, ["comment", "ship"]);
    const history = inMagento(raw).status_histories.map((h) => h.comment);
    assert.ok(
      history.some((c) => /^Tryton sale \d+ \(reference SE-/.test(String(c))),
      "comment names the sale",
    );
    assert.ok(inMagento(raw).updated_at > before, "the comment bumped updated_at");

    const seen: string[] = [];
    tryton.http.interceptors.request.use((config) => {
      seen.push((JSON.parse(String(config.data)) as { method: string }).method);
      return config;
    });
    const again: unknown[] = [];
    await runPull(
      shop,
      { kind: "incremental" },
      {
        load: async () => pulled,
        save: async (c) => {
          pulled = c;
        },
      },
      { pageSize: 50, onPage: (page) => void again.push(...page.orders) },
    );
    assert.ok(
      again.some((o) => (o as { entity_id: number }).entity_id === raw.entity_id),
      "the pull sees the order again",
    );
    const { results: imported } = await importer.importOrders(
      again.filter((o) => (o as RawOrder).entity_id === raw.entity_id),
    );
    assert.deepEqual(
      imported.map((r) => [r.action, r.error]),
      [["unchanged", undefined]],
    );
    assert.deepEqual(
      seen.filter((m) => writeMethods.test(m)),
      [],
      "no Tryton write",
    );
  });
}

describe("Status export contract", function () {
  describeOnEveryTryton("status export", statusContract, { password: "status-export-Sim-9" });
});
