/**
 * The REST resources under `/services/data/vXX.X` (reference/salesforce-rest.md §2, §7):
 * single records, upsert by external id, query with `nextRecordsUrl` paging, sObject
 * Collections, composite and composite graph, describe and limits. Handlers are synchronous,
 * so one request (a collections call, a composite) runs as one transaction that can be
 * rolled back through the store's journal without interleaving with other requests.
 */
import { ApiError, MESSAGES, RecordError, notFound } from "./errors";
import type { Dml, ParsedRecord, WriteContext } from "./dml";
import { canonicalId, type IdFactory } from "./ids";
import type { OAuthServer, Session } from "./oauth";
import { describeGlobalEntry, describeSObject, type FieldDef, type Schema, type SObjectDef } from "./schema";
import { runSoql } from "./soql";
import type { RecordStore, Row } from "./store";

export interface DataRequest {
  method: string;
  /** Path after `/services/data/vXX.X`, without query string ("" for the version root). */
  path: string;
  query: URLSearchParams;
  /** Parsed JSON body, undefined when the request has none. */
  body: unknown;
  version: string;
  session: Session;
  write: WriteContext;
  headers: Record<string, string | undefined>;
}

export interface DataResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

type Handler = (req: DataRequest, params: string[]) => DataResponse;

interface RouteMatch {
  name: string;
  run: (req: DataRequest) => DataResponse;
}

interface Cursor {
  sobject: string;
  records: Record<string, unknown>[];
  totalSize: number;
  batchSize: number;
  touched: number;
}

export interface DataApiDeps {
  schema: Schema;
  store: RecordStore;
  dml: Dml;
  ids: IdFactory;
  oauth: OAuthServer;
  apiVersions: string[];
  apiUsage: () => { used: number; max: number };
}

export const COLLECTION_LIMIT = 200;
const COMPOSITE_LIMIT = 25;
const COMPOSITE_QUERY_OR_COLLECTION_LIMIT = 5;
const GRAPH_LIMIT = 75;
const GRAPH_NODE_LIMIT = 500;
const DEFAULT_BATCH = 2000;
const CURSOR_TTL_MS = 15 * 60_000;

const RELEASES = ["Winter", "Spring", "Summer"];

/** "62.0" → "Winter '25" (three releases a year; v62 was Winter '25). */
export function releaseLabel(version: string): string {
  const k = Math.floor(Number(version)) - 62;
  const year = 25 + Math.floor(k / 3);
  return `${RELEASES[((k % 3) + 3) % 3]} '${String(year).padStart(2, "0")}`;
}

export class DataApi {
  private readonly cursors = new Map<string, Cursor>();
  private readonly routes: { pattern: RegExp; methods: Record<string, [string, Handler]> }[];

  constructor(private readonly deps: DataApiDeps) {
    this.routes = [
      { pattern: /^$/, methods: { GET: ["resources", (r) => this.resources(r)] } },
      { pattern: /^\/limits$/, methods: { GET: ["limits", () => this.limits()] } },
      { pattern: /^\/sobjects$/, methods: { GET: ["describeGlobal", (r) => this.describeGlobal(r)] } },
      {
        pattern: /^\/sobjects\/([^/]+)$/,
        methods: {
          GET: ["sobject.basic", (r, p) => this.sobjectBasic(r, p[0])],
          POST: ["sobject.create", (r, p) => this.create(r, p[0])],
        },
      },
      {
        pattern: /^\/sobjects\/([^/]+)\/describe$/,
        methods: { GET: ["sobject.describe", (r, p) => this.describe(r, p[0])] },
      },
      {
        pattern: /^\/sobjects\/([^/]+)\/([^/]+)$/,
        methods: {
          GET: ["sobject.retrieve", (r, p) => this.retrieve(r, p[0], p[1])],
          PATCH: ["sobject.update", (r, p) => this.update(r, p[0], p[1])],
          DELETE: ["sobject.delete", (r, p) => this.remove(r, p[0], p[1])],
        },
      },
      {
        pattern: /^\/sobjects\/([^/]+)\/([^/]+)\/([^/]+)$/,
        methods: {
          GET: ["sobject.retrieveByExternalId", (r, p) => this.byExternalId(r, p[0], p[1], p[2], "GET")],
          PATCH: ["sobject.upsert", (r, p) => this.upsert(r, p[0], p[1], p[2])],
          DELETE: ["sobject.deleteByExternalId", (r, p) => this.byExternalId(r, p[0], p[1], p[2], "DELETE")],
        },
      },
      { pattern: /^\/query$/, methods: { GET: ["query", (r) => this.query(r, false)] } },
      { pattern: /^\/queryAll$/, methods: { GET: ["queryAll", (r) => this.query(r, true)] } },
      {
        pattern: /^\/(?:query|queryAll)\/([^/]+)$/,
        methods: { GET: ["queryMore", (r, p) => this.queryMore(r, p[0])] },
      },
      { pattern: /^\/composite$/, methods: { POST: ["composite", (r) => this.composite(r)] } },
      { pattern: /^\/composite\/graph$/, methods: { POST: ["composite.graph", (r) => this.graph(r)] } },
      {
        pattern: /^\/composite\/sobjects$/,
        methods: {
          POST: ["collections.create", (r) => this.collectionCreate(r)],
          PATCH: ["collections.update", (r) => this.collectionUpdate(r)],
          DELETE: ["collections.delete", (r) => this.collectionDelete(r)],
        },
      },
      {
        pattern: /^\/composite\/sobjects\/([^/]+)$/,
        methods: {
          GET: ["collections.retrieve", (r, p) => this.collectionRetrieve(r, p[0])],
          POST: ["collections.retrieve", (r, p) => this.collectionRetrieve(r, p[0])],
        },
      },
      {
        pattern: /^\/composite\/sobjects\/([^/]+)\/([^/]+)$/,
        methods: { PATCH: ["collections.upsert", (r, p) => this.collectionUpsert(r, p[0], p[1])] },
      },
    ];
  }

