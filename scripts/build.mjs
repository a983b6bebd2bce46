// Build: compile the runtime with tsc, then put each editor file (<type>.html,
// locales/, icons/) beside its compiled <type>.js, as Node-RED's loader requires.
import { execFileSync } from "node:child_process";
import { cpSync, rmSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const require = createRequire(import.meta.url);
rmSync(path.join(root, "dist"), { recursive: true, force: true });
const tsc = require.resolve("typescript/bin/tsc");
execFileSync(process.execPath, [tsc, "-p", path.join(root, "tsconfig.build.json")], { stdio: "inherit" });
const editor = path.join(root, "nodes");
if (existsSync(editor)) cpSync(editor, path.join(root, "dist", "nodes"), { recursive: true });
const plugins = path.join(root, "plugins");
if (existsSync(plugins)) cpSync(plugins, path.join(root, "dist", "plugins"), { recursive: true });
