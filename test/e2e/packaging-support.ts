/**
 * Shared pieces of the packaging tests: the npm tarball, a fresh userDir with the tarball
 * installed as a user would, a Node-RED 5 + Node 22 toolchain cached in `.tmp/nr5` (installed
 * from the npm registry with npm, outside this package), and a minimal Node-RED launcher that
 * works with any Node binary and any Node-RED install.
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
  if (res.status !== 0) {
    const out = `${res.stdout ?? ""}${res.stderr ?? ""}`.trim().split("\n").slice(-40).join("\n");
    throw new Error(`${cmd} ${args.join(" ")} failed (${res.status ?? res.signal ?? res.error}):\n${out}`);
  }
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

export function currentToolchain(): Toolchain {
  const redJs = require.resolve("node-red/red.js", { paths: [REPO_ROOT] });
  const pkg = JSON.parse(readFileSync(path.join(path.dirname(redJs), "package.json"), "utf8")) as {
    version: string;
  };
  return { node: process.execPath, redJs, nodeVersion: process.version, nodeRedVersion: pkg.version };
}

export const NR5_DIR = path.join(REPO_ROOT, ".tmp", "nr5");
const NR5_SPECS = ["node@22", "node-red@5"];

/**
 * Node-RED 5.x and a Node 22 binary (the npm package `node`), installed into .tmp/nr5 once and
 * reused. Throws with npm's output when they cannot be installed.
 */
export function nodeRed5Toolchain(): Toolchain {
  const node = path.join(NR5_DIR, "node_modules", "node", "bin", "node");
  const redJs = path.join(NR5_DIR, "node_modules", "node-red", "red.js");
  const ready = () => {
    if (!existsSync(node) || !existsSync(redJs)) return false;
    const v = spawnSync(node, ["--version"], { encoding: "utf8" }).stdout?.trim() ?? "";
    const nr = JSON.parse(readFileSync(path.join(path.dirname(redJs), "package.json"), "utf8")) as {
      version: string;
    };
    return /^v22\./.test(v) && /^5\./.test(nr.version);
  };
  if (!ready()) {
    mkdirSync(NR5_DIR, { recursive: true });
    writeFileSync(
      path.join(NR5_DIR, "package.json"),
      JSON.stringify({ name: "orderbridge-node-red-5", private: true }),
    );
    // the `node` package's preinstall script fetches the platform binary package from the registry
    run(NPM, ["install", ...NR5_SPECS, "--no-audit", "--no-fund", "--prefer-offline"], {
      cwd: NR5_DIR,
      timeoutMs: 600_000,
    });
    if (!ready())
      throw new Error(`npm install ${NR5_SPECS.join(" ")} in ${NR5_DIR} gave no Node 22 / Node-RED 5`);
  }
  const nodeVersion = spawnSync(node, ["--version"], { encoding: "utf8" }).stdout.trim();
  const nodeRedVersion = (
    JSON.parse(readFileSync(path.join(path.dirname(redJs), "package.json"), "utf8")) as { version: string }
  ).version;
  return { node, redJs, nodeVersion, nodeRedVersion };
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
