/**
 * What `npm run bench` prints: the targets table (markdown, also what docs/benchmarks.md
 * holds), the details and profiles of each scenario, and with `--json` one JSON object last.
 */
import type { CpuBenchResult } from "./cpu";
import { round, sig } from "./measure";
import type { MemoryBenchResult } from "./memory";
import type { SalesforceBenchResult } from "./salesforce";
import type { TrytonBenchResult } from "./tryton";

export interface Machine {
  date: string;
  node: string;
  nodeRed: string;
  tryton?: string;
  os: string;
  cpus: string;
  memoryGb: number;
  loadAverage: number[];
}

export interface BenchResults {
  mode: "full" | "quick";
  machine: Machine;
  seconds: number;
  cpu?: CpuBenchResult;
  /** The Tryton scenario on 6.0/SQLite (JSON key `tryton`). */
  tryton?: TrytonBenchResult;
  /** The same on 7.0/PostgreSQL with a trytond-worker (JSON key `trytonPostgres`). */
  trytonPostgres?: TrytonBenchResult;
  salesforce?: SalesforceBenchResult;
  memory?: MemoryBenchResult;
}

interface Row {
  scenario: string;
  metric: string;
  measured: string;
  target: string;
  met?: boolean;
}

const yes = (ok: boolean | undefined) => (ok === undefined ? "—" : ok ? "yes" : "**no**");
const n = (v: number, digits = 3) => String(sig(v, digits));

/** Peak at the larger stream within 20 % of the smaller one counts as flat. */
export const FLAT_GROWTH = 1.2;

