/**
 * Processes the sandbox, the tests and the bench start, and the instance directories of
 * `scripts/tryton.sh` they leave behind when killed: checked and stopped by PID, never by name.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";

/** Whether a process runs (a zombie, left in containers without an init, counts as gone). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return true;
  }
}

/**
 * Removes the Tryton instance directories `<runsDir>/<prefix>-<pid>` whose owner process is
 * gone, stopping their server (its `trytond.pid`) first.
 */
export function sweepStaleInstances(runsDir: string, prefix: string): void {
  if (!existsSync(runsDir)) return;
  for (const name of readdirSync(runsDir)) {
    const owner = new RegExp(`^${prefix}-(\\d+)$`).exec(name);
    if (!owner || isAlive(Number(owner[1]))) continue;
    const dir = path.join(runsDir, name);
    try {
      const pid = Number(readFileSync(path.join(dir, "trytond.pid"), "utf8").trim());
      if (pid && isAlive(pid)) process.kill(pid, "SIGTERM");
    } catch {
      // no pidfile: nothing running
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
