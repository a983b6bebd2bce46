/**
 * Scenario 3: memory of a real Node-RED runtime (the built pack in `dist/`, started through
 * `src/sandbox/node-red-runtime.ts`) streaming N orders Magento → Salesforce:
 * inject → magento-order-in (one page per run) → salesforce-order-out, and a `complete` node
 * watching salesforce-order-out wired back into magento-order-in, so each finished page asks
 * for the next one (Node-RED has no backpressure: without the loop, magento-order-in sends the
 * whole backlog at once and it queues in memory). Both simulators run in the bench process,
 * so their own memory stays out of the figure; the Node-RED process is sampled by PID
 * (VmRSS every 500 ms, VmHWM — the kernel's peak — at the end). It runs with `--trace-gc`, so
 * each full (mark-compact) collection tells what the flow really keeps (the heap left after it)
 * and how far V8 let the heap grow before collecting (`gcProfile`).
 */
import type { MagentoSimulator } from "../src/sandbox/magento";
import { defaultIntegration } from "../src/sandbox/magento";
import { startNodeRed, type NodeRedInstance } from "../src/sandbox/node-red-runtime";
import type { SalesforceSimulator } from "../src/sandbox/salesforce";
import { startSalesforceSimulator } from "../src/sandbox/salesforce";
import { magentoWith } from "./magento";
import { now, peakRssMb, rssMb, since } from "./measure";

export interface MemoryRun {
  orders: number;
  synced: number;
  seconds: number;
  ordersPerSecond: number;
  peakRssMb: number;
  /** RSS after start, before the first order. */
  idleRssMb: number;
  /** RSS when 10 %, 50 % and 100 % of the orders were in Salesforce. */
  rssAt: Record<string, number>;
  stalled: boolean;
  /** From V8's own trace of the full collections in the Node-RED process. */
  gc: GcProfile;
}

export interface GcProfile {
  /** Full (mark-compact) collections. */
  fullGcs: number;
  /** The most heap left after a full collection: what the process really keeps. */
  liveMb: number;
  /** The most heap in use when a full collection began: how far V8 let garbage pile up. */
  beforeGcMb: number;
  /** The most heap V8 held from the system (committed), the part of RSS that is the JS heap. */
  committedMb: number;
}

// `[pid:0x…]  4764 ms: Mark-Compact 168.0 (190.8) -> 55.3 (123.7) MB, …` (used (committed) before -> after)
const FULL_GC = /Mark-Compact(?: \([a-z ]+\))? ([\d.]+) \(([\d.]+)\) -> ([\d.]+) \(([\d.]+)\) MB/;

/** Folds `--trace-gc` lines into a profile. */
export function gcProfile(): { line: (l: string) => void; result: () => GcProfile } {
  const p: GcProfile = { fullGcs: 0, liveMb: 0, beforeGcMb: 0, committedMb: 0 };
  return {
    line(l: string) {
      const m = FULL_GC.exec(l);
      if (!m) return;
      const [before, committedBefore, after, committedAfter] = m.slice(1).map(Number) as [
        number,
        number,
        number,
        number,
      ];
      p.fullGcs += 1;
      p.liveMb = Math.max(p.liveMb, after);
      p.beforeGcMb = Math.max(p.beforeGcMb, before);
      p.committedMb = Math.max(p.committedMb, committedBefore, committedAfter);
    },
    result: () => ({ ...p }),
  };
}

export interface MemoryBenchResult {
  latencyMs: number;
  pageSize: number;
  /** Node-RED as installed: no NODE_OPTIONS. */
  runs: MemoryRun[];
  peakRssMb10k: number;
  peakRssMb100k: number;
  /** Peak at the larger N ÷ peak at the smaller. */
  growth: number;
  /** The same streams with a V8 heap cap (NODE_OPTIONS), when asked for. */
  capped?: {
    nodeOptions: string;
    runs: MemoryRun[];
    peakRssMb10k: number;
    peakRssMb100k: number;
    growth: number;
  };
}

export interface MemoryBenchOptions {
  orders: [number, number];
  latencyMs: number;
  pageSize: number;
  /**
   * Also stream with this NODE_OPTIONS (e.g. `--max-old-space-size=128`, as Node-RED advises for
   * small devices): V8 sizes its heap from the machine's memory and collects lazily, so the
   * peak of an uncapped process says more about V8 than about what the flow keeps.
   */
  cappedNodeOptions?: string;
  log: (line: string) => void;
}