function rows(r: BenchResults): Row[] {
  const out: Row[] = [];
  const s = r.salesforce;
  if (s) {
    const head = `Magento → Salesforce (${s.orders.toLocaleString("en")} orders, ${s.latencyMs} ms/call)`;
    out.push(
      {
        scenario: head,
        metric: "API calls per order (steady state, default settings: notes on)",
        measured: `${n(s.callsPerOrder)} (${n(s.pack.callsPerOrder)} overall)`,
        target: "≤ 0.01",
        met: s.callsPerOrder <= 0.01,
      },
      {
        scenario: head,
        metric: "API calls per order (steady state, Synchronize Order Notes off: orders and items only)",
        measured: `${n(s.packNotesOff.steadyCallsPerOrder)} (${n(s.packNotesOff.callsPerOrder)} overall)`,
        target: "≤ 0.01",
        met: s.packNotesOff.steadyCallsPerOrder <= 0.01,
      },
      {
        scenario: head,
        metric:
          `Salesforce's capacity floor for these pages (default settings: ${Math.round(s.pack.floor.recordsPerPage).toLocaleString("en")} records per page of ${s.pageSize}): ` +
          `1 lookup + ⌈records ÷ 1,000⌉ composites (5 collections × 200), every collection assumed full`,
        measured: n(s.pack.floor.callsPerOrder),
        target: "report",
      },
      {
        scenario: head,
        metric: "orders/s, pack",
        measured: n(s.ordersPerSecond),
        target: "",
      },
      {
        scenario: head,
        metric: `speed-up vs naive (rate vs rate; naive ${n(s.naive.steadyOrdersPerSecond)} orders/s on ${s.naive.orders} orders, ${n(s.naive.steadyCallsPerOrder)} calls/order)`,
        measured: `${n(s.speedupVsNaive)}×`,
        target: "≥ 100×",
        met: s.speedupVsNaive >= 100,
      },
    );
  }
  for (const t of [r.tryton, r.trytonPostgres]) if (t) out.push(...trytonRows(t));
  const m = r.memory;
  if (m) {
    const [small, large] = m.runs;
    const head = `Memory: Node-RED streaming Magento → Salesforce (${m.latencyMs} ms/call)`;
    out.push(
      {
        scenario: head,
        metric: `peak RSS at ${small?.orders.toLocaleString("en")} orders`,
        measured: `${round(m.peakRssMb10k, 0)} MB`,
        target: "≤ 250 MB",
        met: m.peakRssMb10k <= 250,
      },
      {
        scenario: head,
        metric: `peak RSS at ${large?.orders.toLocaleString("en")} orders`,
        measured: `${round(m.peakRssMb100k, 0)} MB`,
        target: "≤ 250 MB",
        met: m.peakRssMb100k <= 250,
      },
      {
        scenario: head,
        metric:
          r.mode === "full"
            ? "flat in N (peak at the larger ÷ the smaller)"
            : "flat in N: not judged at quick sizes (V8's heap is still growing; the full run compares 10k and 100k)",
        measured: `${n(m.growth)}`,
        target: `≤ ${FLAT_GROWTH}`,
        ...(r.mode === "full" ? { met: m.growth <= FLAT_GROWTH } : {}),
      },
    );
    if (large) {
      const g = large.gc;
      out.push({
        scenario: head,
        metric:
          `where it goes (V8 \`--trace-gc\`, ${large.orders.toLocaleString("en")} orders): heap kept after a full collection ` +
          `(idle process: ${round(large.idleRssMb, 0)} MB RSS); V8 let the heap fill to ${round(g.beforeGcMb, 0)} MB ` +
          `(${round(g.committedMb, 0)} MB committed, ×${n(g.beforeGcMb / Math.max(1, g.liveMb), 2)} what it keeps) before collecting; ` +
          `peak RSS beyond that committed heap ${round(large.peakRssMb - g.committedMb, 0)} MB`,
        measured: `${n(g.liveMb)} MB`,
        target: "report",
      });
    }
    const c = m.capped;
    if (c) {
      out.push(
        {
          scenario: head,
          metric: `with \`NODE_OPTIONS=${c.nodeOptions}\`: peak RSS at ${small?.orders.toLocaleString("en")} / ${large?.orders.toLocaleString("en")} orders`,
          measured: `${round(c.peakRssMb10k, 0)} / ${round(c.peakRssMb100k, 0)} MB`,
          target: "≤ 250 MB",
          met: Math.max(c.peakRssMb10k, c.peakRssMb100k) <= 250,
        },
        {
          scenario: head,
          metric: `with \`NODE_OPTIONS=${c.nodeOptions}\`: flat in N`,
          measured: `${n(c.growth)}`,
          target: `≤ ${FLAT_GROWTH}`,
          met: c.growth <= FLAT_GROWTH,
        },
      );
    }
  }
  const c = r.cpu;
  if (c) {
    out.push({
      scenario: `CPU (${c.orders.toLocaleString("en")} generated orders, no I/O)`,
      metric: `µs per order, for an order going to both targets: validate at intake ${n(c.parts.validate)} + 2 × the targets' check of it (their own earlier result, found by fingerprint) ${n(c.parts.recheck)} + Tryton mapping ${n(c.parts.tryton)} + Salesforce mapping ${n(c.parts.salesforce)}`,
      measured: `${n(c.microsPerOrder)} µs`,
      target: "report",
    });
  }
  return out;
}

/** "Tryton 6.0/SQLite", "Tryton 7.0/PostgreSQL + worker (pool 1)". */
export function trytonTitle(t: TrytonBenchResult): string {
  const [series, backend] = t.flavour.split("-") as [string, string];
  const db = backend === "postgresql" ? "PostgreSQL" : "SQLite";
  return `Tryton ${series}/${db}${t.worker ? ` + worker (pool ${t.workerPool ?? 1})` : ""}`;
}

function workflowWords(t: TrytonBenchResult): string {
  return t.worker
    ? "quote, confirm; the worker processes; timed until its queue is empty"
    : "quote, confirm + process";
}

