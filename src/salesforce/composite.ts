/**
 * sObject Collections operations carried inside composite requests (reference §2.2, §2.4):
 * at most 200 records per collection call, at most 5 collection (or query) subrequests and 25
 * subrequests per composite, and the whole composite counts as **one** API call toward the
 * daily limit. Steps run in the order given, so a later step may point at a record an earlier
 * step wrote through its external-ID field (an OrderItem's `Order: {Key__c: …}`).
 *
 * Composites are sent with `allOrNone: false` and collections with `allOrNone: false`: a record
 * that fails fails alone, and its error is handed back to the owner of that record (an order).
 * A subrequest that fails as a whole (e.g. INVALID_FIELD) fails every record in it.
 */
import type { Connection } from "jsforce";
import { messageOf } from "./errors";

export type Rec = Record<string, unknown>;

export type CollectionOp =
  /** PATCH /composite/sobjects/{T}/{extField}: every record carries the external-ID value. */
  | { kind: "upsert"; sobject: string; extField: string; records: Rec[] }
  /** POST /composite/sobjects: records carry `attributes.type`. */
  | { kind: "create"; sobject: string; records: Rec[] }
  /** PATCH /composite/sobjects: records carry `id`. */
  | { kind: "update"; sobject: string; records: Rec[] }
  /** DELETE /composite/sobjects?ids=… */
  | { kind: "delete"; sobject: string; ids: string[] };

/** One collection operation and, for each of its records, who owns it (an order key). */
export interface Step {
  op: CollectionOp;
  owners: string[];
}

export interface RecordError {
  code: string;
  message: string;
  fields?: string[];
}

export type RecordOutcome = { ok: true; id: string; created?: boolean } | { ok: false; error: RecordError };

export const COLLECTION_LIMIT = 200;
export const COMPOSITE_LIMIT = 25;
export const COMPOSITE_COLLECTION_LIMIT = 5;

function sizeOf(op: CollectionOp): number {
  return op.kind === "delete" ? op.ids.length : op.records.length;
}

function slice(step: Step, start: number, end: number): Step {
  const { op } = step;
  const owners = step.owners.slice(start, end);
  if (op.kind === "delete") return { op: { ...op, ids: op.ids.slice(start, end) }, owners };
  return { op: { ...op, records: op.records.slice(start, end) }, owners };
}

/** Splits steps into chunks of at most 200 records (jsforce would send them whole: EXCEEDED_ID_LIMIT). */
export function chunkSteps(steps: Step[]): Step[] {
  const out: Step[] = [];
  for (const step of steps) {
    const size = sizeOf(step.op);
    if (size === 0) continue;
    for (let start = 0; start < size; start += COLLECTION_LIMIT)
      out.push(slice(step, start, start + COLLECTION_LIMIT));
  }
  return out;
}

function typed(sobject: string, record: Rec): Rec {
  return { attributes: { type: sobject }, ...record };
}

function subrequest(op: CollectionOp, base: string, referenceId: string): Rec {
  switch (op.kind) {
    case "upsert":
      return {
        method: "PATCH",
        url: `${base}/composite/sobjects/${op.sobject}/${op.extField}`,
        referenceId,
        body: { allOrNone: false, records: op.records.map((r) => typed(op.sobject, r)) },
      };
    case "create":
      return {
        method: "POST",
        url: `${base}/composite/sobjects`,
        referenceId,
        body: { allOrNone: false, records: op.records.map((r) => typed(op.sobject, r)) },
      };
    case "update":
      return {
        method: "PATCH",
        url: `${base}/composite/sobjects`,
        referenceId,
        body: { allOrNone: false, records: op.records.map((r) => typed(op.sobject, r)) },
      };
    case "delete":
      return {
        method: "DELETE",
        url: `${base}/composite/sobjects?ids=${op.ids.map(encodeURIComponent).join(",")}&allOrNone=false`,
        referenceId,
      };
  }
}

