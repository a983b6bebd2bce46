/**
 * `npm run bench` is not part of the test command, but its interface is: the options, and the
 * keys of the JSON object `--json` prints last (issue 8), checked on a tiny CPU run and a
 * result of every scenario.
 */
import assert from "node:assert/strict";
import { fullSizes, parseArgs, quickSizes } from "../../bench/args";
import { benchCpu } from "../../bench/cpu";
import { jsonOf, targetsTable, trytonComparison, type BenchResults } from "../../bench/report";
import { gcProfile, type MemoryBenchResult } from "../../bench/memory";
import type { SalesforceBenchResult } from "../../bench/salesforce";
import type { TrytonBenchResult } from "../../bench/tryton";

const machine = {
  date: "2026-01-01T00:00:00Z",
  node: "v20",
  nodeRed: "4.1.8",
  os: "Linux",
  cpus: "2 × test",
  memoryGb: 24,
  loadAverage: [0, 0, 0],
};

const run = {
  orders: 10,
  failed: 0,
  seconds: 1,
  ordersPerSecond: 10,
  apiCalls: 1,
  callsPerOrder: 0.1,
  routes: {},
};
const salesforce = {
  orders: 10,
  itemsPerOrder: 2,
  orderItemsPerOrder: 3,
  latencyMs: 50,
  pageSize: 200,
  pack: {
    ...run,
    steadyCallsPerOrder: 0.02,
    firstPageCalls: 6,
    floor: { recordsPerPage: 1140, callsPerOrder: 0.015 },
  },
  packNotesOff: {
    ...run,
    steadyCallsPerOrder: 0.01,
    firstPageCalls: 5,
    floor: { recordsPerPage: 876, callsPerOrder: 0.01 },
  },
  naive: { ...run, steadyOrdersPerSecond: 2, steadyCallsPerOrder: 10 },
  callsPerOrder: 0.02,
  speedupVsNaive: 150,
  ordersPerSecond: 300,
} satisfies SalesforceBenchResult;

const figures = {
  orders: 10,
  sales: 9,
  failed: 0,
  seconds: 1,
  ordersPerSecond: 10,
  salesPerSecond: 9,
  calls: 2,
  callsPerOrder: 0.2,
  settleSeconds: 0,
  profile: [],
  server: { cpu: {} },
};
const ceiling = {
  sales: 9,
  seconds: 0.5,
  salesPerSecond: 18,
  calls: 1,
  settleSeconds: 0,
  server: { cpu: {} },
};
const tryton = {
  flavour: "6.0-sqlite",
  worker: false,
  workerPool: null,
  concurrency: 1,
  altConcurrency: [],
  orders: 10,
  linesPerOrder: 3,
  itemsPerOrder: 2,
  pack: { ...figures, steadyCallsPerOrder: 0.18 },
  naive: figures,
  packImport: { ...figures, steadyCallsPerOrder: 0.07 },
  naiveImport: { ...figures, ordersPerSecond: 1 },
  ceiling,
  workflowCeiling: ceiling,
  speedupBoundByConfirm: 4,
  speedupVsNaive: 10,
  speedupVsNaiveWorkflow: 3,
  ratioToBatchCeiling: 0.6,
  ratioToWorkflowCeiling: 0.9,
  callsPerOrder: 0.18,
} satisfies TrytonBenchResult;

const memoryRun = {
  orders: 10,
  synced: 10,
  seconds: 1,
  ordersPerSecond: 10,
  peakRssMb: 200,
  idleRssMb: 120,
  rssAt: {},
  stalled: false,
  gc: { fullGcs: 4, liveMb: 57.7, beforeGcMb: 217.6, committedMb: 251.9 },
};
const memory = {
  latencyMs: 50,
  pageSize: 200,
  runs: [memoryRun, { ...memoryRun, orders: 100, peakRssMb: 210 }],
  peakRssMb10k: 200,
  peakRssMb100k: 210,
  growth: 1.05,
} satisfies MemoryBenchResult;