function trytonRows(t: TrytonBenchResult): Row[] {
  const head = `Magento → ${trytonTitle(t)} (${t.orders.toLocaleString("en")} orders, ${n(t.linesPerOrder)} lines each)`;
  return [
    {
      scenario: head,
      metric: "RPC calls per order (steady state, default workflow)",
      measured: `${n(t.callsPerOrder)} (${n(t.pack.callsPerOrder)} overall)`,
      target: "≤ 0.2",
      met: t.callsPerOrder <= 0.2,
    },
    {
      scenario: head,
      metric: "RPC calls per order (steady state, import only: search/create, no workflow)",
      measured: `${n(t.packImport.steadyCallsPerOrder)} (${n(t.packImport.callsPerOrder)} overall)`,
      target: "≤ 0.2",
      met: t.packImport.steadyCallsPerOrder <= 0.2,
    },
    {
      scenario: head,
      metric: `orders/s, pack: import only / default workflow (${workflowWords(t)})`,
      measured: `${n(t.packImport.ordersPerSecond)} / ${n(t.pack.ordersPerSecond)}`,
      target: "",
    },
    {
      scenario: head,
      metric: `speed-up vs naive, import (the baseline as defined: one search/create sequence per order; naive ${n(t.naiveImport.ordersPerSecond)} orders/s on ${t.naiveImport.orders} orders, ${n(t.naiveImport.callsPerOrder)} calls/order)`,
      measured: `${n(t.speedupVsNaive)}×`,
      target: "≥ 5×",
      met: t.speedupVsNaive >= 5,
    },
    {
      scenario: head,
      metric: `speed-up vs naive, default workflow (both also quote and confirm; naive ${n(t.naive.ordersPerSecond)} orders/s on ${t.naive.orders} orders, ${n(t.naive.callsPerOrder)} calls/order; bound by Tryton's confirm: ${n(t.speedupBoundByConfirm)}×${t.concurrency > 1 ? `, confirm chunks ${t.concurrency} at a time` : ""})`,
      measured: `${n(t.speedupVsNaiveWorkflow)}×`,
      target: "≥ 5×",
      met: t.speedupVsNaiveWorkflow >= 5,
    },
    {
      scenario: head,
      metric: `ratio to bare batch create (import only: pack ${n(t.packImport.salesPerSecond)} vs bare ${n(t.ceiling.salesPerSecond)} sales/s)`,
      measured: `${round(t.ratioToBatchCeiling * 100, 0)} %`,
      target: "≥ 70 %",
      met: t.ratioToBatchCeiling >= 0.7,
    },
    {
      scenario: head,
      metric: `ratio to bare create + quote + confirm (default workflow: pack ${n(t.pack.salesPerSecond)} vs bare ${n(t.workflowCeiling.salesPerSecond)} sales/s)`,
      measured: `${round(t.ratioToWorkflowCeiling * 100, 0)} %`,
      target: "",
    },
  ];
}

/**
 * The Tryton rows of both servers side by side (the same metrics, one column per server),
 * with the Tryton scenario's target for each.
 */
export function trytonComparison(r: BenchResults): string {
  const runs = [r.tryton, r.trytonPostgres].filter((t): t is TrytonBenchResult => t !== undefined);
  if (runs.length === 0) return "";
  const metrics: Array<[string, (t: TrytonBenchResult) => string, string]> = [
    ["RPC calls per order, default workflow (steady)", (t) => n(t.callsPerOrder), "≤ 0.2"],
    ["RPC calls per order, import only (steady)", (t) => n(t.packImport.steadyCallsPerOrder), "≤ 0.2"],
    ["confirm chunks in flight (pack)", (t) => String(t.concurrency), ""],
    ["orders/s, pack, default workflow", (t) => n(t.pack.ordersPerSecond), ""],
    ["orders/s, naive, default workflow", (t) => n(t.naive.ordersPerSecond), ""],
    ["speed-up vs naive, default workflow", (t) => `${n(t.speedupVsNaiveWorkflow)}×`, "≥ 5×"],
    [
      "… with other confirm concurrency",
      (t) =>
        t.altConcurrency.map((a) => `${a.concurrency}: ${n(a.speedupVsNaiveWorkflow)}×`).join(", ") || "—",
      "",
    ],
    [
      "orders/s, pack / naive, import only",
      (t) => `${n(t.packImport.ordersPerSecond)} / ${n(t.naiveImport.ordersPerSecond)}`,
      "",
    ],
    ["speed-up vs naive, import only", (t) => `${n(t.speedupVsNaive)}×`, "≥ 5×"],
    ["ratio to bare create (import only)", (t) => `${round(t.ratioToBatchCeiling * 100, 0)} %`, "≥ 70 %"],
    [
      "ratio to bare create + quote + confirm (default workflow)",
      (t) => `${round(t.ratioToWorkflowCeiling * 100, 0)} %`,
      "",
    ],
    [
      "waiting for the worker after the last request: pack / naive / bare",
      (t) =>
        t.worker
          ? `${t.pack.settleSeconds.toFixed(1)} / ${t.naive.settleSeconds.toFixed(1)} / ${t.workflowCeiling.settleSeconds.toFixed(1)} s`
          : "— (no worker)",
      "",
    ],
  ];
  const lines = [
    `| Tryton (${runs[0]?.orders.toLocaleString("en")} orders) | ${runs.map(trytonTitle).join(" | ")} | Target |`,
    `| --- | ${runs.map(() => "---").join(" | ")} | --- |`,
  ];
  for (const [metric, value, target] of metrics) {
    lines.push(`| ${metric} | ${runs.map(value).join(" | ")} | ${target} |`);
  }
  return lines.join("\n");
}

