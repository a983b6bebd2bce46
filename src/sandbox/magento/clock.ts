/**
 * The simulator's clock. Magento stores `created_at` / `updated_at` as UTC
 * `YYYY-MM-DD HH:MM:SS` with one-second resolution (reference §5, §6), so orders written in
 * the same second share a value. Tests can freeze and move it; it follows real time otherwise.
 */
export function formatMagentoDate(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19).replace("T", " ");
}

export function parseMagentoDate(value: string): number {
  const ms = Date.parse(`${value.replace(" ", "T")}Z`);
  if (Number.isNaN(ms)) throw new Error(`not a Magento date: ${value}`);
  return ms;
}

export class MagentoClock {
  private offsetMs = 0;
  private frozenAt: number | undefined;

  nowMs(): number {
    return this.frozenAt ?? Date.now() + this.offsetMs;
  }

  /** Now in Magento format. */
  now(): string {
    return formatMagentoDate(this.nowMs());
  }

  /** Stops the clock (at `at`, or where it is). */
  freeze(at?: number | string | Date): void {
    this.frozenAt = at === undefined ? this.nowMs() : toMs(at);
  }

  /** Lets the clock run again from where it stands. */
  unfreeze(): void {
    if (this.frozenAt === undefined) return;
    this.offsetMs = this.frozenAt - Date.now();
    this.frozenAt = undefined;
  }

  advance(ms: number): void {
    if (this.frozenAt !== undefined) this.frozenAt += ms;
    else this.offsetMs += ms;
  }

  /** Back to real time. */
  reset(): void {
    this.offsetMs = 0;
    this.frozenAt = undefined;
  }
}

function toMs(at: number | string | Date): number {
  if (typeof at === "number") return at;
  if (at instanceof Date) return at.getTime();
  return /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/.test(at) ? parseMagentoDate(at) : Date.parse(at);
}

/** The clock simulators use unless given their own. */
export const clock = new MagentoClock();
