/**
 * `npm run bench [-- --quick] [-- --json] [-- --only cpu,tryton,salesforce,memory]`
 *
 * Runs the scenarios of issue 8 one after the other on this machine and prints the targets
 * table, the profiles, and with `--json` one JSON object as the last line. Everything it uses
 * (simulators, the real Tryton server, Node-RED) it starts and stops itself. Progress goes to
 * stderr.
 */
import "./no-proxy";
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { missingBuildFiles, REPO_ROOT } from "../src/sandbox/node-red-runtime";
import { TrytonClient } from "../src/tryton/rpc";
import { parseArgs, type BenchArgs, type BenchTrytonFlavour } from "./args";
import { benchCpu } from "./cpu";
import { now, since } from "./measure";
import { benchMemory } from "./memory";
import {
  details,
  jsonOf,
  machineLine,
  targetsTable,
  trytonComparison,
  type BenchResults,
  type Machine,
} from "./report";
import { benchSalesforce } from "./salesforce";
import { benchTryton } from "./tryton";
import { startTryton, type BenchTrytonServer } from "./tryton-server";

const LATENCY_MS = 50;
const SALESFORCE_PAGE = 200;
const TRYTON_PAGE = 100;
/** With a worker, the pack's default workflow is also run with these numbers of confirm chunks in flight. */
const ALT_CONCURRENCY = [4];
const WORKER_POOL = 2;

const log = (line: string) =>
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

/** The memory scenario runs the built pack: build it when `dist/` is missing or older than the sources. */
function ensureBuilt(): void {
  const dist = path.join(REPO_ROOT, "dist");
  const stale =
    missingBuildFiles().length > 0 ||
    newestMtime(dist) <
      Math.max(newestMtime(path.join(REPO_ROOT, "src")), newestMtime(path.join(REPO_ROOT, "nodes")));
  if (!stale) return;
  log("building the pack (dist/ is missing or older than src/)…");
  for (let attempt = 1; ; attempt++) {
    try {
      execFileSync(process.execPath, [path.join(REPO_ROOT, "scripts", "build.mjs")], {
        stdio: ["ignore", "ignore", "pipe"],
      });
      return;
    } catch (err) {
      // Another build writing dist/ at the same moment (ENOTEMPTY): try again shortly.
      if (attempt >= 3) throw err;
      log(`build failed (attempt ${attempt}), trying again…`);
      execFileSync("sleep", ["3"]);
    }
  }
}

function machine(): Machine {
  const cpus = os.cpus();
  const pkg = path.join(path.dirname(require.resolve("node-red")), "..", "package.json");
  const nodeRed = (JSON.parse(readFileSync(pkg, "utf8")) as { version: string }).version;
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    node: process.version,
    nodeRed,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    cpus: `${cpus.length} × ${cpus[0]?.model.trim() ?? "unknown CPU"}`,
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    loadAverage: os.loadavg(),
  };
}

async function trytonVersion(server: BenchTrytonServer): Promise<string | undefined> {
  try {
    return await new TrytonClient({
      url: server.url,
      database: server.database,
      username: server.username,
      password: server.password,
    }).version();
  } catch {
    return undefined;
  }
}

export async function runBench(args: BenchArgs): Promise<BenchResults> {
  const started = now();
  const results: BenchResults = { mode: args.quick ? "quick" : "full", machine: machine(), seconds: 0 };
  const { sizes } = args;
  if (args.only.includes("cpu")) {
    log(`cpu: validation + mapping of ${sizes.cpuOrders} orders…`);
    results.cpu = benchCpu(sizes.cpuOrders, args.quick ? 5 : 7);
  }
  const benchFlavour = async (flavour: BenchTrytonFlavour): Promise<void> => {
    const flog = (line: string) => log(`[${flavour}] ${line}`);
    const server = await startTryton(flog, flavour);
    stoppers.add(server);
    try {
      const version = await trytonVersion(server);
      if (version) results.machine.tryton = [results.machine.tryton, version].filter(Boolean).join(", ");
      const result = await benchTryton(server, {
        orders: sizes.trytonOrders,
        naiveOrders: sizes.trytonNaiveOrders,
        pageSize: TRYTON_PAGE,
        magentoLatencyMs: LATENCY_MS,
        // With a worker also trytond's queue batch (`[queue] batch_size`, 20 sales per process task).
        ...(args.quick ? {} : { altConfirmChunk: flavour === "7.0-postgresql" ? 20 : 10 }),
        altConcurrency: ALT_CONCURRENCY,
        log: flog,
      });
      if (flavour === "6.0-sqlite") results.tryton = result;
      else results.trytonPostgres = result;
    } finally {
      stoppers.delete(server);
      await server.stop();
      flog(`real Tryton stopped (pid ${server.pid})`);
    }
  };
  const flavours = args.only.includes("tryton") ? args.trytonFlavours : [];
  // The worker's pool (scripts/tryton.sh reads TRYTON_WORKERS): 2 on this 2-core machine
  // unless set — processing is the bound with a worker (docs/benchmarks.md).
  if (flavours.includes("7.0-postgresql")) process.env.TRYTON_WORKERS ??= String(WORKER_POOL);
  if (args.parallelTryton) await Promise.all(flavours.map(benchFlavour));
  else for (const flavour of flavours) await benchFlavour(flavour);
  if (args.only.includes("salesforce")) {
    results.salesforce = await benchSalesforce({
      orders: sizes.salesforceOrders,
      naiveOrders: sizes.salesforceNaiveOrders,
      latencyMs: LATENCY_MS,
      pageSize: SALESFORCE_PAGE,
      log,
    });
  }
  if (args.only.includes("memory")) {
    ensureBuilt();
    results.memory = await benchMemory({
      orders: sizes.memoryOrders,
      latencyMs: LATENCY_MS,
      pageSize: SALESFORCE_PAGE,
      ...(args.quick ? {} : { cappedNodeOptions: "--max-old-space-size=128" }),
      log,
    });
  }
  results.seconds = since(started);
  return results;
}

const stoppers = new Set<BenchTrytonServer>();
const stopTryton = (): Promise<void> => Promise.all([...stoppers].map((s) => s.stop())).then(() => undefined);

async function main(): Promise<void> {
  let args: BenchArgs;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      log(`${signal}: stopping`);
      void stopTryton().finally(() => process.exit(130));
    });
  }
  const results = await runBench(args);
  const out = [
    "",
    `OrderBridge benchmark (${results.mode}, ${results.seconds.toFixed(0)} s)`,
    machineLine(results.machine),
    "",
    targetsTable(results),
    "",
    ...(results.tryton || results.trytonPostgres ? [trytonComparison(results), ""] : []),
    details(results),
    "",
  ];
  process.stdout.write(out.join("\n"));
  if (args.json) process.stdout.write(`${JSON.stringify(jsonOf(results))}\n`);
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      void stopTryton().finally(() => process.exit(1));
    },
  );
}
