/**
 * One real Tryton server of a test run or bench run, through `scripts/tryton.sh`: its own
 * instance (`runs/<owner>-<pid>` under the flavour's state directory), started from the
 * template snapshot, put back to the snapshot on demand (`restore`), and stopped by PID at the
 * end (`clean`: worker, server and PostgreSQL), also when the owning process exits early.
 *
 * Flavours (docs/tryton-versions.md): Tryton 6.0 on SQLite from this host's packages, Tryton
 * 7.0 LTS on SQLite and on PostgreSQL with a `trytond-worker`, both from a Debian 13 chroot.
 */
import { execFile, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "./node-red-runtime";

export const TRYTON_FLAVOURS = ["6.0-sqlite", "7.0-sqlite", "7.0-postgresql"] as const;
export type TrytonFlavour = (typeof TRYTON_FLAVOURS)[number];

export function isTrytonFlavour(value: string): value is TrytonFlavour {
  return (TRYTON_FLAVOURS as readonly string[]).includes(value);
}

/** "Tryton 7.0 on PostgreSQL with a worker", for test titles and logs. */
export function flavourTitle(flavour: TrytonFlavour): string {
  const [series, backend] = flavour.split("-") as [string, string];
  return backend === "postgresql"
    ? `Tryton ${series} on PostgreSQL with a worker`
    : `Tryton ${series} on SQLite`;
}

interface ServerJson {
  url: string;
  database: string;
  username: string;
  passwordFile: string;
  pid: number;
  fixturesFile: string;
  instance: string;
  series: string;
  backend: "sqlite" | "postgresql";
  worker: boolean;
}

export interface TrytonInstance {
  flavour: TrytonFlavour;
  /** "6.0" or "7.0", as the script set the server up (the pack asks the server itself). */
  series: string;
  backend: "sqlite" | "postgresql";
  /** Whether a `trytond-worker` runs queued tasks (`sale.process` after `confirm`). */
  worker: boolean;
  url: string;
  database: string;
  username: string;
  password: string;
  pid: number;
  /** The fixtures written by `scripts/tryton-fixtures.ts` for this instance's database. */
  fixtures: unknown;
  /** Put the database back to the template snapshot (the server restarts on the same port). */
  restore(): Promise<void>;
  /** With a worker: resolves once every queued task has run (at once without one). */
  settle(): Promise<void>;
  /** Stop worker, server and database by PID and delete the instance. */
  stop(): Promise<void>;
}

const script = path.join(REPO_ROOT, "scripts", "tryton.sh");

function runScript(flavour: TrytonFlavour, name: string, args: string[], env: Record<string, string> = {}) {
  return new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
    execFile(
      "bash",
      [script, ...args],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, TRYTON_FLAVOUR: flavour, TRYTON_INSTANCE_NAME: name, ...env },
        // From scratch 7.0 pays a debootstrap (about 3 minutes on a quiet machine).
        timeout: 20 * 60_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        if (!err) return resolve({ stdout, stderr });
        const tail = stderr.trim().split("\n").slice(-15).join("\n");
        reject(
          new Error(
            `scripts/tryton.sh ${args.join(" ")} (${flavour}) failed (exit ${err.code ?? "?"}):\n${tail}`,
          ),
        );
      },
    );
  });
}

/** The JSON object `tryton.sh up|status` prints last. */
function lastJson(stdout: string): ServerJson {
  const line = stdout
    .trim()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .pop();
  if (!line) throw new Error(`scripts/tryton.sh printed no server.json:\n${stdout}`);
  return JSON.parse(line) as ServerJson;
}

/**
 * Starts a server of the flavour for the calling process (`owner`: "mocha", "bench"), after
 * cleaning the instances of dead owners. `log` receives the script's progress lines.
 */
export async function startTrytonInstance(
  flavour: TrytonFlavour,
  owner: string,
  log: (line: string) => void = () => undefined,
): Promise<TrytonInstance> {
  const name = `${owner}-${process.pid}`;
  await runScript(flavour, name, ["sweep"]);
  let running = false;
  const onExit = () => {
    // Last resort when the process exits without stopping us (crash, bail, Ctrl-C).
    if (running)
      spawnSync("bash", [script, "clean"], {
        env: { ...process.env, TRYTON_FLAVOUR: flavour, TRYTON_INSTANCE_NAME: name },
        stdio: "ignore",
      });
  };
  process.once("exit", onExit);
  const started = Date.now();
  const { stdout, stderr } = await runScript(flavour, name, ["up"]);
  running = true;
  if (process.env.TRYTON_VERBOSE) process.stderr.write(stderr);
  const info = lastJson(stdout);
  log(`${flavourTitle(flavour)} at ${info.url} (pid ${info.pid}), ready in ${Date.now() - started} ms`);
  const instance: TrytonInstance = {
    flavour,
    series: info.series,
    backend: info.backend,
    worker: info.worker,
    url: info.url,
    database: info.database,
    username: info.username,
    password: readFileSync(info.passwordFile, "utf8").split("\n")[0] ?? "",
    pid: info.pid,
    fixtures: JSON.parse(readFileSync(info.fixturesFile, "utf8")) as unknown,
    async restore() {
      await runScript(flavour, name, ["restore"], { TRYTON_PORT: new URL(instance.url).port });
      const again = lastJson((await runScript(flavour, name, ["status"])).stdout);
      instance.pid = again.pid;
      instance.url = again.url;
    },
    async settle() {
      if (instance.worker) await runScript(flavour, name, ["settle"]);
    },
    async stop() {
      try {
        await runScript(flavour, name, ["clean"]);
      } finally {
        running = false;
        process.removeListener("exit", onExit);
      }
    },
  };
  return instance;
}