  /** Route for a method and path: its counter name and runner, or the 404 / 405 to send. */
  route(method: string, path: string): RouteMatch | ApiError {
    const normalized = path.replace(/\/$/, "");
    for (const route of this.routes) {
      const m = route.pattern.exec(normalized);
      if (!m) continue;
      const entry = route.methods[method];
      if (!entry) {
        return new ApiError(
          405,
          "METHOD_NOT_ALLOWED",
          `HTTP Method '${method}' not allowed. Allowed are ${Object.keys(route.methods).join(",")}`,
        );
      }
      const params = m.slice(1).map((p) => decodeURIComponent(p));
      const [name, handler] = entry;
      return { name, run: (req) => handler(req, params) };
    }
    return notFound();
  }

  /** Runs a routed request; whole-request errors become their status and error array. */
  run(match: RouteMatch, req: DataRequest): DataResponse {
    try {
      return match.run(req);
    } catch (err) {
      if (err instanceof ApiError) return { status: err.status, body: err.body() };
      if (err instanceof RecordError) return { status: 400, body: err.toApiError().body() };
      throw err;
    }
  }

  // ---- helpers -------------------------------------------------------------------------------

  private sobject(name: string, version: string): SObjectDef {
    const def = this.deps.schema.get(name);
    if (!def || Number(version) < def.minVersion) throw notFound();
    return def;
  }

  private url(version: string, type: string, id: string): string {
    return `/services/data/v${version}/sobjects/${type}/${id}`;
  }

  private recordOut(
    def: SObjectDef,
    row: Row,
    version: string,
    fields?: FieldDef[],
  ): Record<string, unknown> {
    const out: Record<string, unknown> = {
      attributes: { type: def.name, url: this.url(version, def.name, row.Id as string) },
    };
    for (const f of fields ?? def.fields) out[f.name] = row[f.name] ?? null;
    return out;
  }

  private fieldList(def: SObjectDef, names: string[]): FieldDef[] {
    return names.map((name) => {
      const f = this.deps.schema.field(def, name.trim());
      if (!f) {
        throw new ApiError(
          400,
          "INVALID_FIELD",
          `No such column '${name.trim()}' on entity '${def.name}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`,
        );
      }
      return f;
    });
  }

  /** One DML call in its own savepoint: a failing record leaves nothing behind. */
  private atomically<T>(fn: () => T): T {
    const savepoint = this.deps.store.savepoint();
    try {
      return fn();
    } catch (err) {
      this.deps.store.rollback(savepoint);
      if (err instanceof RecordError) throw err.toApiError();
      throw err;
    }
  }

  private requireBody(req: DataRequest): unknown {
    if (req.body === undefined) {
      throw new ApiError(
        400,
        "JSON_PARSER_ERROR",
        "The HTTP entity body is required, but this request has no entity body.",
      );
    }
    return req.body;
  }