export function targetsTable(r: BenchResults): string {
  const lines = ["| Scenario | Metric | Measured | Target | Met |", "| --- | --- | --- | --- | --- |"];
  let last = "";
  for (const row of rows(r)) {
    const scenario = row.scenario === last ? "" : row.scenario;
    last = row.scenario;
    lines.push(
      `| ${scenario} | ${row.metric} | ${row.measured} | ${row.target} | ${row.target ? yes(row.met) : ""} |`,
    );
  }
  return lines.join("\n");
}

export function machineLine(m: Machine): string {
  return (
    `${m.date} · Node ${m.node} · Node-RED ${m.nodeRed}${m.tryton ? ` · trytond ${m.tryton}` : ""} · ` +
    `${m.os} · ${m.cpus} · ${m.memoryGb} GB · load average ${m.loadAverage.map((l) => l.toFixed(1)).join(" ")}`
  );
}

function profileLines(title: string, profile: TrytonBenchResult["pack"]["profile"]): string[] {
  return [
    `  ${title}:`,
    ...profile.map(
      (p) =>
        `    ${p.method.padEnd(40)} ${String(p.calls).padStart(5)} calls ${p.seconds.toFixed(2).padStart(8)} s ${String(round(p.share * 100, 0)).padStart(4)} %`,
    ),
  ];
}

/** The server side of a Tryton run: CPU seconds per process tree, the worker's tasks. */
function serverLine(p: TrytonBenchResult["pack"]["server"] | undefined): string {
  const cpu = Object.entries(p?.cpu ?? {})
    .map(([k, v]) => `${k} ${(v as number).toFixed(1)} s`)
    .join(", ");
  const q = p?.queue;
  const queue = q
    ? `; worker: ${q.tasks} tasks ran ${q.runSeconds.toFixed(1)} s (${q.meanRunSeconds.toFixed(2)} s each), waited ${q.meanWaitSeconds.toFixed(1)} s on average, first start to last finish ${q.spanSeconds.toFixed(1)} s`
    : "";
  return `  server side: CPU ${cpu || "not read"}${queue}`;
}

