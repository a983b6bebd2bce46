/**
 * What differs between the Tryton series the pack supports — 6.0 and 7.0 LTS, on SQLite or
 * PostgreSQL, with or without `trytond-worker` — decided here and nowhere else. The series
 * comes from `common.server.version`, asked once per server; how the server runs `process`
 * after `confirm` is learned from the first confirm that leaves sales `confirmed`.
 * Every difference and where it was measured: docs/tryton-versions.md.
 */
import { TrytonError, type TrytonClient } from "./rpc";

export type TrytonSeries = "6.0" | "7.0";

/**
 * How `sale.process` runs after `confirm` (both series push it to Tryton's task queue):
 *  - `request`: `[queue] worker = False`: the task runs at the end of the confirm request,
 *    so a sale still `confirmed` afterwards means processing failed;
 *  - `queue`: a `trytond-worker` (or `sale.configuration.sale_process_after`) runs it later:
 *    `confirmed` is where the pack stops, the worker takes the sale to `processing`;
 *  - `unknown`: not seen yet.
 */
export type ProcessingMode = "request" | "queue" | "unknown";

export interface ServerProfile {
  /** What the server answered, e.g. "7.0.30". */
  version: string;
  /** The supported series whose rules apply (a 6.x answers as 6.0, 7.x and later as 7.0). */
  series: TrytonSeries;
  /**
   * 7.0 keeps the failures of queued tasks in `ir.error` (Error.report in trytond/worker.py);
   * 6.0 only logs them. It is how a `confirmed` sale tells a queued `process` from a failed one.
   */
  taskErrors: boolean;
  processing: ProcessingMode;
}

/** The series whose rules apply to a server version ("6.0.29" → 6.0, "7.0.30" → 7.0). */
export function seriesOf(version: string): TrytonSeries {
  const major = Number(/^(\d+)\./.exec(version)?.[1] ?? NaN);
  return major >= 7 ? "7.0" : "6.0";
}

export function profileOf(version: string): ServerProfile {
  const series = seriesOf(version);
  return { version, series, taskErrors: series !== "6.0", processing: "unknown" };
}

const profiles = new Map<string, Promise<ServerProfile>>();

function keyOf(client: TrytonClient): string {
  return `${client.url}|${client.database}`;
}

/** The profile of the client's server: one `common.server.version` per server and process. */
export function serverProfile(client: TrytonClient): Promise<ServerProfile> {
  const key = keyOf(client);
  const known = profiles.get(key);
  if (known) return known;
  const asked = client.version().then(profileOf);
  profiles.set(key, asked);
  // A failed question is asked again next time (the server may have been down).
  asked.catch(() => profiles.delete(key));
  return asked;
}

/**
 * The task-error watermark before a confirm: the id of the newest `ir.error`, or 0 when
 * there is none; undefined when the server keeps no task errors, the user may not read them or
 * the server refuses the model (the pack then presses `process` as for 6.0).
 */
export async function taskErrorMark(
  client: TrytonClient,
  profile: ServerProfile,
): Promise<number | undefined> {
  if (!profile.taskErrors) return undefined;
  try {
    const [newest] = await client.search("ir.error", [], { limit: 1, order: [["id", "DESC"]] });
    return newest ?? 0;
  } catch (err) {
    // No right to read it, or no such model (a server or simulator without it): cannot tell.
    if (err instanceof TrytonError && !err.retryable) return undefined;
    throw err;
  }
}

/**
 * After a confirm that left sales `confirmed`: with no task error newer than `mark`, Tryton
 * queued their processing (a worker runs it) — remembered for the server. With one, processing
 * may have failed in the request, so nothing is concluded (the importer presses `process`,
 * which names the failure per sale).
 */
export async function learnProcessing(
  client: TrytonClient,
  profile: ServerProfile,
  mark: number | undefined,
): Promise<ProcessingMode> {
  if (profile.processing !== "unknown" || mark === undefined) return profile.processing;
  const newer = await client.search("ir.error", [["id", ">", mark]], { limit: 1 });
  if (newer.length === 0) profile.processing = "queue";
  return profile.processing;
}