  /** Live row of `def` by id for single-record routes: 404 like Salesforce when it is not there. */
  private rowForRoute(def: SObjectDef, rawId: string): Row {
    const id = canonicalId(rawId);
    if (!id) {
      throw new ApiError(
        404,
        "NOT_FOUND",
        `Provided external ID field does not exist or is not accessible: ${rawId}`,
      );
    }
    const row = this.deps.store.table(def.name).get(id);
    if (!row) throw notFound();
    if (row.IsDeleted === true) throw new ApiError(404, "ENTITY_IS_DELETED", "entity is deleted");
    return row;
  }

  private externalIdField(def: SObjectDef, name: string): FieldDef {
    const f = this.deps.schema.field(def, name);
    if (!f || !(f.externalId || f.name === "Id")) {
      throw new ApiError(
        404,
        "NOT_FOUND",
        `Provided external ID field does not exist or is not accessible: ${name}`,
      );
    }
    return f;
  }

  // ---- metadata ------------------------------------------------------------------------------

  private resources(req: DataRequest): DataResponse {
    const base = `/services/data/v${req.version}`;
    const names = ["sobjects", "query", "queryAll", "composite", "limits", "search", "recent", "tooling"];
    const body: Record<string, string> = Object.fromEntries(names.map((n) => [n, `${base}/${n}`]));
    body.identity = this.deps.oauth.identityUrl(req.session.user);
    return { status: 200, body };
  }

  private limits(): DataResponse {
    const { used, max } = this.deps.apiUsage();
    const fixed = (n: number): { Max: number; Remaining: number } => ({ Max: n, Remaining: n });
    return {
      status: 200,
      body: {
        ConcurrentAsyncGetReportInstances: fixed(200),
        DailyApiRequests: { Max: max, Remaining: Math.max(0, max - used) },
        DailyAsyncApexExecutions: fixed(250000),
        DailyBulkApiBatches: fixed(15000),
        DailyBulkV2QueryFileStorageMB: fixed(976562),
        DailyBulkV2QueryJobs: fixed(10000),
        DataStorageMB: fixed(5),
        FileStorageMB: fixed(20),
        SingleEmail: fixed(15),
      },
    };
  }

  private describeGlobal(req: DataRequest): DataResponse {
    const sobjects = [...this.deps.schema.objects.values()]
      .filter((def) => Number(req.version) >= def.minVersion)
      .map((def) => describeGlobalEntry(def, req.version));
    return { status: 200, body: { encoding: "UTF-8", maxBatchSize: COLLECTION_LIMIT, sobjects } };
  }

  private sobjectBasic(req: DataRequest, type: string): DataResponse {
    const def = this.sobject(type, req.version);
    return { status: 200, body: { objectDescribe: describeGlobalEntry(def, req.version), recentItems: [] } };
  }

  private describe(req: DataRequest, type: string): DataResponse {
    return { status: 200, body: describeSObject(this.sobject(type, req.version), req.version) };
  }

  // ---- single records ------------------------------------------------------------------------

  private create(req: DataRequest, type: string): DataResponse {
    const def = this.sobject(type, req.version);
    const parsed = this.deps.dml.parse(def, this.requireBody(req));
    const id = this.atomically(() => this.deps.dml.insert(parsed, req.write));
    return {
      status: 201,
      body: { id, success: true, errors: [] },
      headers: { Location: this.url(req.version, def.name, id) },
    };
  }

  private retrieve(req: DataRequest, type: string, rawId: string): DataResponse {
    const def = this.sobject(type, req.version);
    const row = this.rowForRoute(def, rawId);
    const fieldsParam = req.query.get("fields");
    const fields = fieldsParam ? this.fieldList(def, fieldsParam.split(",")) : undefined;
    return { status: 200, body: this.recordOut(def, row, req.version, fields) };
  }

  private update(req: DataRequest, type: string, rawId: string): DataResponse {
    const def = this.sobject(type, req.version);
    const row = this.rowForRoute(def, rawId);
    const parsed = this.deps.dml.parse(def, this.requireBody(req));
    if (parsed.id !== undefined) {
      throw new ApiError(400, "INVALID_FIELD", "The Id field should not be specified in the sobject data.");
    }
    this.atomically(() => this.deps.dml.update(row, parsed, req.write));
    return { status: 204 };
  }

  private remove(req: DataRequest, type: string, rawId: string): DataResponse {
    const def = this.sobject(type, req.version);
    const row = this.rowForRoute(def, rawId);
    this.atomically(() => this.deps.dml.remove(def, row, req.write));
    return { status: 204 };
  }