function flows(magento: MagentoSimulator, salesforce: SalesforceSimulator, pageSize: number) {
  const tab = "bench-tab";
  const flow = [
    { id: tab, type: "tab", label: "bench" },
    {
      id: "bench-magento",
      type: "magento-config",
      name: "bench shop",
      baseUrl: magento.url,
      storeCode: "default",
      authMode: "bearer",
      timeout: 60,
      pageSize,
      rejectUnauthorized: true,
      ca: "",
    },
    {
      id: "bench-salesforce",
      type: "salesforce-config",
      loginUrl: "custom",
      customUrl: salesforce.url,
      apiVersion: "60.0",
      authMode: "password",
    },
    {
      id: "bench-start",
      type: "inject",
      z: tab,
      name: "start",
      props: [{ p: "payload" }],
      payload: "",
      payloadType: "date",
      once: true,
      onceDelay: 0.5,
      repeat: "",
      wires: [["bench-in"]],
    },
    {
      id: "bench-in",
      type: "magento-order-in",
      z: tab,
      name: "orders",
      magento: "bench-magento",
      autoSync: false,
      interval: 5,
      intervalUnit: "m",
      pagesPerRun: 1,
      wires: [["bench-out"], []],
    },
    {
      // Each page Salesforce has finished asks for the next one: one page in flight.
      id: "bench-next",
      type: "complete",
      z: tab,
      name: "next page",
      scope: ["bench-out"],
      uncaught: false,
      wires: [["bench-in"]],
    },
    {
      id: "bench-out",
      type: "salesforce-order-out",
      z: tab,
      name: "to Salesforce",
      salesforce: "bench-salesforce",
      defaultStatus: "Draft",
      statusMap: "",
      activatedOrders: "report",
      updateOrders: true,
      syncNotes: true,
      contacts: true,
      wires: [[], []],
    },
  ];
  const c = salesforce.credentials;
  const credentials = {
    "bench-magento": { token: defaultIntegration.accessToken },
    "bench-salesforce": {
      clientId: c.clientId,
      clientSecret: c.clientSecret,
      username: c.username,
      password: c.password,
      securityToken: c.securityToken,
    },
  };
  return { flow, credentials };
}

async function streamOnce(
  orders: number,
  opts: MemoryBenchOptions,
  nodeOptions: string | undefined,
): Promise<MemoryRun> {
  const magento = await magentoWith(orders, opts.latencyMs);
  const salesforce = await startSalesforceSimulator({
    customFields: { Order: [{ name: "Magento_Sync_Hash__c", length: 64 }] },
    latencyMs: opts.latencyMs,
    dailyApiLimit: 100_000_000,
  });
  let red: NodeRedInstance | undefined;
  try {
    const { flow, credentials } = flows(magento, salesforce, opts.pageSize);
    const gc = gcProfile();
    red = await startNodeRed({
      nodeArgs: ["--trace-gc"],
      log: gc.line,
      env: { NODE_ENV: "production", ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}) },
    });
    const pid = red.pid;
    const idleRssMb = rssMb(pid) ?? 0;
    const started = now();
    await red.deploy(flow, credentials);
    const marks = [0.1, 0.5, 1];
    const rssAt: Record<string, number> = {};
    let synced = 0;
    let last = { count: -1, at: now() };
    let stalled = false;
    for (;;) {
      await new Promise((r) => setTimeout(r, 500));
      synced = salesforce.db.count("Order");
      const rss = rssMb(pid);
      if (rss === undefined)
        throw new Error(`Node-RED (pid ${pid}) is gone:\n${red.logs().slice(-20).join("\n")}`);
      for (const m of marks)
        if (!(`${m * 100}%` in rssAt) && synced >= m * orders) rssAt[`${m * 100}%`] = rss;
      if (synced >= orders) break;
      if (synced !== last.count) last = { count: synced, at: now() };
      else if (since(last.at) > 120) {
        stalled = true;
        break;
      }
    }
    const seconds = since(started);
    const peak = peakRssMb(pid) ?? 0;
    return {
      orders,
      synced,
      seconds,
      ordersPerSecond: synced / seconds,
      peakRssMb: peak,
      idleRssMb,
      rssAt,
      stalled,
      gc: gc.result(),
    };
  } finally {
    await red?.stop();
    await salesforce.stop();
    await magento.stop();
  }
}

async function streams(opts: MemoryBenchOptions, nodeOptions?: string): Promise<MemoryRun[]> {
  const runs: MemoryRun[] = [];
  for (const n of opts.orders) {
    opts.log(
      `memory: Node-RED${nodeOptions ? ` (${nodeOptions})` : ""} streaming ${n} orders Magento → Salesforce…`,
    );
    const run = await streamOnce(n, opts, nodeOptions);
    opts.log(
      `  ${run.seconds.toFixed(1)} s, ${run.synced} synced, peak RSS ${run.peakRssMb.toFixed(0)} MB${run.stalled ? " (STALLED)" : ""}`,
    );
    runs.push(run);
  }
  return runs;
}

function summary(runs: MemoryRun[]) {
  const [small, large] = runs as [MemoryRun, MemoryRun];
  return {
    runs,
    peakRssMb10k: small.peakRssMb,
    peakRssMb100k: large.peakRssMb,
    growth: large.peakRssMb / small.peakRssMb,
  };
}

export async function benchMemory(opts: MemoryBenchOptions): Promise<MemoryBenchResult> {
  const result: MemoryBenchResult = {
    latencyMs: opts.latencyMs,
    pageSize: opts.pageSize,
    ...summary(await streams(opts)),
  };
  if (opts.cappedNodeOptions) {
    result.capped = {
      nodeOptions: opts.cappedNodeOptions,
      ...summary(await streams(opts, opts.cappedNodeOptions)),
    };
  }
  return result;
}
