#!/usr/bin/env node
// The Flow Library scorecard (`node-red-dev validate`) for what npm would publish, without the
// Flow Library: the catalogue is stubbed (scripts/mock-catalogue.cjs); the npm registry is used.
//
//   node scripts/validate.mjs [--path DIR | --work DIR] [--json FILE]
//
// Without --path: packs the built package (`npm pack`, no scripts), unpacks it and installs its
// production dependencies there (npm-check, behind D03, reports every dependency as outdated
// when node_modules is missing), then validates that copy. node-red-dev 0.1.6 is installed
// into .tmp/node-red-dev (never into this package). Prints the scorecard and exits 1 when a
// check that can run offline fails (P02 is disabled upstream; P08 needs the real catalogue).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const NODE_RED_DEV = "0.1.6";
export const OFFLINE_CHECKS = ["P01", "P03", "P04", "P05", "P06", "P07", "N01", "N02", "D01", "D02", "D03"];
const toolDir = path.join(root, ".tmp", "node-red-dev");
const npm = process.platform === "win32" ? "npm.cmd" : "npm";

function run(cmd, args, opts = {}) {
  const res = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 << 20, ...opts });
  if (res.status !== 0) {
    const out = `${res.stdout ?? ""}${res.stderr ?? ""}`.trim().split("\n").slice(-30).join("\n");
    throw new Error(`${cmd} ${args.join(" ")} failed (${res.status ?? res.signal}):\n${out}`);
  }
  return res.stdout;
}

/** node-red-dev's CLI, installed into .tmp/node-red-dev once. */
export function nodeRedDevCli() {
  const pkg = path.join(toolDir, "node_modules", "node-red-dev", "package.json");
  const installed = existsSync(pkg) && JSON.parse(readFileSync(pkg, "utf8")).version === NODE_RED_DEV;
  if (!installed) {
    mkdirSync(toolDir, { recursive: true });
    writeFileSync(
      path.join(toolDir, "package.json"),
      '{ "name": "orderbridge-node-red-dev", "private": true }\n',
    );
    run(npm, ["install", `node-red-dev@${NODE_RED_DEV}`, "--no-audit", "--no-fund", "--prefer-offline"], {
      cwd: toolDir,
    });
  }
  return path.join(toolDir, "node_modules", "node-red-dev", "bin", "run");
}

/** Pack the built package and unpack it with its production dependencies installed; returns the package dir. */
export function packedCopy(workDir) {
  const dist = path.join(root, "dist");
  if (!existsSync(dist)) run(process.execPath, [path.join(root, "scripts", "build.mjs")], { cwd: root });
  const out = run(npm, ["pack", "--ignore-scripts", "--json", "--pack-destination", workDir], { cwd: root });
  const [{ filename }] = JSON.parse(out);
  run("tar", ["xzf", path.join(workDir, path.basename(filename)), "-C", workDir]);
  const pkgDir = path.join(workDir, "package");
  run(
    npm,
    [
      "install",
      "--omit=dev",
      "--ignore-scripts",
      "--no-audit",
      "--no-fund",
      "--prefer-offline",
      "--no-package-lock",
    ],
    {
      cwd: pkgDir,
    },
  );
  return pkgDir;
}

/** Runs node-red-dev validate on `dir`; returns { scorecard, output }. */
export function validate(dir) {
  const cli = nodeRedDevCli();
  const card = path.join(mkdtempSync(path.join(os.tmpdir(), "orderbridge-scorecard-")), "scorecard.json");
  const res = spawnSync(process.execPath, [cli, "validate", "-p", dir, "-o", card], {
    encoding: "utf8",
    cwd: dir,
    timeout: 300_000,
    env: {
      ...process.env,
      NODE_OPTIONS:
        `${process.env.NODE_OPTIONS ?? ""} -r ${path.join(root, "scripts", "mock-catalogue.cjs")}`.trim(),
      NO_UPDATE_NOTIFIER: "1",
    },
  });
  const output = `${res.stdout ?? ""}${res.stderr ?? ""}`;
  if (!existsSync(card)) throw new Error(`node-red-dev wrote no scorecard (exit ${res.status}):\n${output}`);
  const scorecard = JSON.parse(readFileSync(card, "utf8"));
  rmSync(path.dirname(card), { recursive: true, force: true });
  return { scorecard, output };
}

export function failures(scorecard) {
  return OFFLINE_CHECKS.filter((id) => scorecard[id]?.test !== true);
}

async function main() {
  const args = process.argv.slice(2);
  const opt = (name) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  let dir = opt("--path");
  // --work DIR: pack and unpack into DIR and keep it (DIR/package can be validated again with --path)
  const keep = opt("--work");
  let work;
  if (!dir) {
    work = keep ? path.resolve(keep) : mkdtempSync(path.join(os.tmpdir(), "orderbridge-validate-"));
    mkdirSync(work, { recursive: true });
    dir = packedCopy(work);
  }
  try {
    const { scorecard, output } = validate(path.resolve(dir));
    process.stdout.write(output);
    if (opt("--json")) writeFileSync(opt("--json"), JSON.stringify(scorecard, null, 2) + "\n");
    const failed = failures(scorecard);
    for (const id of OFFLINE_CHECKS) {
      const detail = { ...scorecard[id] };
      delete detail.test;
      const extra = Object.keys(detail).length ? ` ${JSON.stringify(detail)}` : "";
      console.log(`${failed.includes(id) ? "FAIL" : "ok  "} ${id}${extra}`);
    }
    if (failed.length) {
      console.error(`\nScorecard checks failed: ${failed.join(", ")}`);
      process.exitCode = 1;
    }
  } finally {
    if (work && !keep) rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(err.message);
    process.exit(1);
  });
}