  private multipleChoices(req: DataRequest, def: SObjectDef, ids: string[]): DataResponse {
    return { status: 300, body: ids.map((id) => this.url(req.version, def.name, id)) };
  }

  private upsert(req: DataRequest, type: string, fieldName: string, value: string): DataResponse {
    const def = this.sobject(type, req.version);
    const f = this.externalIdField(def, fieldName);
    const parsed = this.deps.dml.parse(def, this.requireBody(req));
    if (parsed.values.has(f.name) || (f.name === "Id" && parsed.id !== undefined)) {
      // (unverified) text; the rule itself is in the upsert documentation.
      throw new ApiError(
        400,
        "INVALID_FIELD",
        `The external ID field ${f.name} should not be specified in the sobject data; it is taken from the URL.`,
      );
    }
    if (req.query.get("updateOnly") === "true" && this.deps.dml.findByField(def, f, value).length === 0) {
      throw notFound();
    }
    const outcome = this.atomically(() => this.deps.dml.upsert(parsed, f, value, req.write));
    if ("multiple" in outcome) return this.multipleChoices(req, def, outcome.multiple);
    if (outcome.created) {
      return {
        status: 201,
        body: { id: outcome.id, success: true, errors: [], created: true },
        headers: { Location: this.url(req.version, def.name, outcome.id) },
      };
    }
    if (Number(req.version) < 46) return { status: 204 };
    return { status: 200, body: { id: outcome.id, success: true, errors: [], created: false } };
  }

  private byExternalId(
    req: DataRequest,
    type: string,
    fieldName: string,
    value: string,
    method: string,
  ): DataResponse {
    const def = this.sobject(type, req.version);
    const f = this.externalIdField(def, fieldName);
    const rows = this.deps.dml.findByField(def, f, value);
    if (rows.length === 0) throw notFound();
    if (rows.length > 1)
      return this.multipleChoices(
        req,
        def,
        rows.map((r) => r.Id as string),
      );
    if (method === "DELETE") {
      this.atomically(() => this.deps.dml.remove(def, rows[0], req.write));
      return { status: 204 };
    }
    const fieldsParam = req.query.get("fields");
    const fields = fieldsParam ? this.fieldList(def, fieldsParam.split(",")) : undefined;
    return { status: 200, body: this.recordOut(def, rows[0], req.version, fields) };
  }

  // ---- query ---------------------------------------------------------------------------------

  private query(req: DataRequest, includeDeleted: boolean): DataResponse {
    const soql = req.query.get("q");
    if (soql === null) throw new ApiError(400, "MALFORMED_QUERY", "A query string has to be specified");
    const { schema, store } = this.deps;
    const result = runSoql(soql, { schema, store, version: req.version, includeDeleted });
    const option = /batchSize=(\d+)/i.exec(req.headers["sforce-query-options"] ?? "");
    const batchSize = option ? Math.min(DEFAULT_BATCH, Math.max(200, Number(option[1]))) : DEFAULT_BATCH;
    const cursor: Cursor = { ...result, batchSize, touched: Date.now() };
    return { status: 200, body: this.page(req.version, cursor, 0) };
  }

  private page(version: string, cursor: Cursor, offset: number): Record<string, unknown> {
    const end = offset + cursor.batchSize;
    const records = cursor.records.slice(offset, end);
    const done = end >= cursor.records.length;
    const body: Record<string, unknown> = { totalSize: cursor.totalSize, done };
    if (!done) {
      this.dropStaleCursors();
      const locator = this.deps.ids.create("01g");
      cursor.touched = Date.now();
      this.cursors.set(locator, cursor);
      body.nextRecordsUrl = `/services/data/v${version}/query/${locator}-${end}`;
    }
    body.records = records;
    return body;
  }

  private queryMore(req: DataRequest, locator: string): DataResponse {
    const m = /^(01g[A-Za-z0-9]{15})-(\d+)$/.exec(locator);
    const cursor = m ? this.cursors.get(m[1]) : undefined;
    if (!m || !cursor || Date.now() - cursor.touched > CURSOR_TTL_MS) {
      throw new ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator");
    }
    this.cursors.delete(m[1]);
    return { status: 200, body: this.page(req.version, cursor, Number(m[2])) };
  }

  private dropStaleCursors(): void {
    const now = Date.now();
    for (const [id, cursor] of this.cursors)
      if (now - cursor.touched > CURSOR_TTL_MS) this.cursors.delete(id);
  }