describe("npm run bench: interface", function () {
  it("reads --quick, --json and --only, and refuses what it does not know", () => {
    assert.deepEqual(parseArgs([]), {
      quick: false,
      json: false,
      only: ["cpu", "tryton", "salesforce", "memory"],
      trytonFlavours: ["6.0-sqlite", "7.0-postgresql"],
      parallelTryton: false,
      sizes: fullSizes,
    });
    const quick = parseArgs(["--quick", "--json", "--only", "cpu,memory"]);
    assert.equal(quick.quick, true);
    assert.equal(quick.json, true);
    assert.deepEqual(quick.only, ["cpu", "memory"]);
    assert.equal(quick.sizes, quickSizes);
    assert.deepEqual(parseArgs(["--only=tryton"]).only, ["tryton"]);
    assert.throws(() => parseArgs(["--only", "disk"]), /--only takes/);
    assert.deepEqual(parseArgs(["--tryton", "7.0-postgresql"]).trytonFlavours, ["7.0-postgresql"]);
    assert.throws(() => parseArgs(["--tryton", "7.0-sqlite"]), /--tryton takes/);
    assert.throws(() => parseArgs(["--fast"]), /unknown option "--fast"/);
  });

  it("the full run uses the issue's sizes: 10,000 Salesforce orders, 1,000 Tryton orders, 10k and 100k streamed", () => {
    assert.equal(fullSizes.salesforceOrders, 10_000);
    assert.equal(fullSizes.trytonOrders, 1000);
    assert.deepEqual(fullSizes.memoryOrders, [10_000, 100_000]);
  });

  it("the JSON object has every key the issue names, and the table marks what is met", () => {
    const cpu = benchCpu(20, 1);
    assert.ok(cpu.microsPerOrder > 0);
    const trytonPostgres = {
      ...tryton,
      flavour: "7.0-postgresql",
      worker: true,
      workerPool: 1,
      concurrency: 4,
      speedupVsNaiveWorkflow: 6,
    };
    const results: BenchResults = {
      mode: "full",
      machine,
      seconds: 1,
      cpu,
      tryton,
      trytonPostgres,
      salesforce,
      memory,
    };
    const json = JSON.parse(JSON.stringify(jsonOf(results))) as Record<string, Record<string, unknown>>;
    const keys = {
      salesforce: ["callsPerOrder", "speedupVsNaive", "ordersPerSecond"],
      tryton: ["callsPerOrder", "speedupVsNaive", "ratioToBatchCeiling"],
      trytonPostgres: ["callsPerOrder", "speedupVsNaive", "speedupVsNaiveWorkflow", "ordersPerSecond"],
      memory: ["peakRssMb10k", "peakRssMb100k"],
      cpu: ["microsPerOrder"],
    };
    for (const [group, names] of Object.entries(keys)) {
      for (const name of names) assert.equal(typeof json[group]?.[name], "number", `${group}.${name}`);
    }
    const table = targetsTable(results);
    assert.match(table, /API calls per order .*\| ≤ 0\.01 \| \*\*no\*\* \|/);
    assert.match(table, /speed-up vs naive \(rate vs rate.*\| 150× \| ≥ 100× \| yes \|/);
    assert.match(table, /RPC calls per order .*\| ≤ 0\.2 \| yes \|/);
    assert.match(table, /Salesforce's capacity floor .*1,140 records per page.*\| 0\.015 \| report \|/);
    assert.match(table, /heap kept after a full collection .*\| 57\.7 MB \|/);
    assert.match(table, /speed-up vs naive, import .*\| 10× \| ≥ 5× \| yes \|/);
    assert.match(table, /speed-up vs naive, default workflow .*\| 3× \| ≥ 5× \| \*\*no\*\* \|/);
    assert.match(
      table,
      /Tryton 7\.0\/PostgreSQL \+ worker \(pool 1\).*speed-up vs naive, default workflow .*\| 6× \| ≥ 5× \| yes \|/s,
    );
    assert.match(
      trytonComparison(results),
      /\| speed-up vs naive, default workflow \| 3× \| 6× \| ≥ 5× \|/,
      "the Tryton rows of both servers side by side",
    );
  });

  it("reads V8's --trace-gc lines of the Node-RED process into a profile of the full collections", () => {
    const gc = gcProfile();
    for (const line of [
      "[20480:0x39eb2410]      292 ms: Mark-Compact 14.4 (29.9) -> 12.0 (30.9) MB, 2.56 / 0.00 ms  (+ 0.2 ms in 3 steps since start of marking, biggest step 0.1 ms, walltime since start of marking 15 ms) (average mu = 1.000, current mu = 1.000) finalize incremental marking via stack guard; GC in old space requested",
      "[20480:0x39eb2410]      301 ms: Scavenge 20.1 (31.0) -> 15.2 (31.0) MB, 1.10 / 0.00 ms  (average mu = 1.000, current mu = 1.000) allocation failure;",
      "[20480:0x39eb2410]     4764 ms: Mark-Compact 168.0 (190.8) -> 55.3 (123.7) MB, 14.22 / 0.17 ms  (+ 36.3 ms in 420 steps) (average mu = 0.984, current mu = 0.986) finalize incremental marking via task; GC in old space requested",
      "[20480:0x39eb2410]     8880 ms: Mark-Compact (reduce) 218.4 (249.8) -> 57.7 (151.4) MB, 11.06 / 5.15 ms  (average mu = 0.986, current mu = 0.987) finalize incremental marking via task",
      "8 Dec 10:00:00 - [info] Started flows",
    ])
      gc.line(line);
    assert.deepEqual(gc.result(), { fullGcs: 3, liveMb: 57.7, beforeGcMb: 218.4, committedMb: 249.8 });
  });
});
