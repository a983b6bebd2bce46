/**
 * Processes the sandbox, the tests and the bench start: checked and stopped by PID, never by
 * name (the Tryton instances left by a killed run: `scripts/tryton.sh sweep`).
 */
import { readFileSync } from "node:fs";

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