  // ---- sObject Collections -------------------------------------------------------------------

  private collectionBody(req: DataRequest): { allOrNone: boolean; records: Record<string, unknown>[] } {
    const body = this.requireBody(req) as { allOrNone?: unknown; records?: unknown };
    if (typeof body !== "object" || body === null || !Array.isArray(body.records)) {
      throw new ApiError(400, "JSON_PARSER_ERROR", "The request body must be an object with a records array");
    }
    if (body.allOrNone !== undefined && typeof body.allOrNone !== "boolean") {
      throw new ApiError(400, "JSON_PARSER_ERROR", "allOrNone must be a boolean");
    }
    if (body.records.length > COLLECTION_LIMIT) {
      throw new ApiError(400, "EXCEEDED_ID_LIMIT", MESSAGES.exceededIdLimit);
    }
    for (const record of body.records) {
      if (typeof record !== "object" || record === null || Array.isArray(record)) {
        throw new ApiError(400, "JSON_PARSER_ERROR", "Each element of records must be an sObject");
      }
    }
    return { allOrNone: body.allOrNone === true, records: body.records as Record<string, unknown>[] };
  }

  private recordType(req: DataRequest, record: Record<string, unknown>): SObjectDef {
    const attributes = record.attributes as { type?: unknown } | undefined;
    if (typeof attributes?.type !== "string") {
      // (unverified) text
      throw new ApiError(
        400,
        "INVALID_TYPE",
        "No SObject Type defined in record: every record needs attributes.type",
      );
    }
    const def = this.deps.schema.get(attributes.type);
    if (!def || Number(req.version) < def.minVersion) {
      throw new ApiError(400, "INVALID_TYPE", `sObject type '${attributes.type}' is not supported.`);
    }
    return def;
  }

  /**
   * Runs one operation per record in request order. A failing record is rolled back to its own
   * savepoint; with allOrNone every record is rolled back when one fails and the records that
   * had succeeded report ALL_OR_NONE_OPERATION_ROLLED_BACK.
   */
  private perRecord(
    count: number,
    allOrNone: boolean,
    op: (i: number) => Record<string, unknown>,
  ): DataResponse {
    const { store } = this.deps;
    const outer = store.savepoint();
    const results: Record<string, unknown>[] = [];
    let failed = false;
    try {
      for (let i = 0; i < count; i++) {
        const savepoint = store.savepoint();
        try {
          results.push({ ...op(i), success: true, errors: [] });
        } catch (err) {
          if (!(err instanceof RecordError)) throw err;
          store.rollback(savepoint);
          failed = true;
          results.push({ success: false, errors: [err.toCollectionError()] });
        }
      }
    } catch (err) {
      store.rollback(outer);
      throw err;
    }
    if (allOrNone && failed) {
      store.rollback(outer);
      const rolledBack = new RecordError("ALL_OR_NONE_OPERATION_ROLLED_BACK", MESSAGES.rolledBack);
      return {
        status: 200,
        body: results.map((r) =>
          r.success ? { success: false, errors: [rolledBack.toCollectionError()] } : r,
        ),
      };
    }
    return { status: 200, body: results.map(orderResultKeys) };
  }

  private collectionCreate(req: DataRequest): DataResponse {
    const { allOrNone, records } = this.collectionBody(req);
    const defs = records.map((r) => this.recordType(req, r));
    const chunks = defs.filter((def, i) => i === 0 || defs[i - 1] !== def).length;
    if (chunks > 10) {
      // (unverified) code; the limit of 10 chunks is documented.
      throw new ApiError(
        400,
        "INVALID_BATCH_REQUEST",
        "Cannot have more than 10 chunks in a single operation. Please rearrange the data to reduce chunking.",
      );
    }
    const parsed = records.map((r, i) => this.deps.dml.parse(defs[i], r));
    return this.perRecord(records.length, allOrNone, (i) => ({
      id: this.deps.dml.insert(parsed[i], req.write),
    }));
  }

  private collectionUpdate(req: DataRequest): DataResponse {
    const { allOrNone, records } = this.collectionBody(req);
    const parsed = records.map((r) => this.deps.dml.parse(this.recordType(req, r), r));
    return this.perRecord(records.length, allOrNone, (i) => {
      const record = parsed[i];
      if (record.id === undefined || record.id === null) {
        throw new RecordError("MISSING_ARGUMENT", "Id not specified in an update call");
      }
      const { row } = this.deps.dml.existingForWrite(record.def, record.id);
      const { id: _id, ...rest } = record;
      this.deps.dml.update(row, rest as ParsedRecord, req.write);
      return { id: row.Id };
    });
  }