interface CompositeResponseItem {
  body: unknown;
  httpStatusCode: number;
  referenceId: string;
}

interface CollectionResult {
  id?: string;
  success?: boolean;
  created?: boolean;
  errors?: { statusCode?: string; errorCode?: string; message?: string; fields?: string[] }[];
}

function wholeFailure(body: unknown, status: number): RecordError {
  const first = Array.isArray(body)
    ? (body[0] as { errorCode?: string; message?: string; fields?: string[] })
    : undefined;
  return {
    code: first?.errorCode ?? `ERROR_HTTP_${status}`,
    message: first?.message ?? (typeof body === "string" ? body : `HTTP ${status}`),
    ...(first?.fields?.length ? { fields: first.fields } : {}),
  };
}

function outcomesOf(step: Step, item: CompositeResponseItem | undefined): RecordOutcome[] {
  const size = sizeOf(step.op);
  if (!item) {
    const error = { code: "NO_RESPONSE", message: "Salesforce sent no answer for this part of the request" };
    return Array.from({ length: size }, () => ({ ok: false as const, error }));
  }
  if (item.httpStatusCode >= 300 || !Array.isArray(item.body)) {
    const error = wholeFailure(item.body, item.httpStatusCode);
    return Array.from({ length: size }, () => ({ ok: false as const, error }));
  }
  const results = item.body as CollectionResult[];
  return Array.from({ length: size }, (_, i): RecordOutcome => {
    const r = results[i];
    if (r?.success === true && typeof r.id === "string") {
      return { ok: true, id: r.id, ...(r.created !== undefined ? { created: r.created } : {}) };
    }
    const e = r?.errors?.[0];
    return {
      ok: false,
      error: {
        code: e?.statusCode ?? e?.errorCode ?? "UNKNOWN",
        message: e?.message ?? "Salesforce reported a failure without a message",
        ...(e?.fields?.length ? { fields: e.fields } : {}),
      },
    };
  });
}

/**
 * Runs the steps in order, packed into as few composite requests as the limits allow.
 * Resolves with one outcome per record of each (unchunked) step. A composite request that
 * fails as a whole rejects with jsforce's error (the caller tells a daily-limit stop, a
 * transient failure and a hard failure apart).
 */
export async function runSteps(
  conn: Connection,
  steps: Step[],
  onRequest?: () => void,
): Promise<RecordOutcome[][]> {
  const base = `/services/data/v${conn.version}`;
  const live = steps.filter((s) => sizeOf(s.op) > 0);
  const perStep = new Map<Step, RecordOutcome[]>(live.map((s) => [s, []]));
  // Remember which original step each chunk came from, in order.
  const chunks: { origin: Step; chunk: Step }[] = [];
  for (const origin of live) {
    for (const chunk of chunkSteps([origin])) chunks.push({ origin, chunk });
  }
  for (let i = 0; i < chunks.length; i += COMPOSITE_COLLECTION_LIMIT) {
    const group = chunks.slice(i, i + COMPOSITE_COLLECTION_LIMIT);
    const compositeRequest = group.map((g, j) => subrequest(g.chunk.op, base, `s${i + j}`));
    onRequest?.();
    const response = (await conn.requestPost("/composite", {
      allOrNone: false,
      collateSubrequests: false,
      compositeRequest,
    })) as { compositeResponse?: CompositeResponseItem[] };
    const byRef = new Map((response.compositeResponse ?? []).map((r) => [r.referenceId, r]));
    group.forEach((g, j) => {
      (perStep.get(g.origin) as RecordOutcome[]).push(...outcomesOf(g.chunk, byRef.get(`s${i + j}`)));
    });
  }
  return steps.map((s) => perStep.get(s) ?? []);
}

export function recordErrorText(error: RecordError): string {
  return `${error.code}: ${messageOf(error.message)}${error.fields?.length ? ` [${error.fields.join(", ")}]` : ""}`;
}
