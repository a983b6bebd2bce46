/**
 * Shared pieces of the packaging tests: the npm tarball, a fresh userDir with the tarball
 * installed as a user would, the toolchains of the matrix (Node-RED 4.1 and 5.x, each on Node 22
 * and 24: Node from scripts/node.sh in `.tmp/node-<major>`, Node-RED 5 in `.tmp/nr5`, both
 * installed from the npm registry outside this package, once), and a minimal Node-RED launcher
 * that works with any Node binary and any Node-RED install.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "../../src/sandbox/node-red-runtime";

const NPM = process.platform === "win32" ? "npm.cmd" : "npm";
export const CI = /^(1|true|yes)$/i.test(process.env.CI ?? "");

export interface PackManifest {
  name: string;
  version: string;
  "node-red": { nodes?: Record<string, string>; plugins?: Record<string, string> };
}

export function manifest(root = REPO_ROOT): PackManifest {
  return JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as PackManifest;
}

/** Every file package.json declares for Node-RED (nodes and plugins, .js and .html) that is missing. */
export function missingDeclaredFiles(root = REPO_ROOT): string[] {
  const nr = manifest(root)["node-red"];
  const files = [...Object.values(nr.nodes ?? {}), ...Object.values(nr.plugins ?? {})];
  return files
    .flatMap((f) => [f, f.replace(/\.c?js$/, ".html")])
    .filter((f) => !existsSync(path.join(root, f)));
}

let pluginChecked = false;
/**
 * The plugin's editor half is `plugins/<name>.html`, copied beside the compiled
 * `dist/plugins/<name>.js` by the build. Builds once when anything declared is missing.
 */
export function ensurePluginBuilt(): void {
  if (pluginChecked) return;
  if (missingDeclaredFiles().length > 0) {
    run(process.execPath, [path.join(REPO_ROOT, "scripts", "build.mjs")], { cwd: REPO_ROOT });
  }
  const missing = missingDeclaredFiles();
  if (missing.length > 0) {
    throw new Error(
      `the build did not produce ${missing.join(", ")}` +
        (missing.some((f) => f.startsWith("dist/plugins/") && f.endsWith(".html"))
          ? " (scripts/build.mjs must copy plugins/ to dist/plugins/)"
          : ""),
    );
  }
  pluginChecked = true;
}

export function run(
  cmd: string,
  args: string[],
  opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): string {
  const res = spawnSync(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    encoding: "utf8",
    maxBuffer: 64 << 20,
    timeout: opts.timeoutMs ?? 300_000,
  });
  if (res.status !== 0)
    throw failure(cmd, args, res.status ?? res.signal ?? res.error, `${res.stdout ?? ""}${res.stderr ?? ""}`);
  return res.stdout;
}

/** `npm pack` of the built package into `dir` (no lifecycle scripts: the build already ran). */
export function packTarball(dir: string): string {
  const out = run(NPM, ["pack", "--ignore-scripts", "--json", "--pack-destination", dir], { cwd: REPO_ROOT });
  const [{ filename }] = JSON.parse(out) as Array<{ filename: string }>;
  return path.join(dir, path.basename(filename));
}

/** A fresh userDir with the tarball installed the way `npm install <tgz>` in ~/.node-red does. */
export function installTarball(userDir: string, tarball: string): void {
  mkdirSync(userDir, { recursive: true });
  writeFileSync(
    path.join(userDir, "package.json"),
    JSON.stringify({
      name: "node-red-project",
      description: "A Node-RED Project",
      version: "0.0.1",
      private: true,
    }),
  );
  run(NPM, ["install", tarball, "--omit=dev", "--no-audit", "--no-fund", "--prefer-offline"], {
    cwd: userDir,
  });
}

export interface Toolchain {
  node: string;
  redJs: string;
  nodeVersion: string;
  nodeRedVersion: string;
}

/** One cell of the packaging matrix: a Node-RED line on a Node major. */
export interface ToolchainSpec {
  nodeRed: "4.1" | "5";
  node: 22 | 24;
}