  private collectionUpsert(req: DataRequest, type: string, fieldName: string): DataResponse {
    const def = this.sobject(type, req.version);
    const f = this.externalIdField(def, fieldName);
    const { allOrNone, records } = this.collectionBody(req);
    for (const record of records) {
      if (this.recordType(req, record) !== def) {
        // (unverified) text
        throw new ApiError(400, "INVALID_TYPE", `Every record must be of the type in the URL: ${def.name}`);
      }
    }
    const parsed = records.map((r) => this.deps.dml.parse(def, r));
    const keyOf = (p: ParsedRecord): unknown => (f.name === "Id" ? p.id : p.values.get(f.name));
    const keyCounts = new Map<string, number>();
    for (const p of parsed) {
      const key = keyOf(p);
      if (key !== undefined && key !== null) {
        const k = f.caseSensitive ? String(key) : String(key).toLowerCase();
        keyCounts.set(k, (keyCounts.get(k) ?? 0) + 1);
      }
    }
    return this.perRecord(records.length, allOrNone, (i) => {
      const record = parsed[i];
      const key = keyOf(record);
      if (key === undefined || key === null || key === "") {
        throw new RecordError("MISSING_ARGUMENT", `${f.name} not specified`, [f.name]);
      }
      if ((keyCounts.get(f.caseSensitive ? String(key) : String(key).toLowerCase()) ?? 0) > 1) {
        throw new RecordError("DUPLICATE_EXTERNAL_ID", `Duplicate external id specified: ${String(key)}`, [
          f.name,
        ]);
      }
      const values = new Map(record.values);
      values.delete(f.name);
      const outcome = this.deps.dml.upsert({ ...record, values, id: undefined }, f, key, req.write);
      if ("multiple" in outcome) {
        throw new RecordError(
          "DUPLICATE_EXTERNAL_ID",
          `${f.name}: more than one record found for external id field: [${outcome.multiple.join(", ")}]`,
          [f.name],
        );
      }
      return { id: outcome.id, created: outcome.created };
    });
  }

  private collectionDelete(req: DataRequest): DataResponse {
    const idsParam = req.query.get("ids");
    if (!idsParam) throw new ApiError(400, "MISSING_ARGUMENT", "ids parameter is required");
    const ids = idsParam.split(",");
    if (ids.length > COLLECTION_LIMIT) throw new ApiError(400, "EXCEEDED_ID_LIMIT", MESSAGES.exceededIdLimit);
    const allOrNone = req.query.get("allOrNone") === "true";
    return this.perRecord(ids.length, allOrNone, (i) => {
      const { def, row } = this.deps.dml.existingForWrite(undefined, ids[i]);
      this.deps.dml.remove(def, row, req.write);
      return { id: row.Id };
    });
  }

  private collectionRetrieve(req: DataRequest, type: string): DataResponse {
    const def = this.sobject(type, req.version);
    let ids: unknown;
    let fields: unknown;
    if (req.method === "GET") {
      ids = req.query.get("ids")?.split(",");
      fields = req.query.get("fields")?.split(",");
    } else {
      const body = this.requireBody(req) as { ids?: unknown; fields?: unknown };
      ids = body?.ids;
      fields = body?.fields;
    }
    if (!Array.isArray(ids) || !Array.isArray(fields) || fields.length === 0) {
      throw new ApiError(400, "MISSING_ARGUMENT", "ids and fields are required");
    }
    if (ids.length > 2000)
      throw new ApiError(400, "EXCEEDED_ID_LIMIT", "cannot retrieve more than 2000 records");
    const fieldDefs = this.fieldList(def, fields.map(String));
    const body = ids.map((raw) => {
      const id = canonicalId(raw);
      const row = id ? this.deps.store.table(def.name).get(id) : undefined;
      return row && row.IsDeleted !== true ? this.recordOut(def, row, req.version, fieldDefs) : null;
    });
    return { status: 200, body };
  }

  // ---- composite -----------------------------------------------------------------------------

