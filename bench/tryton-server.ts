/**
 * The real Tryton 6.0 server of one bench run, through `scripts/tryton.sh` (as the tests do):
 * its own instance directory under `.tmp/tryton/runs/bench-<pid>`, started from the template
 * snapshot, put back to the snapshot between measurements (`restore`), and stopped by PID at
 * the end (`clean`), also when the bench dies.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { isAlive, sweepStaleInstances } from "../src/sandbox/processes";

export interface BenchTrytonFixtures {
  company: number;
  accounts: Record<"receivable" | "payable" | "tax" | "revenue" | "expense", number>;
  tax: Record<"us_ca_sales_8_25" | "de_vat_19" | "de_vat_7" | "gb_vat_20", number>;
}

export interface BenchTrytonServer {
  url: string;
  database: string;
  username: string;
  password: string;
  fixtures: BenchTrytonFixtures;
  pid: number;
  /** Database back to the template snapshot (the server restarts on the same port). */
  restore(): Promise<void>;
  /** Stop by PID and remove the instance directory. */
  stop(): Promise<void>;
}

interface ServerJson {
  url: string;
  database: string;
  username: string;
  passwordFile: string;
  pid: number;
  fixturesFile: string;
}

const repo = path.resolve(__dirname, "..");
const script = path.join(repo, "scripts", "tryton.sh");
const runsDir = path.join(process.env.TRYTON_STATE_DIR ?? path.join(repo, ".tmp", "tryton"), "runs");

export async function startTryton(log: (line: string) => void): Promise<BenchTrytonServer> {
  sweepStaleInstances(runsDir, "bench");
  const instance = path.join(runsDir, `bench-${process.pid}`);
  const run = (args: string[], env: Record<string, string> = {}) =>
    new Promise<void>((resolve, reject) => {
      execFile(
        "bash",
        [script, ...args],
        { cwd: repo, env: { ...process.env, TRYTON_INSTANCE: instance, ...env }, timeout: 15 * 60_000 },
        (err, _stdout, stderr) => {
          if (!err) return resolve();
          const tail = stderr.trim().split("\n").slice(-15).join("\n");
          reject(new Error(`scripts/tryton.sh ${args.join(" ")} failed:\n${tail}`));
        },
      );
    });
  const read = () => JSON.parse(readFileSync(path.join(instance, "server.json"), "utf8")) as ServerJson;

  let pid: number | undefined;
  const onExit = () => {
    if (pid !== undefined && isAlive(pid)) process.kill(pid, "SIGTERM");
  };
  process.once("exit", onExit);

  const started = Date.now();
  await run(["up"]);
  const info = read();
  pid = info.pid;
  log(`real Tryton 6.0 at ${info.url} (pid ${info.pid}), ready in ${Date.now() - started} ms`);
  const server: BenchTrytonServer = {
    url: info.url,
    database: info.database,
    username: info.username,
    password: readFileSync(info.passwordFile, "utf8").split("\n")[0] ?? "",
    fixtures: JSON.parse(readFileSync(info.fixturesFile, "utf8")) as BenchTrytonFixtures,
    pid: info.pid,
    async restore() {
      await run(["restore"], { TRYTON_PORT: new URL(server.url).port });
      const again = read();
      server.pid = pid = again.pid;
      server.url = again.url;
    },
    async stop() {
      try {
        await run(["clean"]);
      } finally {
        pid = undefined;
        process.removeListener("exit", onExit);
      }
    },
  };
  return server;
}
