/**
 * Run a real Node-RED (the `node-red` CLI from devDependencies) with this pack installed,
 * for the end-to-end tests and the `npm start` demo. Pure Node: nothing here imports node-red.
 *
 * - The userDir gets `node_modules/@orderbridge/node-red-order-sync` as a symlink to the repo
 *   root, so the repo must be built (`dist/`).
 * - settings.js is generated on every start (127.0.0.1 only, no tours, no projects, no palette
 *   catalogue, no telemetry, no palette installs); the credential secret is kept in the userDir
 *   so a restart on the same userDir can still decrypt flows_cred.json.
 * - Ready means "Started flows" in the log; "Waiting for missing types" or an early exit fail
 *   fast with the log in the error.
 * - Flows are deployed through the admin API v2 (full deployment) and `deploy` resolves only
 *   once the new flows run (one more "Started flows" line).
 * - Processes run in their own process group and are stopped by PID: SIGTERM, then SIGKILL.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { lstatSync, readlinkSync, unlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export const PACK_NAME = "@orderbridge/node-red-order-sync";
/** Repository root (this file is `src/sandbox/…` or `dist/sandbox/…`). */
export const REPO_ROOT = path.resolve(__dirname, "..", "..");

export type FlowNode = Record<string, unknown> & { id: string; type: string };

export interface StartNodeRedOptions {
  /** Node-RED userDir; a fresh temp dir (removed again by `stop`) when omitted. */
  userDir?: string;
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Flows deployed once Node-RED runs (admin API, full deployment). */
  flows?: object[];
  /** Credentials by node id, merged into `flows` at deploy time (stored encrypted by Node-RED). */
  credentials?: Record<string, object>;
  /** Extra settings, deep-merged over the generated ones (functions allowed). */
  settings?: Record<string, unknown>;
  /** Use the localfilesystem context store (flushed every second) as the default store. */
  persistentContext?: boolean;
  /** Extra environment variables for the Node-RED process. */
  env?: Record<string, string>;
  /** Options for the node binary itself, before Node-RED's script (e.g. `--trace-gc`, which NODE_OPTIONS refuses). */
  nodeArgs?: string[];
  /** Receives every log line of the Node-RED process as it arrives. */
  log?: (line: string) => void;
  /** Install this pack into the userDir (default true); the repo must be built. */
  installPack?: boolean;
  /** Remove the userDir on `stop` (default: only when it was created here). */
  removeUserDir?: boolean;
  /** How long to wait for "Started flows" (default 240 s, a cap far above a start on a busy machine; a missing type or an exit fails at once). */
  startTimeoutMs?: number;
}

export interface NodeRedInstance {
  /** Editor / admin API root, e.g. `http://127.0.0.1:41234` (no trailing slash). */
  url: string;
  port: number;
  pid: number;
  userDir: string;
  /** Full deployment through the admin API; resolves once the new flows run. */
  deploy(flows: object[], credentials?: Record<string, object>): Promise<void>;
  /** Every log line so far (a copy). */
  logs(): string[];
  /** SIGTERM (or `signal`) to the process group, SIGKILL after 10 s; removes a temp userDir. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** SIGKILL at once (a crash); keeps the userDir. */
  kill9(): Promise<void>;
}

const STARTED = /\[info\] Started flows/;
const MISSING = /Waiting for missing types/;
const RUNNING = /Server now running at (https?:\/\/[^\s/]+(?::\d+)?)/;

/** Process groups still alive, killed when this process exits whatever the reason. */
const live = new Set<number>();
/** Temp userDirs to remove when this process exits before `stop` did. */
const tempDirs = new Set<string>();
let exitHookInstalled = false;
function killAllNow(): void {
  for (const pid of live) killGroup(pid, "SIGKILL");
  for (const dir of tempDirs) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // best effort at exit
    }
  }
}
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", killAllNow);
  // Node-RED runs in its own process group, so a Ctrl-C on the terminal does not reach it. When
  // nobody else handles the signal, clean up and die of it as the default action would.
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    const onSignal = () => {
      if (process.listenerCount(signal) > 1) return; // the host handles it (e.g. the demo)
      killAllNow();
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    try {
      process.kill(pid, signal);
      return true;
    } catch {
      return false;
    }
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return (
    typeof v === "object" && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype
  );
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = isPlainObject(v) && isPlainObject(out[k]) ? deepMerge(out[k] as Record<string, unknown>, v) : v;
  }
  return out;
}

/** Serialise settings as a JS expression: JSON plus functions (by source) and RegExps. */
function toJs(value: unknown, indent = ""): string {
  if (typeof value === "function") return value.toString();
  if (value instanceof RegExp) return value.toString();
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    const inner = indent + "  ";
    return `[\n${value.map((v) => inner + toJs(v, inner)).join(",\n")}\n${indent}]`;
  }
  if (isPlainObject(value)) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return "{}";
    const inner = indent + "  ";
    return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${toJs(v, inner)}`).join(",\n")}\n${indent}}`;
  }
  return JSON.stringify(value) ?? "undefined";
}

