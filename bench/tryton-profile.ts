/**
 * Where a run's time goes on the server side, for the Tryton server of this bench process
 * (instance `runs/bench-<pid>`, `bench/tryton-server.ts`):
 *  - CPU seconds the trytond server, the trytond-worker and PostgreSQL used (with their child
 *    processes: the worker's pool, PostgreSQL's backends), read from /proc by the PIDs the
 *    instance's pidfiles hold, before and after the run;
 *  - with a worker, its tasks from `ir_queue` (psql inside the 7.0 root file system, as
 *    `scripts/tryton.sh settle` reads it; `ir.queue` is not exposed over RPC): how many, how
 *    long they ran, how long they waited, and from the first start to the last finish.
 * Everything here is best effort: a figure that cannot be read is left out.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "../src/sandbox/node-red-runtime";
import type { BenchTrytonServer } from "./tryton-server";

const PG_BIN = "/usr/lib/postgresql/17/bin";
const TICKS = 100;

export interface CpuSample {
  trytond?: number;
  worker?: number;
  postgres?: number;
}

export interface QueueProfile {
  tasks: number;
  /** Sum and mean of the tasks' run time (dequeued → finished). */
  runSeconds: number;
  meanRunSeconds: number;
  /** Mean time a task waited in the queue (enqueued → dequeued). */
  meanWaitSeconds: number;
  /** From the first task's start to the last one's finish. */
  spanSeconds: number;
}

export interface ServerProfile {
  /** CPU seconds used during the run. */
  cpu: CpuSample;
  queue?: QueueProfile;
}

function instanceDir(server: BenchTrytonServer): string {
  const name = `bench-${process.pid}`;
  if (server.series === "6.0")
    return path.join(process.env.TRYTON_STATE_DIR ?? path.join(REPO_ROOT, ".tmp", "tryton"), "runs", name);
  const root = process.env.TRYTON7_ROOT ?? "/var/cache/orderbridge/tryton-7.0-trixie";
  const state = process.env.TRYTON_STATE_DIR ?? path.join(root, "srv", "orderbridge", server.flavour);
  return path.join(state, "runs", name);
}

function pidIn(dir: string, file: string): number | undefined {
  try {
    const pid = Number(readFileSync(path.join(dir, file), "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** utime + stime of every process in the tree under `root` (and its reaped children), seconds. */
function treeCpu(root: number | undefined): number | undefined {
  if (root === undefined || !existsSync(`/proc/${root}`)) return undefined;
  const stats = new Map<number, { ppid: number; cpu: number; reaped: number }>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const text = readFileSync(`/proc/${entry}/stat`, "utf8");
      const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
      // Fields after the name: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14).
      stats.set(Number(entry), {
        ppid: Number(f[1]),
        cpu: Number(f[11]) + Number(f[12]),
        reaped: Number(f[13]) + Number(f[14]),
      });
    } catch {
      // gone meanwhile
    }
  }
  let ticks = 0;
  const under = (pid: number): boolean => {
    for (let p = pid, hops = 0; p > 1 && hops < 64; hops++) {
      if (p === root) return true;
      p = stats.get(p)?.ppid ?? 0;
    }
    return false;
  };
  for (const [pid, s] of stats) if (under(pid)) ticks += s.cpu + (pid === root ? s.reaped : 0);
  return ticks / TICKS;
}

export function cpuNow(server: BenchTrytonServer): CpuSample {
  const dir = instanceDir(server);
  return {
    trytond: treeCpu(pidIn(dir, "trytond.pid") ?? server.pid),
    worker: treeCpu(pidIn(dir, "worker.pid")),
    postgres: treeCpu(pidIn(dir, "postgres.pid")),
  };
}

export function cpuSince(before: CpuSample, after: CpuSample): CpuSample {
  const d = (k: keyof CpuSample) =>
    before[k] !== undefined && after[k] !== undefined
      ? { [k]: (after[k] as number) - (before[k] as number) }
      : {};
  return { ...d("trytond"), ...d("worker"), ...d("postgres") };
}

/** The worker's tasks since the database was restored (`ir_queue` keeps finished ones). */
export function queueProfile(server: BenchTrytonServer): QueueProfile | undefined {
  if (!server.worker || server.backend !== "postgresql") return undefined;
  const dir = instanceDir(server);
  const root = process.env.TRYTON7_ROOT ?? "/var/cache/orderbridge/tryton-7.0-trixie";
  try {
    const port = readFileSync(path.join(dir, "pg.port"), "utf8").trim();
    const out = execFileSync(
      "chroot",
      [
        root,
        `${PG_BIN}/psql`,
        "-h",
        "127.0.0.1",
        "-p",
        port,
        "-U",
        "tryton",
        "-d",
        server.database,
        "-tAF",
        " ",
        "-c",
        "SELECT count(*), coalesce(sum(extract(epoch FROM finished_at - dequeued_at)), 0), " +
          "coalesce(avg(extract(epoch FROM dequeued_at - enqueued_at)), 0), " +
          "coalesce(extract(epoch FROM max(finished_at) - min(dequeued_at)), 0) FROM ir_queue WHERE finished_at IS NOT NULL",
      ],
      { encoding: "utf8", timeout: 30_000 },
    ).trim();
    const [tasks, run, wait, span] = out.split(" ").map(Number) as [number, number, number, number];
    return {
      tasks,
      runSeconds: run,
      meanRunSeconds: tasks ? run / tasks : 0,
      meanWaitSeconds: wait,
      spanSeconds: span,
    };
  } catch {
    return undefined;
  }
}
