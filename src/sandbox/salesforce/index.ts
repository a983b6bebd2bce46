/**
 * A strict Salesforce REST simulator (node:http) that jsforce 3.x can log in to and talk to:
 * the OAuth token endpoint, identity, versions, limits, describe, single records, upsert by
 * external id, SOQL query with paging, sObject Collections, composite and composite graph,
 * with the Order-domain rules enforced. Contract: reference/salesforce-rest.md §1–§4, §7.
 * One server is both the login URL and the instance URL.
 *
 * Counters (`counters`, all start at 0): one per route ("oauth.token", "oauth.token.<grant>",
 * "oauth.revoke", "identity", "versions", "resources", "limits", "describeGlobal",
 * "sobject.basic|describe|create|retrieve|update|delete|upsert|retrieveByExternalId|
 * deleteByExternalId", "query", "queryAll", "queryMore", "collections.create|update|upsert|
 * delete|retrieve", "composite", "composite.graph", "notFound"), "api" (billable data API
 * calls: one per HTTP request, so a composite or collections call counts once, as in
 * Salesforce), "session.invalid" (401s), "limit.exceeded" (403s from the daily limit) and
 * "fault.<kind>" per injected fault.
 */
import { createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { addressPicklistsOf, type AddressPicklists } from "./addresses";
import { Dml } from "./dml";
import { ApiError, MESSAGES, RecordError, notFound } from "./errors";
import { FaultInjector, type FaultKind, type FaultOptions } from "./faults";
import { formatDateTime } from "./fields";
import { IdFactory, canonicalId, checksumSuffix } from "./ids";
import { OAuthServer, type ConnectedApp, type SimUser } from "./oauth";
import { OrgRules } from "./org-rules";
import { DataApi, releaseLabel, type DataResponse } from "./rest";
import { Schema, type OrderStatusDef, type SchemaOptions } from "./schema";
import { RecordStore, type Row } from "./store";

export type { FaultKind, FaultOptions } from "./faults";
export type { CustomFieldSpec, OrderStatusDef } from "./schema";
export type { AddressPicklists } from "./addresses";
export { DEFAULT_ADDRESS_PICKLISTS } from "./addresses";

export interface SimulatorUserOptions {
  username: string;
  password: string;
  securityToken?: string;
  firstName?: string;
  lastName?: string;
  email?: string;
}

export interface SimulatorClientOptions {
  clientId: string;
  clientSecret: string;
  /** Certificate (public key) for the JWT bearer grant; default: the simulator's own key pair. */
  publicKeyPem?: string;
  /** Run-as user of the client-credentials flow (default: the first user). */
  runAsUsername?: string;
}

export interface SalesforceSimulatorOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Supported API versions (default 60.0, 61.0, 62.0); other versions answer 404. */
  apiVersions?: string[];
  users?: SimulatorUserOptions[];
  clients?: SimulatorClientOptions[];
  /** Added to every response. */
  latencyMs?: number;
  faults?: FaultOptions;
  /** Access token lifetime (default 2 h). */
  sessionTtlMs?: number;
  /** Adds CurrencyIsoCode fields and the CurrencyType object. */
  multiCurrency?: boolean;
  /** Active currencies, corporate first (default USD, EUR, GBP). */
  currencies?: string[];
  /**
   * CurrencyType.DecimalPlaces per ISO code (multi-currency orgs); default the currency's minor
   * unit for the codes in `MINOR_UNITS` (JPY 0, BHD 3 …), else 2.
   */
  currencyDecimals?: Record<string, number>;
  /** Describe `scale` of UnitPrice, ListPrice, TotalPrice and TotalAmount (default 2). */
  amountScale?: number;
  /** Order Status picklist (default Draft, In Progress → Draft; Activated, Shipped → Activated). */
  orderStatuses?: OrderStatusDef[];
  /** Custom external-ID text fields per sObject (replaces the defaults below). */
  externalIdFields?: SchemaOptions["externalIdFields"];
  /** Other custom fields per sObject; a plain name is a Text(255) field. */
  customFields?: SchemaOptions["customFields"];
  /**
   * State and Country/Territory Picklists (default off): `true` for the default lists
   * (addresses.ts), or the org's own countries (code → name) and states per country.
   */
  addressPicklists?: boolean | Partial<AddressPicklists>;
  /** DailyApiRequests Max (default 15000); beyond it data calls get 403 REQUEST_LIMIT_EXCEEDED. */
  dailyApiLimit?: number;
}