/** Where the time went, per scenario (for the table's misses). */
export function details(r: BenchResults): string {
  const out: string[] = [];
  const s = r.salesforce;
  if (s) {
    out.push(
      `Salesforce: ${s.orders} orders, ${n(s.itemsPerOrder)} Magento items and ${n(s.orderItemsPerOrder)} OrderItems (with shipping/discount/tax lines) per order`,
      `  pack:  ${s.pack.seconds.toFixed(1)} s, ${s.pack.apiCalls} API calls ${JSON.stringify(s.pack.routes)}, first page ${s.pack.firstPageCalls} calls, ${s.pack.failed} failed; ${Math.round(s.pack.floor.recordsPerPage)} records per later page, capacity floor ${n(s.pack.floor.callsPerOrder)} calls/order`,
      `  pack, notes off:  ${s.packNotesOff.seconds.toFixed(1)} s, ${s.packNotesOff.apiCalls} API calls ${JSON.stringify(s.packNotesOff.routes)}, first page ${s.packNotesOff.firstPageCalls} calls, ${s.packNotesOff.failed} failed; ${Math.round(s.packNotesOff.floor.recordsPerPage)} records per later page, capacity floor ${n(s.packNotesOff.floor.callsPerOrder)} calls/order`,
      `  naive: ${s.naive.seconds.toFixed(1)} s for ${s.naive.orders} orders, ${s.naive.apiCalls} API calls ${JSON.stringify(s.naive.routes)}, ${s.naive.failed} failed; ` +
        `rate over the second half ${n(s.naive.steadyOrdersPerSecond)} orders/s (${n(s.naive.ordersPerSecond)} overall)`,
    );
  }
  for (const t of [r.tryton, r.trytonPostgres]) {
    if (!t) continue;
    const w = (f: { settleSeconds: number }) =>
      t.worker
        ? ` (${f.settleSeconds.toFixed(1)} s of it waiting for the worker after the last request)`
        : "";
    out.push(
      `${trytonTitle(t)}: ${t.orders} orders, ${n(t.itemsPerOrder)} Magento items and ${n(t.linesPerOrder)} sale lines (with shipping/discount) per order`,
      `  pack, default workflow, confirm chunks ${t.concurrency} at a time: ${t.pack.seconds.toFixed(1)} s${w(t.pack)}, ${t.pack.sales} sales, ${t.pack.calls} calls, ${t.pack.failed} failed`,
      ...profileLines("where the time goes", t.pack.profile),
      serverLine(t.pack.server),
      `  naive, default workflow: ${t.naive.seconds.toFixed(1)} s${w(t.naive)} for ${t.naive.orders} orders, ${t.naive.sales} sales, ${t.naive.calls} calls, ${t.naive.failed} failed`,
      ...profileLines("where the time goes", t.naive.profile),
      serverLine(t.naive.server),
      `  pack, import only: ${t.packImport.seconds.toFixed(1)} s, ${t.packImport.sales} sales, ${t.packImport.calls} calls`,
      ...profileLines("where the time goes", t.packImport.profile),
      `  naive, import only: ${t.naiveImport.seconds.toFixed(1)} s for ${t.naiveImport.orders} orders, ${t.naiveImport.sales} sales, ${t.naiveImport.calls} calls, ${t.naiveImport.failed} failed`,
      ...profileLines("where the time goes", t.naiveImport.profile),
      `  speed-up bound if everything but the pack's confirm calls were free: ${n(t.speedupBoundByConfirm)}×`,
      ...(t.altChunk
        ? [
            `  pack, default workflow, confirm chunk ${t.altChunk.confirmChunk}: ${t.altChunk.seconds.toFixed(1)} s (${n(t.altChunk.ordersPerSecond)} orders/s), ` +
              `${n(t.altChunk.steadyCallsPerOrder)} calls/order steady (${n(t.altChunk.callsPerOrder)} overall)`,
          ]
        : []),
      `  bare create: ${t.ceiling.seconds.toFixed(1)} s for ${t.ceiling.sales} sales in ${t.ceiling.calls} calls`,
      `  bare create + quote + confirm: ${t.workflowCeiling.seconds.toFixed(1)} s${w(t.workflowCeiling)} for ${t.workflowCeiling.sales} sales in ${t.workflowCeiling.calls} calls`,
      ...t.altConcurrency.map(
        (a) =>
          `  pack, default workflow, confirm chunks ${a.concurrency} at a time: ${a.seconds.toFixed(1)} s${w(a)} (${n(a.ordersPerSecond)} orders/s, ${n(a.speedupVsNaiveWorkflow)}× naive), ${a.failed} failed`,
      ),
    );
  }
  const m = r.memory;
  if (m) {
    const runs = [
      ...m.runs.map((run) => ({ run, how: "" })),
      ...(m.capped?.runs ?? []).map((run) => ({ run, how: ` (${m.capped?.nodeOptions})` })),
    ];
    for (const { run, how } of runs) {
      out.push(
        `Memory${how}: ${run.orders} orders in ${run.seconds.toFixed(1)} s (${n(run.ordersPerSecond)} orders/s), ` +
          `RSS idle ${round(run.idleRssMb, 0)} MB, at ${Object.entries(run.rssAt)
            .map(([k, v]) => `${k} ${round(v, 0)} MB`)
            .join(", ")}, peak ${round(run.peakRssMb, 0)} MB${run.stalled ? " — STALLED" : ""}`,
        `  V8: ${run.gc.fullGcs} full collections, heap kept after them ≤ ${n(run.gc.liveMb)} MB, ` +
          `in use when one began ≤ ${n(run.gc.beforeGcMb)} MB, committed ≤ ${n(run.gc.committedMb)} MB`,
      );
    }
  }
  return out.join("\n");
}