/** The pack's node files (package.json `node-red.nodes`) that are missing, i.e. "not built". */
export function missingBuildFiles(root = REPO_ROOT): string[] {
  const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as {
    "node-red"?: { nodes?: Record<string, string> };
  };
  const files = Object.values(pkg["node-red"]?.nodes ?? {});
  const missing: string[] = [];
  for (const f of files) {
    if (!existsSync(path.join(root, f))) missing.push(f);
    const html = f.replace(/\.c?js$/, ".html");
    if (!existsSync(path.join(root, html))) missing.push(html);
  }
  return missing;
}

function linkPack(userDir: string): void {
  const scopeDir = path.join(userDir, "node_modules", "@orderbridge");
  mkdirSync(scopeDir, { recursive: true });
  const link = path.join(scopeDir, "node-red-order-sync");
  try {
    const st = lstatSync(link);
    if (st.isSymbolicLink() && path.resolve(scopeDir, readlinkSync(link)) === REPO_ROOT) return;
    if (st.isSymbolicLink()) unlinkSync(link);
    else rmSync(link, { recursive: true, force: true });
  } catch {
    // not there yet
  }
  symlinkSync(REPO_ROOT, link, "dir");
}

function credentialSecret(userDir: string): string {
  const file = path.join(userDir, ".orderbridge-credential-secret");
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  const secret = randomBytes(24).toString("hex");
  writeFileSync(file, secret + "\n", { mode: 0o600 });
  return secret;
}

function buildSettings(userDir: string, opts: StartNodeRedOptions): Record<string, unknown> {
  const base: Record<string, unknown> = {
    uiHost: "127.0.0.1",
    flowFile: "flows.json",
    credentialSecret: credentialSecret(userDir),
    userDir,
    telemetry: { enabled: false },
    diagnostics: { enabled: false, ui: false },
    logging: { console: { level: "info", metrics: false, audit: false } },
    editorTheme: {
      tours: false,
      projects: { enabled: false },
      palette: { catalogues: [] },
    },
    externalModules: { palette: { allowInstall: false, allowUpload: false } },
  };
  if (opts.persistentContext) {
    base.contextStorage = {
      default: { module: "localfilesystem", config: { flushInterval: 1 } },
      memory: { module: "memory" },
    };
  }
  return deepMerge(base, opts.settings ?? {});
}

function nodeRedCli(): string {
  return require.resolve("node-red/red.js", { paths: [REPO_ROOT] });
}

/** Merge `credentials` (by node id) into a copy of the flows. */
function withCredentials(flows: object[], credentials?: Record<string, object>): object[] {
  if (!credentials) return flows;
  return flows.map((n) => {
    const id = (n as { id?: unknown }).id;
    if (typeof id !== "string" || !credentials[id]) return n;
    const own = (n as { credentials?: object }).credentials ?? {};
    return { ...n, credentials: { ...own, ...credentials[id] } };
  });
}

function errorWithLog(message: string, lines: string[]): Error {
  const tail = lines.slice(-60).join("\n");
  return new Error(`${message}\n--- Node-RED log (last ${Math.min(60, lines.length)} lines) ---\n${tail}`);
}

