/** The real-Node-RED tests load the built pack (dist/): build it once when files are missing. */
import { execFileSync } from "node:child_process";
import path from "node:path";
import { missingBuildFiles, REPO_ROOT } from "../../src/sandbox/node-red-runtime";

let built = false;

export function ensureBuilt(): void {
  if (built || missingBuildFiles().length === 0) {
    built = true;
    return;
  }
  execFileSync(process.execPath, [path.join(REPO_ROOT, "scripts", "build.mjs")], {
    cwd: REPO_ROOT,
    stdio: "pipe",
  });
  const missing = missingBuildFiles();
  if (missing.length > 0) throw new Error(`the build did not produce ${missing.join(", ")}`);
  built = true;
}
