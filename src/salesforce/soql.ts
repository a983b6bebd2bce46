/**
 * SOQL text the pack builds: quoted literals and `IN (…)` lists cut so that a query stays
 * well under the GET URL limit (Salesforce answers 414 for URIs over ~16 KB).
 */
import type { Connection } from "jsforce";
import { errorCodeOf } from "./errors";

/** A SOQL string literal: backslash and single quote escaped, control characters as escapes. */
export function quote(value: string): string {
  const escaped = value
    .replace(/\\/g, "\\\\")
    .replace(/'/g, "\\'")
    .replace(/\n/g, "\\n")
    .replace(/\r/g, "\\r")
    .replace(/\t/g, "\\t");
  return `'${escaped}'`;
}

/** API names the pack puts into SOQL and URLs (custom fields, standard fields). */
export function isApiName(name: string): boolean {
  return /^[A-Za-z][A-Za-z0-9_]*$/.test(name);
}

/** Splits values into lists whose quoted, comma-joined text stays under `maxChars`. */
export function inLists(values: string[], maxChars = 8000): string[] {
  const out: string[] = [];
  let current: string[] = [];
  let length = 0;
  for (const v of values) {
    const q = quote(v);
    if (current.length > 0 && length + q.length + 1 > maxChars) {
      out.push(current.join(","));
      current = [];
      length = 0;
    }
    current.push(q);
    length += q.length + 1;
  }
  if (current.length > 0) out.push(current.join(","));
  return out;
}

/** Every row of a query (jsforce follows `nextRecordsUrl`). */
export async function queryAll<T extends Record<string, unknown>>(
  conn: Connection,
  soql: string,
): Promise<T[]> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      const result = await conn.query<T>(soql, { autoFetch: true, maxFetch: 1_000_000 });
      return result.records;
    } catch (err) {
      // A stalled or cut-off answer ends at the session's request deadline as HTTP 504, which
      // jsforce does not retry (its retries stop at the response headers): ask again, twice.
      if (errorCodeOf(err) !== "ERROR_HTTP_504" || attempt >= 3) throw err;
    }
  }
}

/** The rows of a child relationship in a query result (null when there are none). */
export function childRows<T>(value: unknown): T[] {
  if (!value || typeof value !== "object") return [];
  const records = (value as { records?: unknown }).records;
  return Array.isArray(records) ? (records as T[]) : [];
}
