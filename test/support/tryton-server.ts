/**
 * A real Tryton 6.0 server for a mocha run, provisioned by `scripts/tryton.sh`:
 * installed when missing (root only), restored from the template snapshot (or built once),
 * started on a free port on 127.0.0.1, and stopped by PID when the run ends.
 *
 *   const server = await realTrytonServer();   // undefined = skipped (never with CI=true)
 *
 * Provisioning happens once per mocha process (a shared promise); each process gets its
 * own instance directory, so two test runs on one machine never share a server.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { isAlive, sweepStaleInstances } from "../../src/sandbox/processes";

export interface TrytonFixtures {
  database: string;
  company: number;
  companyParty: number;
  companyCurrency: number;
  currency: Record<"USD" | "EUR" | "GBP" | "JPY", number>;
  country: Record<"US" | "DE" | "GB" | "FR" | "JP", number>;
  subdivision: Record<string, number>;
  unit: number;
  warehouse: number;
  accounts: Record<"receivable" | "payable" | "tax" | "revenue" | "expense", number>;
  accountTypes: Record<"receivable" | "payable" | "tax" | "revenue" | "expense", number>;
  paymentTerm: number;
  fiscalYears: Record<string, number>;
  accountCategory: number;
  tax: Record<"us_ca_sales_8_25" | "de_vat_19" | "de_vat_7" | "gb_vat_20", number>;
  products: Record<"shipping" | "sampleGoods", { template: number; product: number; code: string }>;
  customer: { party: number; address: number };
  users: { admin: number; clerk: { id: number; login: string; password: string } };
}

export interface RealTrytonServer {
  kind: "real";
  url: string;
  database: string;
  username: string;
  password: string;
  fixtures: TrytonFixtures;
  pid: number;
  /** Put the database back to the snapshot (server restarted on the same port). */
  reset(): Promise<void>;
}

const repo = path.resolve(__dirname, "..", "..");
const script = path.join(repo, "scripts", "tryton.sh");
const stateDir = process.env.TRYTON_STATE_DIR ?? path.join(repo, ".tmp", "tryton");
const runsDir = path.join(stateDir, "runs");
const instanceDir = path.join(runsDir, `mocha-${process.pid}`);
const isCI = /^(1|true|yes)$/i.test(process.env.CI ?? "");

interface ServerJson {
  url: string;
  database: string;
  username: string;
  passwordFile: string;
  pid: number;
  fixturesFile: string;
}

let provisioning: Promise<RealTrytonServer | undefined> | undefined;
let runningPid: number | undefined;

function run(args: string[], env: Record<string, string> = {}): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      "bash",
      [script, ...args],
      {
        cwd: repo,
        env: { ...process.env, TRYTON_INSTANCE: instanceDir, ...env },
        timeout: 15 * 60_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        if (err) {
          const tail = stderr.trim().split("\n").slice(-15).join("\n");
          reject(new Error(`scripts/tryton.sh ${args.join(" ")} failed (exit ${err.code ?? "?"}):\n${tail}`));
        } else resolve({ stdout, stderr });
      },
    );
  });
}

function readServerJson(): ServerJson {
  return JSON.parse(readFileSync(path.join(instanceDir, "server.json"), "utf8")) as ServerJson;
}

async function provision(): Promise<RealTrytonServer> {
  sweepStaleInstances(runsDir, "mocha");
  const started = Date.now();
  const { stderr } = await run(["up"]);
  const info = readServerJson();
  runningPid = info.pid;
  if (process.env.TRYTON_VERBOSE) process.stderr.write(stderr);
  console.log(
    `      [tryton] real Tryton at ${info.url} (pid ${info.pid}) ready in ${Date.now() - started} ms`,
  );
  const server: RealTrytonServer = {
    kind: "real",
    url: info.url,
    database: info.database,
    username: info.username,
    password: readFileSync(info.passwordFile, "utf8").split("\n")[0] ?? "",
    fixtures: JSON.parse(readFileSync(info.fixturesFile, "utf8")) as TrytonFixtures,
    pid: info.pid,
    async reset() {
      const port = new URL(server.url).port;
      await run(["restore"], { TRYTON_PORT: port });
      const again = readServerJson();
      server.pid = runningPid = again.pid;
      server.url = again.url;
    },
  };
  return server;
}

/**
 * The shared real server of this mocha run. Resolves undefined when it cannot be
 * provisioned outside CI (after printing a SKIPPED line); with CI=true it rejects.
 */
export function realTrytonServer(): Promise<RealTrytonServer | undefined> {
  provisioning ??= provision().catch((err: unknown) => {
    const reason = err instanceof Error ? err.message : String(err);
    if (isCI) throw new Error(`CI=true and no real Tryton server could be provisioned: ${reason}`);
    console.warn(
      `\n  SKIPPED real Tryton tests: cannot provision a Tryton 6.0 server.\n  ${reason.replace(/\n/g, "\n  ")}\n`,
    );
    return undefined;
  });
  return provisioning;
}

/** Stop the server of this run (by PID, via the script) and remove its instance directory. */
export async function stopRealTrytonServer(): Promise<void> {
  if (!provisioning) return;
  const server = await provisioning.catch(() => undefined);
  provisioning = undefined;
  if (!server && runningPid === undefined) return;
  try {
    await run(["clean"]);
  } finally {
    runningPid = undefined;
  }
}

// Root-level hook: registered when a spec first imports this module, runs once at the end.
if (typeof after === "function") {
  after(async function () {
    this.timeout(30_000);
    await stopRealTrytonServer();
  });
}

// Last resort when mocha exits without running root hooks (crash, bail, Ctrl-C).
process.once("exit", () => {
  if (runningPid !== undefined && isAlive(runningPid)) {
    try {
      process.kill(runningPid, "SIGTERM");
    } catch {
      // already gone
    }
  }
});