  private composite(req: DataRequest): DataResponse {
    const body = this.requireBody(req) as { allOrNone?: unknown; compositeRequest?: unknown };
    const subrequests = this.subrequests(body?.compositeRequest);
    if (subrequests.length > COMPOSITE_LIMIT) {
      // (unverified) text; the limit of 25 is documented.
      throw new ApiError(
        400,
        "LIMIT_EXCEEDED",
        `A composite request can have at most ${COMPOSITE_LIMIT} subrequests`,
      );
    }
    const heavy = subrequests.filter((s) =>
      /\/(query|queryAll|composite\/sobjects)(\/|\?|$)/.test(s.url),
    ).length;
    if (heavy > COMPOSITE_QUERY_OR_COLLECTION_LIMIT) {
      // (unverified) text; the limit of 5 is documented.
      throw new ApiError(
        400,
        "LIMIT_EXCEEDED",
        `A composite request can have at most ${COMPOSITE_QUERY_OR_COLLECTION_LIMIT} query or sObject Collections subrequests`,
      );
    }
    return {
      status: 200,
      body: { compositeResponse: this.runComposite(req, subrequests, body.allOrNone === true).responses },
    };
  }

  private graph(req: DataRequest): DataResponse {
    const body = this.requireBody(req) as { graphs?: unknown };
    if (!Array.isArray(body?.graphs)) throw new ApiError(400, "JSON_PARSER_ERROR", "graphs is required");
    const graphs = body.graphs as { graphId?: unknown; compositeRequest?: unknown }[];
    const parsed = graphs.map((g) => ({
      graphId: String(g?.graphId ?? ""),
      subrequests: this.subrequests(g?.compositeRequest),
    }));
    const nodes = parsed.reduce((n, g) => n + g.subrequests.length, 0);
    if (graphs.length > GRAPH_LIMIT || nodes > GRAPH_NODE_LIMIT) {
      // (unverified) text; the limits are documented (resources_composite_graph_limits).
      throw new ApiError(
        400,
        "LIMIT_EXCEEDED",
        `A graph request can have at most ${GRAPH_LIMIT} graphs and ${GRAPH_NODE_LIMIT} nodes`,
      );
    }
    const results = parsed.map((g) => {
      const { responses, failed } = this.runComposite(req, g.subrequests, true);
      return { graphId: g.graphId, graphResponse: { compositeResponse: responses }, isSuccessful: !failed };
    });
    return { status: 200, body: { graphs: results } };
  }

  private subrequests(raw: unknown): Subrequest[] {
    if (!Array.isArray(raw) || raw.length === 0) {
      throw new ApiError(400, "JSON_PARSER_ERROR", "compositeRequest must be a non-empty array");
    }
    const seen = new Set<string>();
    return raw.map((s: Record<string, unknown>) => {
      const { method, url, referenceId } = s ?? {};
      if (typeof method !== "string" || typeof url !== "string" || typeof referenceId !== "string") {
        throw new ApiError(400, "JSON_PARSER_ERROR", "Each subrequest needs method, url and referenceId");
      }
      if (!/^[A-Za-z0-9_]+$/.test(referenceId) || seen.has(referenceId)) {
        // (unverified) text
        throw new ApiError(400, "INVALID_INPUT", `Invalid or duplicate referenceId: ${referenceId}`);
      }
      seen.add(referenceId);
      return { method: method.toUpperCase(), url, referenceId, body: s.body, httpHeaders: s.httpHeaders };
    });
  }

  /**
   * Runs subrequests in order, resolving `@{ref.path}` against earlier successful bodies.
   * With allOrNone the first failure rolls everything back: the failing subrequest keeps its
   * response and every other one reports PROCESSING_HALTED (fixture
   * salesforce-composite-allornone-case4-response.json).
   */
  private runComposite(
    req: DataRequest,
    subrequests: Subrequest[],
    allOrNone: boolean,
  ): { responses: CompositeResponse[]; failed: boolean } {
    const { store } = this.deps;
    const outer = store.savepoint();
    const bodies = new Map<string, unknown>();
    const responses: CompositeResponse[] = [];
    let failedIndex = -1;
    for (const sub of subrequests) {
      if (allOrNone && failedIndex >= 0) break;
      const savepoint = store.savepoint();
      const response = this.runSubrequest(req, sub, bodies);
      const failed = response.httpStatusCode >= 400 || (allOrNone && collectionFailed(sub, response));
      if (failed) {
        if (response.httpStatusCode >= 400) store.rollback(savepoint);
        if (failedIndex < 0) failedIndex = responses.length;
      } else if (response.httpStatusCode < 300) {
        bodies.set(sub.referenceId, response.body);
      }
      responses.push(response);
    }
    if (allOrNone && failedIndex >= 0) {
      store.rollback(outer);
      const halted = (referenceId: string): CompositeResponse => ({
        body: [{ errorCode: "PROCESSING_HALTED", message: MESSAGES.processingHalted }],
        httpHeaders: {},
        httpStatusCode: 400,
        referenceId,
      });
      return {
        responses: subrequests.map((s, i) => (i === failedIndex ? responses[i] : halted(s.referenceId))),
        failed: true,
      };
    }
    return { responses, failed: failedIndex >= 0 };
  }

