/**
 * Tryton JSON-RPC simulator: an in-memory trytond for the demo and the fast tests, held to
 * the real servers by the contract suites (test/contract). Same routes, envelope, sessions,
 * value encoding, error shapes and sale workflow as trytond 6.0 on SQLite, or 7.0 with
 * `series: "7.0"` (series.ts; see the modules under this directory for the rules each follows).
 *
 *   const tryton = await startTrytonSimulator();
 *   new TrytonClient({ url: tryton.url, database: tryton.database, username: tryton.username, password: tryton.password });
 *   …
 *   await tryton.stop();
 */
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";

import type { TrytonFixtures } from "./seed";
import { plainRow, TrytonSim, callModel } from "./simulator";
import { Dec } from "./decimal";
import { decodeParams } from "./values";
import type { TrytonSeries } from "./series";

export type { TrytonFixtures, ProductFixture } from "./seed";
export { SERVER_VERSION } from "./simulator";
export { TRYTON_SERIES, type TrytonSeries } from "./series";

export type FaultKind = "500" | "503" | "reset" | "slow";

export interface FaultOptions {
  /** Probability (0–1) that a request gets a fault instead of (or, for "slow", before) its answer. */
  rate: number;
  kinds?: FaultKind[];
  /** Extra delay of a "slow" fault (default 2000 ms). */
  slowMs?: number;
  /** Seed of the fault dice, for reproducible runs (default 1). */
  seed?: number;
}

export interface TrytonSimulatorOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  database?: string;
  username?: string;
  password?: string;
  /** Delay before every answer. */
  latencyMs?: number;
  faults?: FaultOptions;
  /** Session lifetime from login (default 1 day, like the lab's `[session] max_age`). */
  sessionTtlMs?: number;
  /** Receives failures of post-commit tasks (auto-processing after confirm). */
  log?: (line: string) => void;
  /** Clock override (sale dates, write dates, fiscal year of posted invoices). */
  now?: () => Date;
  /** The trytond series to imitate: "6.0" (default) or "7.0" (docs/tryton-versions.md). */
  series?: TrytonSeries;
  /**
   * Imitate `[queue] worker = True`: `confirm` leaves the sale `confirmed` and `process` runs
   * `workerDelayMs` (default 100) later, outside the request, as trytond-worker does.
   */
  worker?: boolean;
  workerDelayMs?: number;
}

/** Direct access to the in-memory tables, for assertions (no HTTP, no counters). */
export interface TrytonSimDb {
  /** Rows of a model as stored (Decimals as strings, dates as `YYYY-MM-DD`), by id. */
  rows(model: string): Array<Record<string, unknown>>;
  get(model: string, id: number): Record<string, unknown> | undefined;
  count(model: string): number;
  /**
   * Call a model method as the admin in the company context, as the server would, and get
   * the JSON result (Decimals stay `{__class__: "Decimal", …}`): `call("sale.sale", "read", [[1], ["state"]])`.
   */
  call(model: string, method: string, args: unknown[], context?: Record<string, unknown>): unknown;
}

export interface TrytonSimulator {
  /** Server root, e.g. `http://127.0.0.1:41234` (no database part, no trailing slash). */
  url: string;
  series: TrytonSeries;
  worker: boolean;
  database: string;
  username: string;
  password: string;
  fixtures: TrytonFixtures;
  /** Requests per JSON-RPC method (`model.sale.sale.create`: 3, …). */
  counters: Record<string, number>;
  /** Failures of post-commit tasks (what the real server only logs). */
  taskErrors: string[];
  /** With `worker`: resolves once every queued task has run (at once without a worker). */
  settle(): Promise<void>;
  /** Invalidate every session: the next authenticated call gets HTTP 401. */
  expireSessions(): void;
  setFaults(faults: FaultOptions | undefined): void;
  setLatency(ms: number): void;
  resetCounters(): void;
  /** What a payment would do on a real server (pay wizard): posted invoices become paid. */
  payInvoices(ids: number[]): void;
  db: TrytonSimDb;
  stop(): Promise<void>;
}

/** mulberry32: small, seedable, good enough for fault dice. */
function dice(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function startTrytonSimulator(options: TrytonSimulatorOptions = {}): Promise<TrytonSimulator> {
  const database = options.database ?? "orderbridge";
  const username = options.username ?? "admin";
  const password = options.password ?? "admin";
  const sim = new TrytonSim({
    database,
    username,
    password,
    sessionTtlMs: options.sessionTtlMs ?? 86_400_000,
    log: options.log,
    now: options.now,
    series: options.series,
    worker: options.worker,
    workerDelayMs: options.workerDelayMs,
  });
  let latencyMs = options.latencyMs ?? 0;
  let faults = options.faults;
  let roll = dice(faults?.seed ?? 1);
  const sockets = new Set<Socket>();

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void (async () => {
        if (faults && faults.rate > 0 && roll() < faults.rate) {
          const kinds = faults.kinds?.length ? faults.kinds : (["500", "503", "reset"] as FaultKind[]);
          const kind = kinds[Math.floor(roll() * kinds.length)]!;
          if (kind === "reset") {
            req.socket.destroy();
            return;
          }
          if (kind === "slow") await sleep(faults.slowMs ?? 2000);
          else {
            await sleep(latencyMs);
            const status = Number(kind);
            res.writeHead(status, { "Content-Type": "text/html; charset=utf-8" });
            res.end(
              `<!doctype html>\n<html lang=en>\n<title>${status}</title>\n<h1>Injected fault</h1>\n<p>simulated HTTP ${status}</p>\n`,
            );
            return;
          }
        }
        const headers: Record<string, string | undefined> = {};
        for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(", ") : v;
        const reply = sim.handle(
          req.method ?? "GET",
          req.url ?? "/",
          headers,
          Buffer.concat(chunks).toString("utf8"),
        );
        if (latencyMs > 0) await sleep(latencyMs);
        if (res.destroyed) return;
        res.writeHead(reply.status, { ...reply.headers, "Content-Length": Buffer.byteLength(reply.body) });
        res.end(reply.body);
      })();
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;

  const db: TrytonSimDb = {
    rows: (model) => [...sim.store.table(model).values()].sort((a, b) => a.id - b.id).map((r) => plainRow(r)),
    get: (model, id) => {
      const row = sim.store.get(model, id);
      return row ? plainRow(row) : undefined;
    },
    count: (model) => sim.store.table(model).size,
    call: (model, method, args, context) => {
      const admin = sim.user(1);
      const decoded = decodeParams(args) as unknown[];
      return sim.run(admin, { company: admin.company, ...(context ?? {}) }, (env) =>
        callModel(env, model, method, decoded),
      );
    },
  };

  return {
    url: `http://${host}:${address.port}`,
    series: sim.profile.series,
    worker: Boolean(options.worker),
    database,
    username,
    password,
    fixtures: sim.fixtures,
    counters: sim.counters,
    taskErrors: sim.taskErrors,
    settle: () => sim.settle(),
    expireSessions: () => sim.expireSessions(),
    setFaults: (f) => {
      faults = f;
      roll = dice(f?.seed ?? 1);
    },
    setLatency: (ms) => {
      latencyMs = ms;
    },
    resetCounters: () => sim.resetCounters(),
    payInvoices: (ids) => sim.payInvoices(ids),
    db,
    stop: () =>
      new Promise<void>((resolve) => {
        sim.stopWorker();
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export { Dec };
