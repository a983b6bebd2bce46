/**
 * Tests wait for what they need, never for a fixed time: on a busy machine (CI shares its cores)
 * everything only takes longer. A cap ends a wait that would never succeed; it is far above what
 * a loaded machine needs, so passing never depends on it, and it fails naming what did not happen.
 */

/** The cap of a wait in unit, node and end-to-end tests (mocha's own timeout is above it). */
export const WAIT_CAP_MS = 60_000;

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Resolves with the first truthy value of `probe`, polled every `everyMs`; rejects after `capMs`
 * with "gave up after … waiting for <what> (<detail()>)".
 */
export async function waitUntil<T>(
  what: string,
  probe: () => T | Promise<T>,
  options: { capMs?: number; everyMs?: number; detail?: () => string } = {},
): Promise<NonNullable<T>> {
  const { capMs = WAIT_CAP_MS, everyMs = 10, detail } = options;
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() - started >= capMs) {
      const seconds = Math.round(capMs / 1000);
      throw new Error(`gave up after ${seconds} s waiting for ${what}${detail ? ` (${detail()})` : ""}`);
    }
    await sleep(everyMs);
  }
}