export async function startNodeRed(opts: StartNodeRedOptions = {}): Promise<NodeRedInstance> {
  const created = !opts.userDir;
  const userDir = path.resolve(opts.userDir ?? mkdtempSync(path.join(os.tmpdir(), "orderbridge-nr-")));
  const removeUserDir = opts.removeUserDir ?? created;
  mkdirSync(userDir, { recursive: true });

  if (removeUserDir) tempDirs.add(userDir);
  installExitHook();
  const cleanupDir = () => {
    if (!removeUserDir) return;
    rmSync(userDir, { recursive: true, force: true });
    tempDirs.delete(userDir);
  };

  try {
    if (opts.installPack !== false) {
      const missing = missingBuildFiles();
      if (missing.length > 0) {
        throw new Error(
          `The pack is not built (missing ${missing.join(", ")}): run \`npm run build\` first.`,
        );
      }
      linkPack(userDir);
    }
    const settingsFile = path.join(userDir, "settings.js");
    writeFileSync(
      settingsFile,
      `// Generated by src/sandbox/node-red-runtime.ts; rewritten on every start.\nmodule.exports = ${toJs(
        buildSettings(userDir, opts),
      )};\n`,
    );
  } catch (err) {
    cleanupDir();
    throw err;
  }

  const lines: string[] = [];
  const listeners = new Set<(line: string) => void>();
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...(opts.nodeArgs ?? []),
      nodeRedCli(),
      "-u",
      userDir,
      "-s",
      path.join(userDir, "settings.js"),
      "--port",
      String(opts.port ?? 0),
    ],
    {
      cwd: userDir,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NODE_RED_DISABLE_TELEMETRY: "1", ...opts.env },
    },
  );
  const pid = child.pid;
  if (pid === undefined) {
    cleanupDir();
    throw new Error("could not spawn Node-RED");
  }
  live.add(pid);

  let exited = false;
  let exitInfo = "";
  const exitPromise = new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => {
      exited = true;
      exitInfo = signal ? `signal ${signal}` : `code ${code}`;
      live.delete(pid);
      resolve();
    });
  });

  const onLine = (line: string) => {
    lines.push(line);
    opts.log?.(line);
    for (const l of listeners) l(line);
  };
  for (const stream of [child.stdout, child.stderr]) {
    let buf = "";
    stream?.setEncoding("utf8");
    stream?.on("data", (chunk: string) => {
      buf += chunk;
      let i: number;
      while ((i = buf.indexOf("\n")) >= 0) {
        onLine(buf.slice(0, i).replace(/\r$/, ""));
        buf = buf.slice(i + 1);
      }
    });
    stream?.on("end", () => {
      if (buf) onLine(buf);
      buf = "";
    });
  }

  const countStarted = () => lines.filter((l) => STARTED.test(l)).length;

  /** Wait until `done()` holds, failing on missing types, process exit or timeout. */
  const waitFor = (what: string, done: () => boolean, timeoutMs: number, missingFrom = 0): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const finish = (err?: Error) => {
        clearTimeout(timer);
        listeners.delete(check);
        child.off("exit", onExit);
        if (err) reject(err);
        else resolve();
      };
      const check = () => {
        if (lines.slice(missingFrom).some((l) => MISSING.test(l))) {
          finish(errorWithLog(`Node-RED is waiting for missing node types while ${what}`, lines));
        } else if (done()) finish();
      };
      // let the last output arrive before reporting
      const onExit = () =>
        setTimeout(() => finish(errorWithLog(`Node-RED exited (${exitInfo}) while ${what}`, lines)), 50);
      const timer = setTimeout(
        () => finish(errorWithLog(`timed out after ${timeoutMs} ms while ${what}`, lines)),
        timeoutMs,
      );
      if (exited) {
        onExit();
        return;
      }
      listeners.add(check);
      child.once("exit", onExit);
      check();
    });

  let stopped: Promise<void> | undefined;
  const terminate = (signal: NodeJS.Signals, graceMs: number): Promise<void> => {
    if (!stopped) {
      stopped = (async () => {
        if (!exited) {
          killGroup(pid, signal);
          let t: NodeJS.Timeout | undefined;
          const timeout = new Promise<void>((r) => (t = setTimeout(r, graceMs)));
          await Promise.race([exitPromise, timeout]);
          if (t) clearTimeout(t);
          if (!exited) {
            killGroup(pid, "SIGKILL");
            await exitPromise;
          }
        }
        // the group may hold other processes (none expected): make sure they are gone too
        killGroup(pid, "SIGKILL");
        live.delete(pid);
        child.stdout?.destroy();
        child.stderr?.destroy();
      })();
    }
    return stopped;
  };

  let url = "";
  let port = 0;
  try {
    await waitFor(
      "starting",
      () => {
        if (!url) {
          const m = lines.map((l) => RUNNING.exec(l)).find((x) => x);
          if (m) {
            url = m[1];
            port = Number(new URL(url).port);
          }
        }
        return url !== "" && countStarted() > 0;
      },
      opts.startTimeoutMs ?? 240_000,
    );
  } catch (err) {
    await terminate("SIGKILL", 0);
    cleanupDir();
    throw err;
  }

  const api = async (method: string, route: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(url + route, {
      method,
      headers: {
        "Node-RED-API-Version": "v2",
        ...(body !== undefined ? { "Content-Type": "application/json" } : {}),
        ...headers,
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    if (!res.ok) throw errorWithLog(`${method} ${route} → HTTP ${res.status}: ${text.slice(0, 500)}`, lines);
    return text ? (JSON.parse(text) as unknown) : undefined;
  };

  const deploy = async (flows: object[], credentials?: Record<string, object>): Promise<void> => {
    if (exited) throw errorWithLog(`Node-RED is not running (${exitInfo})`, lines);
    const current = (await api("GET", "/flows")) as { rev?: string };
    const before = countStarted();
    const from = lines.length;
    await api(
      "POST",
      "/flows",
      { rev: current?.rev, flows: withCredentials(flows, credentials) },
      { "Node-RED-Deployment-Type": "full" },
    );
    await waitFor("deploying flows", () => countStarted() > before, 120_000, from);
  };

  const instance: NodeRedInstance = {
    url,
    port,
    pid,
    userDir,
    deploy,
    logs: () => [...lines],
    stop: async (signal: NodeJS.Signals = "SIGTERM") => {
      await terminate(signal, 10_000);
      cleanupDir();
    },
    kill9: async () => {
      await terminate("SIGKILL", 0);
    },
  };

  if (opts.flows) {
    try {
      await deploy(opts.flows, opts.credentials);
    } catch (err) {
      await instance.stop("SIGKILL");
      throw err;
    }
  }
  return instance;
}
