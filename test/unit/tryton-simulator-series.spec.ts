import assert from "node:assert/strict";

import { startTrytonSimulator, type TrytonSimulator } from "../../src/sandbox/tryton";

// The version switch of the simulator (src/sandbox/tryton/series.ts); the fidelity contract
// (test/contract/tryton-sim-fidelity.contract.ts) holds each series to its real server.
describe("Tryton simulator series and worker", function () {
  const started: TrytonSimulator[] = [];
  const start = async (options: Parameters<typeof startTrytonSimulator>[0]) => {
    const sim = await startTrytonSimulator({ password: "sim-series-Pw-5517", ...options });
    started.push(sim);
    return sim;
  };

  afterEach(async function () {
    await Promise.all(started.splice(0).map((s) => s.stop()));
  });

  /** A sale of the fixture mug, quoted and confirmed, through the in-process door. */
  const confirmSale = (sim: TrytonSimulator): number => {
    const f = sim.fixtures;
    const [id] = sim.db.call("sale.sale", "create", [
      [
        {
          party: f.customer.party,
          invoice_address: f.customer.address,
          shipment_address: f.customer.address,
          lines: [
            [
              "create",
              [{ product: f.products.sampleGoods.product, quantity: 1, unit: f.unit, unit_price: "5" }],
            ],
          ],
        },
      ],
    ]) as number[];
    sim.db.call("sale.sale", "quote", [[id]]);
    sim.db.call("sale.sale", "confirm", [[id]]);
    return id as number;
  };

  it("imitates 6.0 unless told otherwise, and says which series it runs", async function () {
    const six = await start({});
    const seven = await start({ series: "7.0" });
    assert.deepEqual([six.series, seven.series], ["6.0", "7.0"]);
    const version = async (sim: TrytonSimulator) => {
      const r = await fetch(`${sim.url}/`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ id: 1, method: "common.server.version", params: [] }),
      });
      return ((await r.json()) as { result: string }).result;
    };
    assert.deepEqual([await version(six), await version(seven)], ["6.0.29", "7.0.30"]);
  });

  it("refuses an unknown series", async function () {
    await assert.rejects(
      startTrytonSimulator({ series: "5.0" as "6.0" }),
      /unknown series 5\.0 \(known: 6\.0, 7\.0\)/,
    );
  });

  it("processes a confirmed sale inside the call without a worker", async function () {
    const sim = await start({ series: "7.0" });
    const id = confirmSale(sim);
    assert.equal(sim.db.get("sale.sale", id)?.state, "processing");
  });

  it("with a worker, leaves the sale confirmed and processes it after the call; settle waits for it", async function () {
    const sim = await start({ series: "7.0", worker: true, workerDelayMs: 20 });
    const id = confirmSale(sim);
    assert.equal(sim.db.get("sale.sale", id)?.state, "confirmed");
    await sim.settle();
    const row = sim.db.get("sale.sale", id);
    assert.deepEqual(
      [row?.state, row?.invoice_state, row?.shipment_state],
      ["processing", "pending", "waiting"],
    );
    await sim.settle(); // nothing queued: at once
  });

  it("drops the worker's pending tasks when stopped", async function () {
    const sim = await start({ series: "7.0", worker: true, workerDelayMs: 60_000 });
    const id = confirmSale(sim);
    const settled = sim.settle();
    await sim.stop();
    await settled;
    assert.equal(sim.db.get("sale.sale", id)?.state, "confirmed");
  });
});