  private runSubrequest(req: DataRequest, sub: Subrequest, bodies: Map<string, unknown>): CompositeResponse {
    const reply = (
      status: number,
      body: unknown,
      headers: Record<string, string> = {},
    ): CompositeResponse => ({
      body: status === 204 ? null : body,
      httpHeaders: headers,
      httpStatusCode: status,
      referenceId: sub.referenceId,
    });
    let url: string;
    let body: unknown;
    try {
      url = resolveReferences(sub.url, bodies) as string;
      body = resolveReferences(sub.body, bodies);
    } catch (err) {
      if (err instanceof UnresolvedReference) {
        return reply(400, [
          {
            errorCode: "PROCESSING_HALTED",
            message: `Invalid reference specified. No value for ${err.expression} found in ${err.referenceId}.`,
          },
        ]);
      }
      throw err;
    }
    const m = /^\/services\/data\/v(\d+\.\d)(\/[^?]*)?(?:\?(.*))?$/.exec(url);
    if (!m || !this.deps.apiVersions.includes(m[1])) return reply(404, notFound().body());
    const path = m[2] ?? "";
    if (/^\/composite(\/graph)?\/?$/.test(path)) {
      // (unverified) text
      return reply(400, [
        { errorCode: "INVALID_API_INPUT", message: `Composite subrequests cannot call ${path}` },
      ]);
    }
    const match = this.route(sub.method, path);
    if (match instanceof ApiError) return reply(match.status, match.body());
    const response = this.run(match, {
      ...req,
      method: sub.method,
      path,
      query: new URLSearchParams(m[3] ?? ""),
      body,
      version: m[1],
      headers: { ...req.headers, ...lowerKeys(sub.httpHeaders) },
    });
    return reply(response.status, response.body, response.headers);
  }
}

interface Subrequest {
  method: string;
  url: string;
  referenceId: string;
  body: unknown;
  httpHeaders: unknown;
}

interface CompositeResponse {
  body: unknown;
  httpHeaders: Record<string, string>;
  httpStatusCode: number;
  referenceId: string;
}

class UnresolvedReference extends Error {
  constructor(
    readonly expression: string,
    readonly referenceId: string,
  ) {
    super(expression);
  }
}

const REFERENCE = /@\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\[\d+\])+)\}/g;

/** Replaces `@{refOrder.id}` / `@{q.records[0].Id}` in strings, recursively through objects. */
function resolveReferences(value: unknown, bodies: Map<string, unknown>): unknown {
  if (typeof value === "string") {
    return value.replace(REFERENCE, (_all, referenceId: string, path: string) => {
      const expression = `${referenceId}${path}`;
      let current: unknown = bodies.get(referenceId);
      for (const [, key, index] of path.matchAll(/\.([A-Za-z0-9_]+)|\[(\d+)\]/g)) {
        if (current === null || typeof current !== "object") {
          current = undefined;
          break;
        }
        current = (current as Record<string, unknown>)[key ?? Number(index)];
      }
      if (current === undefined || current === null || typeof current === "object") {
        throw new UnresolvedReference(expression, referenceId);
      }
      return String(current);
    });
  }
  if (Array.isArray(value)) return value.map((v) => resolveReferences(v, bodies));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveReferences(v, bodies)]));
  }
  return value;
}

function collectionFailed(sub: Subrequest, response: CompositeResponse): boolean {
  return (
    /\/composite\/sobjects/.test(sub.url) &&
    Array.isArray(response.body) &&
    response.body.some((r) => (r as { success?: unknown })?.success === false)
  );
}

function lowerKeys(headers: unknown): Record<string, string> {
  if (!headers || typeof headers !== "object") return {};
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
}

/** `{id, success, errors, created}` in the order Salesforce writes them. */
function orderResultKeys(result: Record<string, unknown>): Record<string, unknown> {
  if (result.success !== true) return result;
  const { id, success, errors, ...rest } = result;
  return { id, success, errors, ...rest };
}
