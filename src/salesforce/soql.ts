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

/** A composite subrequest that failed as a whole, in the shape jsforce gives its errors. */
export class SubrequestError extends Error {
  constructor(
    readonly errorCode: string,
    message: string,
  ) {
    super(`${errorCode}: ${message}`);
    this.name = "SubrequestError";
  }
}

function jsonOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

interface QueryPage {
  records?: Record<string, unknown>[];
  done?: boolean;
  nextRecordsUrl?: string;
}

/**
 * Several queries in one composite request (reference §2.4: a composite counts as one API call
 * and carries at most 5 query subrequests): the rows of each query, in order. A query with more
 * rows than one answer holds is followed through `nextRecordsUrl` (one call per further batch).
 * `onRequest` is told of every API call made.
 */
export async function queryBatch(
  conn: Connection,
  soqls: string[],
  onRequest?: () => void,
  perComposite = 5,
): Promise<Record<string, unknown>[][]> {
  const base = `/services/data/v${conn.version}`;
  const out: Record<string, unknown>[][] = soqls.map(() => []);
  for (let start = 0; start < soqls.length; start += perComposite) {
    const group = soqls.slice(start, start + perComposite);
    onRequest?.();
    const raw: unknown = await conn.requestPost("/composite", {
      allOrNone: false,
      compositeRequest: group.map((q, j) => ({
        method: "GET",
        url: `${base}/query?q=${encodeURIComponent(q)}`,
        referenceId: `q${start + j}`,
      })),
    });
    // jsforce hands back text when the content type is not JSON: read it as JSON all the same.
    const response = (typeof raw === "string" ? jsonOrText(raw) : raw) as {
      compositeResponse?: { body: unknown; httpStatusCode: number; referenceId: string }[];
    } | null;
    // Other JSON than the API sends is refused below (TypeError: "not a Salesforce API answer").
    if (!response || typeof response !== "object" || !Array.isArray(response.compositeResponse))
      throw new TypeError("the composite answer has no compositeResponse list");
    const byRef = new Map(response.compositeResponse.map((r) => [r?.referenceId, r]));
    for (let j = 0; j < group.length; j++) {
      const item = byRef.get(`q${start + j}`);
      if (!item) throw new SubrequestError("NO_RESPONSE", "Salesforce sent no answer for a query");
      if (item.httpStatusCode >= 300 || !item.body || typeof item.body !== "object") {
        const first = Array.isArray(item.body)
          ? (item.body[0] as { errorCode?: string; message?: string } | undefined)
          : undefined;
        throw new SubrequestError(
          first?.errorCode ?? `ERROR_HTTP_${item.httpStatusCode}`,
          first?.message ?? `HTTP ${item.httpStatusCode}`,
        );
      }
      let page = item.body as QueryPage;
      for (;;) {
        if (!Array.isArray(page.records)) throw new TypeError("a query answer without records");
        out[start + j].push(...page.records);
        if (page.done !== false || !page.nextRecordsUrl) break;
        onRequest?.();
        page = (await conn.request(page.nextRecordsUrl)) as QueryPage;
      }
    }
  }
  return out;
}