export interface SalesforceCredentials {
  clientId: string;
  clientSecret: string;
  username: string;
  /** Without the security token: jsforce's login takes `password + securityToken`. */
  password: string;
  securityToken: string;
  /** Private key matching the connected app's certificate, for signing JWT bearer assertions. */
  privateKeyPem?: string;
  /** A refresh token for the first user and client, as the web-server flow would issue it. */
  refreshToken?: string;
}

/** The org's data, for seeding and assertions (no HTTP, no counters, no faults). */
export interface SalesforceDb {
  readonly orgId: string;
  readonly userId: string;
  readonly standardPricebookId: string;
  /** Live rows (or all rows) of an sObject, as stored: wire-format values, 18-character ids. */
  records(type: string, options?: { includeDeleted?: boolean }): Record<string, unknown>[];
  get(id: string): Record<string, unknown> | undefined;
  count(type: string): number;
  /** Insert with the same validation and rules as the API; throws `Error("CODE: message")`. */
  insert(type: string, fields: Record<string, unknown>): string;
  update(type: string, id: string, fields: Record<string, unknown>): void;
}

export interface SalesforceSimulator {
  /** Login URL and instance URL, e.g. `http://127.0.0.1:41234` (no trailing slash). */
  url: string;
  credentials: SalesforceCredentials;
  counters: Record<string, number>;
  db: SalesforceDb;
  apiVersions: string[];
  /** Invalidates every access token: the next data call gets 401 INVALID_SESSION_ID. */
  expireSessions(): void;
  setFaults(faults: FaultOptions | undefined): void;
  stop(): Promise<void>;
}

export const DEFAULT_ORDER_STATUSES: OrderStatusDef[] = [
  { label: "Draft", apiName: "Draft", statusCode: "Draft" },
  { label: "In Progress", apiName: "In Progress", statusCode: "Draft" },
  { label: "Activated", apiName: "Activated", statusCode: "Activated" },
  { label: "Shipped", apiName: "Shipped", statusCode: "Activated" },
];

export const DEFAULT_EXTERNAL_ID_FIELDS: SchemaOptions["externalIdFields"] = {
  Account: ["Magento_Customer_Key__c"],
  Contact: ["Magento_Customer_Key__c"],
  Product2: ["Magento_Sku__c"],
  Order: ["Magento_Order_Key__c"],
  OrderItem: ["Magento_Item_Key__c"],
};

const DEFAULT_USER: SimulatorUserOptions = {
  username: "integration@orderbridge.example",
  password: "Sandbox-Pass-1",
  securityToken: "SimToken0rderBridge5f2",
  firstName: "Integration",
  lastName: "User",
  email: "integration@orderbridge.example",
};

const DEFAULT_CLIENT = {
  clientId: "3MVG9OrderBridgeSimulator.ConnectedApp.ConsumerKey.ForTestsOnly.x8Yq2bPzL7mRt4Wv0Nc3Hs6",
  clientSecret: "5E1F0C2B7A9D4E3F8A6B1C0D9E2F7A4B3C8D5E6F1A0B9C2D7E4F3A8B5C6D1E0F",
};

const ROUTE_NAMES = [
  "oauth.token",
  "oauth.revoke",
  "identity",
  "versions",
  "resources",
  "limits",
  "describeGlobal",
  "sobject.basic",
  "sobject.describe",
  "sobject.create",
  "sobject.retrieve",
  "sobject.update",
  "sobject.delete",
  "sobject.upsert",
  "sobject.retrieveByExternalId",
  "sobject.deleteByExternalId",
  "query",
  "queryAll",
  "queryMore",
  "collections.create",
  "collections.update",
  "collections.upsert",
  "collections.delete",
  "collections.retrieve",
  "composite",
  "composite.graph",
  "notFound",
  "api",
  "session.invalid",
  "limit.exceeded",
];

