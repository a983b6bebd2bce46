/**
 * The figures of a reliability run, collected from each part and printed as the table of
 * docs/reliability.md when the run ends (also written to .tmp/reliability-report.md).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";

export interface Figures {
  part: string;
  orders: number;
  faults?: number;
  crashes?: number;
  badInputs?: number;
  lost: number;
  duplicated: number;
  seconds?: number;
}

const rows: Figures[] = [];
const started = Date.now();

export function record(figures: Figures): void {
  rows.push(figures);
}

export function table(): string {
  const head =
    "| Part | Orders | Faults injected | Crashes (SIGKILL) | Bad inputs tried | Lost | Duplicated | Seconds |";
  const rule = "|---|---:|---:|---:|---:|---:|---:|---:|";
  const cell = (n: number | undefined) => (n === undefined ? "–" : String(n));
  return [
    head,
    rule,
    ...rows.map(
      (r) =>
        `| ${r.part} | ${r.orders} | ${cell(r.faults)} | ${cell(r.crashes)} | ${cell(r.badInputs)} | ${r.lost} | ${r.duplicated} | ${cell(r.seconds)} |`,
    ),
  ].join("\n");
}

if (typeof after === "function") {
  after(function () {
    if (rows.length === 0) return;
    const text = `${table()}\n\nWhole run: ${Math.round((Date.now() - started) / 1000)} s, ${new Date().toISOString()}, SOAK_ORDERS=${process.env.SOAK_ORDERS ?? "(default)"}\n`;
    const dir = path.join(__dirname, "..", "..", ".tmp");
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, "reliability-report.md"), text);
    console.log(`\n  Reliability figures (.tmp/reliability-report.md):\n\n${text}`);
  });
}