export const MATRIX: ToolchainSpec[] = [
  { nodeRed: "4.1", node: 22 },
  { nodeRed: "4.1", node: 24 },
  { nodeRed: "5", node: 22 },
  { nodeRed: "5", node: 24 },
];

/** `spawnSync`'s failure message, for `run` and `runAsync`. */
function failure(cmd: string, args: string[], why: unknown, output: string): Error {
  const out = output.trim().split("\n").slice(-40).join("\n");
  return new Error(`${cmd} ${args.join(" ")} failed (${String(why)}):\n${out}`);
}

/** `run` without blocking, so that several toolchains install side by side. */
function runAsync(cmd: string, args: string[], opts: { cwd: string; timeoutMs: number }): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      stdio: ["ignore", "pipe", "pipe"],
      timeout: opts.timeoutMs,
    });
    let stdout = "";
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => ((stdout += c), (output += c)));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (output += c));
    child.once("error", (err) => reject(failure(cmd, args, err, output)));
    child.once("close", (code, signal) =>
      code === 0 ? resolve(stdout) : reject(failure(cmd, args, signal ?? code, output)),
    );
  });
}

const versionOf = (redJs: string): string =>
  (JSON.parse(readFileSync(path.join(path.dirname(redJs), "package.json"), "utf8")) as { version: string })
    .version;

const once = new Map<string, Promise<string>>();
/** The promise of `key`, made once; a rejection is handled here too (it is awaited later, or never). */
function memo(key: string, make: () => Promise<string>): Promise<string> {
  let p = once.get(key);
  if (!p) {
    p = make();
    p.catch(() => undefined);
    once.set(key, p);
  }
  return p;
}

/** The `node` binary of a major version: scripts/node.sh installs it into .tmp/node-<major> once. */
function nodeBinary(major: number): Promise<string> {
  return memo(`node ${major}`, async () => {
    const bin = (
      await runAsync("bash", [path.join(REPO_ROOT, "scripts", "node.sh"), String(major)], {
        cwd: REPO_ROOT,
        timeoutMs: 600_000,
      })
    ).trim();
    return path.join(bin, "node");
  });
}

export const NR5_DIR = path.join(REPO_ROOT, ".tmp", "nr5");

/**
 * red.js of a Node-RED line: 4.1 is this package's dev dependency; 5.x is installed into
 * .tmp/nr5 once (from the npm registry, outside this package) and reused.
 */
function nodeRedInstall(line: ToolchainSpec["nodeRed"]): Promise<string> {
  if (line === "4.1") return Promise.resolve(require.resolve("node-red/red.js", { paths: [REPO_ROOT] }));
  return memo("node-red 5", async () => {
    const redJs = path.join(NR5_DIR, "node_modules", "node-red", "red.js");
    const ready = () => existsSync(redJs) && /^5\./.test(versionOf(redJs));
    if (!ready()) {
      mkdirSync(NR5_DIR, { recursive: true });
      writeFileSync(
        path.join(NR5_DIR, "package.json"),
        JSON.stringify({ name: "orderbridge-node-red-5", private: true }),
      );
      await runAsync(NPM, ["install", "node-red@5", "--no-audit", "--no-fund", "--prefer-offline"], {
        cwd: NR5_DIR,
        timeoutMs: 600_000,
      });
      if (!ready()) throw new Error(`npm install node-red@5 in ${NR5_DIR} gave no Node-RED 5`);
    }
    return redJs;
  });
}

/**
 * A cell of the matrix, installed when missing (Node from scripts/node.sh, Node-RED 5 into
 * .tmp/nr5); rejects with npm's output when it cannot be installed. Every install starts at the
 * first call, so calling this for the whole matrix at once installs everything side by side.
 */