interface Reply extends DataResponse {
  /** Drop the connection instead of answering. */
  reset?: boolean;
  text?: string;
}

const JSON_TYPE = "application/json;charset=UTF-8";

export async function startSalesforceSimulator(
  options: SalesforceSimulatorOptions = {},
): Promise<SalesforceSimulator> {
  const apiVersions = options.apiVersions ?? ["60.0", "61.0", "62.0"];
  const orderStatuses = options.orderStatuses ?? DEFAULT_ORDER_STATUSES;
  if (!orderStatuses.some((s) => s.statusCode === "Draft")) {
    throw new Error("Salesforce simulator: orderStatuses needs at least one Draft-category status");
  }
  const multiCurrency = options.multiCurrency ?? false;
  const currencies = options.currencies ?? ["USD", "EUR", "GBP"];
  const dailyApiLimit = options.dailyApiLimit ?? 15000;
  const latencyMs = options.latencyMs ?? 0;
  const addressPicklists = addressPicklistsOf(options.addressPicklists);

  const schema = new Schema({
    addressPicklists,
    multiCurrency,
    currencies,
    orderStatuses,
    externalIdFields: options.externalIdFields ?? DEFAULT_EXTERNAL_ID_FIELDS,
    customFields: options.customFields ?? {},
    amountScale: options.amountScale,
  });
  const store = new RecordStore();
  const ids = new IdFactory();
  const rules = new OrgRules(schema, store, { orderStatuses, multiCurrency, currencies, addressPicklists });
  const dml = new Dml(schema, store, ids, rules);
  const orgId = orgIdOf();

  const users: SimUser[] = (options.users ?? [DEFAULT_USER]).map((u) => ({
    id: ids.create("005"),
    username: u.username,
    password: u.password,
    securityToken: u.securityToken ?? "",
    firstName: u.firstName ?? "Integration",
    lastName: u.lastName ?? u.username.split("@")[0],
    email: u.email ?? u.username,
  }));
  if (users.length === 0) throw new Error("Salesforce simulator: at least one user is needed");
  const keyPair = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const privateKeyPem = keyPair.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const apps: ConnectedApp[] = (options.clients ?? [DEFAULT_CLIENT]).map((c: SimulatorClientOptions) => ({
    clientId: c.clientId,
    clientSecret: c.clientSecret,
    publicKey: c.publicKeyPem ? createPublicKey(c.publicKeyPem) : (keyPair.publicKey as KeyObject),
    runAs: users.find((u) => u.username === c.runAsUsername) ?? users[0],
  }));
  if (apps.length === 0) throw new Error("Salesforce simulator: at least one client is needed");

  const decimalPlaces = (code: string): number => options.currencyDecimals?.[code] ?? MINOR_UNITS[code] ?? 2;
  const standardPricebookId = seedOrg(
    store,
    ids,
    users,
    orderStatuses,
    multiCurrency ? currencies.map((code) => ({ code, decimals: decimalPlaces(code) })) : [],
  );

  let url = "";
  const oauth = new OAuthServer(orgId, users, apps, options.sessionTtlMs ?? 2 * 60 * 60_000, () => url);
  let apiUsed = 0;
  const counters: Record<string, number> = Object.fromEntries(ROUTE_NAMES.map((n) => [n, 0]));
  const count = (name: string): void => {
    counters[name] = (counters[name] ?? 0) + 1;
  };
  const faults = new FaultInjector(options.faults);
  const dataApi = new DataApi({
    schema,
    store,
    dml,
    ids,
    oauth,
    apiVersions,
    apiUsage: () => ({ used: apiUsed, max: dailyApiLimit }),
  });

  const timers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          timers.delete(entry);
          resolve();
        }, ms),
        resolve,
      };
      timers.add(entry);
    });

  const limitHeader = (): Record<string, string> => ({
    "Sforce-Limit-Info": `api-usage=${apiUsed}/${dailyApiLimit}`,
  });

  async function dataRequest(
    req: http.IncomingMessage,
    method: string,
    version: string,
    path: string,
    search: URLSearchParams,
    raw: Buffer,
  ): Promise<Reply> {
    const session = oauth.authenticate(bearerToken(req.headers.authorization));
    if (!session) {
      count("session.invalid");
      return { status: 401, body: [{ message: MESSAGES.invalidSession, errorCode: "INVALID_SESSION_ID" }] };
    }
    if (!apiVersions.includes(version)) {
      count("notFound");
      return { status: 404, body: notFound().body() };
    }
    if (apiUsed >= dailyApiLimit) {
      count("limit.exceeded");
      return { status: 403, body: [{ message: MESSAGES.requestLimit, errorCode: "REQUEST_LIMIT_EXCEEDED" }] };
    }
    apiUsed += 1;
    count("api");
    const headers = limitHeader();
    const match = dataApi.route(method, path);
    if (match instanceof ApiError) {
      count("notFound");
      return { status: match.status, body: match.body(), headers };
    }
    count(match.name);
    let body: unknown;
    if (raw.length > 0) {
      const contentType = req.headers["content-type"] ?? "";
      if (method !== "GET" && method !== "DELETE" && !/^application\/json(\s*;|$)/i.test(contentType)) {
        return {
          status: 415,
          body: [
            {
              errorCode: "UNSUPPORTED_MEDIA_TYPE",
              message: `Content-Type header specified in HTTP request is not supported: ${contentType}`,
            },
          ],
          headers,
        };
      }
      try {
        body = JSON.parse(raw.toString("utf8"));
      } catch (err) {
        return {
          status: 400,
          body: [{ message: (err as Error).message, errorCode: "JSON_PARSER_ERROR" }],
          headers,
        };
      }
    }

    const fault = faults.draw();
    if (fault === "500" || fault === "503" || fault === "request_limit" || fault === "concurrent_limit") {
      count(`fault.${fault}`);
      if (fault === "request_limit" || fault === "concurrent_limit") {
        const message = fault === "request_limit" ? MESSAGES.requestLimit : MESSAGES.concurrentLimit;
        return { status: 403, body: [{ message, errorCode: "REQUEST_LIMIT_EXCEEDED" }], headers };
      }
      return fault === "500"
        ? {
            status: 500,
            body: [
              {
                errorCode: "UNKNOWN_EXCEPTION",
                message:
                  "An unexpected error occurred. Please include this ErrorId if you contact support: 1795386571-108 (1408373263)",
              },
            ],
            headers,
          }
        : {
            status: 503,
            body: [{ errorCode: "SERVER_UNAVAILABLE", message: "Server temporarily unavailable" }],
            headers,
          };
    }
    if (fault === "slow") {
      count("fault.slow");
      await sleep(faults.slowMs);
    }
    let locksLeft = fault === "unable_to_lock_row" ? Infinity : fault === "record_error" ? 1 : 0;
    const beforeWrite = (id: string | undefined): void => {
      if (locksLeft <= 0) return;
      locksLeft -= 1;
      count(`fault.${fault as FaultKind}`);
      throw new RecordError(
        "UNABLE_TO_LOCK_ROW",
        id
          ? `unable to obtain exclusive access to this record or 1 records: ${id}`
          : "unable to obtain exclusive access to this record",
      );
    };
    try {
      const response = dataApi.run(match, {
        method,
        path,
        query: search,
        body,
        version,
        session,
        write: { userId: session.user.id, beforeWrite },
        headers: lowerHeaders(req.headers),
      });
      store.commit();
      if (fault === "reset") count("fault.reset");
      return { ...response, headers: { ...headers, ...response.headers }, reset: fault === "reset" };
    } catch (err) {
      store.rollback(0);
      store.commit();
      throw err;
    }
  }

  async function dispatch(req: http.IncomingMessage, raw: Buffer): Promise<Reply> {
    const method = (req.method ?? "GET").toUpperCase();
    const requestUrl = new URL(req.url ?? "/", "http://simulator.invalid");
    const path = requestUrl.pathname;
    if (path === "/services/oauth2/token") {
      count("oauth.token");
      if (method !== "POST") return { status: 405, text: "Method Not Allowed" };
      const form = new URLSearchParams(raw.toString("utf8"));
      count(`oauth.token.${form.get("grant_type") ?? "none"}`);
      return oauth.token(form);
    }
    if (path === "/services/oauth2/revoke") {
      count("oauth.revoke");
      const form = new URLSearchParams(method === "POST" ? raw.toString("utf8") : requestUrl.search);
      return oauth.revoke(form.get("token"));
    }
    const identity = /^\/id\/([^/]+)\/([^/]+)\/?$/.exec(path);
    if (identity) {
      count("identity");
      const token =
        bearerToken(req.headers.authorization) ?? requestUrl.searchParams.get("oauth_token") ?? undefined;
      const session = oauth.authenticate(token);
      if (!session) return { status: 403, text: "Bad_OAuth_Token" };
      if (canonicalId(identity[1]) !== orgId || canonicalId(identity[2]) !== session.user.id) {
        return { status: 403, text: "Bad_Id" };
      }
      return { status: 200, body: oauth.identity(session, apiVersions[apiVersions.length - 1]) };
    }
    if (path === "/services/data" || path === "/services/data/") {
      count("versions");
      return {
        status: 200,
        body: apiVersions.map((v) => ({ label: releaseLabel(v), url: `/services/data/v${v}`, version: v })),
      };
    }
    const data = /^\/services\/data\/v([^/]+)(\/.*)?$/.exec(path);
    if (data) return dataRequest(req, method, data[1], data[2] ?? "", requestUrl.searchParams, raw);
    count("notFound");
    return { status: 404, body: notFound().body() };
  }

  const server = http.createServer((req, res) => {
    void (async () => {
      const raw = await readBody(req);
      let reply: Reply;
      try {
        reply = await dispatch(req, raw);
      } catch (err) {
        console.error("Salesforce simulator: internal error", err);
        reply = { status: 500, body: [{ errorCode: "UNKNOWN_EXCEPTION", message: String(err) }] };
      }
      if (latencyMs > 0) await sleep(latencyMs);
      if (res.destroyed || res.writableEnded) return;
      if (reply.reset) {
        req.socket.destroy();
        return;
      }
      send(res, reply);
    })().catch((err: unknown) => {
      console.error("Salesforce simulator: failed to answer", err);
      if (!res.headersSent) res.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address() as AddressInfo;
  url = `http://${address.address}:${address.port}`;

  const user = users[0];
  const ctx = { userId: user.id };
  const direct = <T>(fn: () => T): T => {
    try {
      const result = fn();
      store.commit();
      return result;
    } catch (err) {
      store.rollback(0);
      store.commit();
      if (err instanceof RecordError) throw new Error(`${err.statusCode}: ${err.message}`, { cause: err });
      if (err instanceof ApiError) throw new Error(`${err.errorCode}: ${err.message}`, { cause: err });
      throw err;
    }
  };
  const defOf = (type: string) => {
    const def = schema.get(type);
    if (!def) throw new Error(`Salesforce simulator: unknown sObject ${type}`);
    return def;
  };
  const db: SalesforceDb = {
    orgId,
    userId: user.id,
    standardPricebookId,
    records: (type, o) => store.rows(defOf(type).name, o?.includeDeleted ?? false).map((r) => ({ ...r })),
    get: (id) => {
      const found = store.get(canonicalId(id) ?? "");
      return found ? { ...found.row } : undefined;
    },
    count: (type) => store.rows(defOf(type).name).length,
    insert: (type, fields) => direct(() => dml.insert(dml.parse(defOf(type), fields), ctx)),
    update: (type, id, fields) =>
      direct(() => {
        const def = defOf(type);
        const { row } = dml.existingForWrite(def, id);
        dml.update(row, dml.parse(def, fields), ctx);
      }),
  };

  return {
    url,
    credentials: {
      clientId: apps[0].clientId,
      clientSecret: apps[0].clientSecret,
      username: user.username,
      password: user.password,
      securityToken: user.securityToken,
      privateKeyPem,
      refreshToken: oauth.issueRefreshToken(user, apps[0]),
    },
    counters,
    db,
    apiVersions,
    expireSessions: () => oauth.expireAll(),
    setFaults: (f) => faults.set(f),
    stop: () =>
      new Promise<void>((resolve) => {
        for (const entry of timers) {
          clearTimeout(entry.timer);
          entry.resolve();
        }
        timers.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function orgIdOf(): string {
  const id15 = "00DSm0000000001";
  return id15 + checksumSuffix(id15);
}

/** ISO 4217 minor units that are not 2, for the default DecimalPlaces of a currency type. */
const MINOR_UNITS: Record<string, number> = {
  BHD: 3,
  IQD: 3,
  JOD: 3,
  KWD: 3,
  LYD: 3,
  OMR: 3,
  TND: 3,
  JPY: 0,
  KRW: 0,
  CLP: 0,
  ISK: 0,
  VND: 0,
};

/** Users, order statuses, the standard price book and the currency types (multi-currency orgs). */
function seedOrg(
  store: RecordStore,
  ids: IdFactory,
  users: SimUser[],
  orderStatuses: OrderStatusDef[],
  currencyTypes: { code: string; decimals: number }[],
): string {
  const now = formatDateTime(new Date());
  const audit = {
    IsDeleted: false,
    CreatedDate: now,
    CreatedById: users[0].id,
    LastModifiedDate: now,
    LastModifiedById: users[0].id,
    SystemModstamp: now,
  };
  for (const u of users) {
    store.put("User", {
      Id: u.id,
      Username: u.username,
      FirstName: u.firstName,
      LastName: u.lastName,
      Name: `${u.firstName} ${u.lastName}`,
      Email: u.email,
      IsActive: true,
    });
  }
  const firstDraft = orderStatuses.find((s) => s.statusCode === "Draft");
  orderStatuses.forEach((s, i) => {
    store.put("OrderStatus", {
      Id: ids.create("0Ao"),
      ApiName: s.apiName,
      MasterLabel: s.label,
      StatusCode: s.statusCode,
      IsDefault: s === firstDraft,
      SortOrder: i + 1,
    });
  });
  const standard: Row = {
    Id: ids.create("01s"),
    Name: "Standard Price Book",
    IsActive: true,
    IsStandard: true,
    IsArchived: false,
    Description: null,
    ...audit,
  };
  store.put("Pricebook2", standard);
  currencyTypes.forEach(({ code, decimals }, i) => {
    store.put("CurrencyType", {
      Id: ids.create("02c"),
      IsoCode: code,
      ConversionRate: i === 0 ? 1 : 1 + i / 10,
      DecimalPlaces: decimals,
      IsActive: true,
      IsCorporate: i === 0,
    });
  });
  store.commit();
  return standard.Id as string;
}

function bearerToken(header: string | undefined): string | undefined {
  const m = /^(?:Bearer|OAuth)\s+(\S+)$/i.exec(header ?? "");
  return m ? m[1] : undefined;
}

function lowerHeaders(headers: http.IncomingHttpHeaders): Record<string, string | undefined> {
  return Object.fromEntries(
    Object.entries(headers).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v.join(", ") : v]),
  );
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", () => resolve(Buffer.concat(chunks)));
  });
}

function send(res: http.ServerResponse, reply: Reply): void {
  const headers: Record<string, string> = { ...reply.headers };
  let payload: string | undefined;
  if (reply.text !== undefined) {
    headers["Content-Type"] = "text/plain;charset=UTF-8";
    payload = reply.text;
  } else if (reply.body !== undefined && reply.status !== 204) {
    headers["Content-Type"] = JSON_TYPE;
    payload = JSON.stringify(reply.body);
  }
  res.writeHead(reply.status, headers);
  res.end(payload);
}