/** The JSON of one Tryton run: the same keys for 6.0/SQLite (`tryton`) and 7.0/PostgreSQL (`trytonPostgres`). */
function trytonJson(t: TrytonBenchResult): Record<string, unknown> {
  return {
    flavour: t.flavour,
    worker: t.worker,
    workerPool: t.workerPool,
    concurrency: t.concurrency,
    altConcurrency: t.altConcurrency,
    server: { pack: t.pack.server, naive: t.naive.server, bareWorkflow: t.workflowCeiling.server },
    settleSeconds: {
      pack: t.pack.settleSeconds,
      naive: t.naive.settleSeconds,
      bareWorkflow: t.workflowCeiling.settleSeconds,
    },
    orders: t.orders,
    linesPerOrder: t.linesPerOrder,
    callsPerOrder: t.callsPerOrder,
    callsPerOrderOverall: t.pack.callsPerOrder,
    speedupVsNaive: t.speedupVsNaive,
    speedupVsNaiveWorkflow: t.speedupVsNaiveWorkflow,
    ratioToBatchCeiling: t.ratioToBatchCeiling,
    ratioToWorkflowCeiling: t.ratioToWorkflowCeiling,
    ordersPerSecond: t.pack.ordersPerSecond,
    importOnly: {
      ordersPerSecond: t.packImport.ordersPerSecond,
      salesPerSecond: t.packImport.salesPerSecond,
      callsPerOrder: t.packImport.steadyCallsPerOrder,
      callsPerOrderOverall: t.packImport.callsPerOrder,
      naive: {
        orders: t.naiveImport.orders,
        ordersPerSecond: t.naiveImport.ordersPerSecond,
        callsPerOrder: t.naiveImport.callsPerOrder,
      },
    },
    bareCreate: { salesPerSecond: t.ceiling.salesPerSecond },
    bareWorkflow: { salesPerSecond: t.workflowCeiling.salesPerSecond },
    naive: {
      orders: t.naive.orders,
      ordersPerSecond: t.naive.ordersPerSecond,
      callsPerOrder: t.naive.callsPerOrder,
    },
    speedupBoundByConfirm: t.speedupBoundByConfirm,
    altConfirmChunk: t.altChunk ?? null,
    profile: t.pack.profile,
  };
}

/** The JSON object `--json` prints last. */
export function jsonOf(r: BenchResults): Record<string, unknown> {
  const s = r.salesforce;
  const m = r.memory;
  return {
    mode: r.mode,
    machine: r.machine,
    seconds: round(r.seconds, 1),
    salesforce: s
      ? {
          orders: s.orders,
          latencyMs: s.latencyMs,
          callsPerOrder: s.callsPerOrder,
          callsPerOrderOverall: s.pack.callsPerOrder,
          callsPerOrderNotesOff: s.packNotesOff.steadyCallsPerOrder,
          capacityFloor: s.pack.floor,
          capacityFloorNotesOff: s.packNotesOff.floor,
          speedupVsNaive: s.speedupVsNaive,
          ordersPerSecond: s.ordersPerSecond,
          naive: {
            orders: s.naive.orders,
            ordersPerSecond: s.naive.steadyOrdersPerSecond,
            callsPerOrder: s.naive.steadyCallsPerOrder,
          },
          routes: s.pack.routes,
        }
      : null,
    tryton: r.tryton ? trytonJson(r.tryton) : null,
    trytonPostgres: r.trytonPostgres ? trytonJson(r.trytonPostgres) : null,
    memory: m
      ? {
          orders: m.runs.map((run) => run.orders),
          peakRssMb10k: m.peakRssMb10k,
          peakRssMb100k: m.peakRssMb100k,
          growth: m.growth,
          runs: m.runs,
          capped: m.capped ?? null,
        }
      : null,
    cpu: r.cpu ? { microsPerOrder: r.cpu.microsPerOrder, parts: r.cpu.parts, orders: r.cpu.orders } : null,
  };
}