export async function toolchain(spec: ToolchainSpec): Promise<Toolchain> {
  const [node, redJs] = await Promise.all([nodeBinary(spec.node), nodeRedInstall(spec.nodeRed)]);
  const nodeVersion = (await runAsync(node, ["--version"], { cwd: REPO_ROOT, timeoutMs: 60_000 })).trim();
  return { node, redJs, nodeVersion, nodeRedVersion: versionOf(redJs) };
}

export interface RunningNodeRed {
  url: string;
  pid: number;
  logs(): string[];
  stop(): Promise<void>;
}

/**
 * Starts `redJs` with `node` on `userDir` (127.0.0.1, a free port, no flows) and resolves once
 * "Started flows" is logged; rejects with the log on exit, missing types or timeout.
 * Runs in its own process group, stopped by PID (SIGTERM, then SIGKILL).
 */
export function startPlainNodeRed(
  tool: Toolchain,
  userDir: string,
  timeoutMs = 240_000, // Node 22 + Node-RED 5 cold start took over 90 s on a loaded 2-core machine
): Promise<RunningNodeRed> {
  const settings = path.join(userDir, "settings.js");
  writeFileSync(
    settings,
    `module.exports = ${JSON.stringify(
      {
        uiHost: "127.0.0.1",
        flowFile: "flows.json",
        credentialSecret: "packaging-test",
        telemetry: { enabled: false },
        diagnostics: { enabled: false, ui: false },
        logging: { console: { level: "info", metrics: false, audit: false } },
        editorTheme: { tours: false, projects: { enabled: false }, palette: { catalogues: [] } },
        externalModules: { palette: { allowInstall: false, allowUpload: false } },
      },
      null,
      2,
    )};\n`,
  );
  const child = spawn(tool.node, [tool.redJs, "-u", userDir, "-s", settings, "--port", "0"], {
    cwd: userDir,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NODE_RED_DISABLE_TELEMETRY: "1", NODE_OPTIONS: "" },
  });
  const pid = child.pid;
  if (pid === undefined) return Promise.reject(new Error("could not spawn Node-RED"));
  const lines: string[] = [];
  let exited: Promise<void> | null = new Promise((resolve) => child.once("exit", () => resolve()));
  let alive = true;
  void exited.then(() => (alive = false));
  const kill = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      // already gone
    }
  };
  const stop = async () => {
    if (!exited) return;
    const done = exited;
    exited = null;
    if (alive) {
      kill("SIGTERM");
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([done, new Promise((r) => (timer = setTimeout(r, 10_000)))]);
      clearTimeout(timer);
      if (alive) {
        kill("SIGKILL");
        await done;
      }
    }
    child.stdout?.destroy();
    child.stderr?.destroy();
  };
  return new Promise((resolve, reject) => {
    let url = "";
    let started = false;
    const fail = (why: string) => {
      clearTimeout(timer);
      void stop().then(() =>
        reject(new Error(`${why}\n--- Node-RED log ---\n${lines.slice(-60).join("\n")}`)),
      );
    };
    const timer = setTimeout(() => fail(`timed out after ${timeoutMs} ms starting Node-RED`), timeoutMs);
    const onLine = (line: string) => {
      lines.push(line);
      const m = /Server now running at (https?:\/\/[^\s/]+(?::\d+)?)/.exec(line);
      if (m) url = m[1];
      // Either line may come first (the HTTP server and the flows start side by side).
      started ||= /\[info\] Started flows/.test(line);
      if (/Waiting for missing types/.test(line)) fail("Node-RED is waiting for missing node types");
      else if (started && url) {
        clearTimeout(timer);
        resolve({ url, pid, logs: () => [...lines], stop });
      }
    };
    for (const stream of [child.stdout, child.stderr]) {
      let buf = "";
      stream?.setEncoding("utf8");
      stream?.on("data", (chunk: string) => {
        buf += chunk;
        let i: number;
        while ((i = buf.indexOf("\n")) >= 0) {
          onLine(buf.slice(0, i));
          buf = buf.slice(i + 1);
        }
      });
    }
    child.once("exit", (code, signal) => setTimeout(() => fail(`Node-RED exited (${signal ?? code})`), 50));
  });
}
