/* Shared setup for the magento-*.spec.ts and retry.spec.ts unit tests. */
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import type { OrderSearcher } from "../../src/magento/order-source";
import type { SearchCriteria } from "../../src/magento/search";

export function loadFixture<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(readFileSync(path.join(__dirname, "..", "fixtures", "magento", name), "utf8")) as T;
}

/** A fresh copy of the full fixture order (bundle, configurable, downloadable). */
export function fixtureOrder(): Record<string, unknown> {
  return loadFixture("order-customer-bundle-downloadable.json");
}

export interface SeenRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}

export interface StubServer {
  url: string;
  requests: SeenRequest[];
  stop(): Promise<void>;
}

export type StubHandler = (req: SeenRequest, res: http.ServerResponse, socketDestroy: () => void) => void;

/** A tiny HTTP server on 127.0.0.1:0; `stop()` also drops keep-alive sockets so mocha can exit. */
export async function startStub(handler: StubHandler): Promise<StubServer> {
  const requests: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const seen: SeenRequest = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        at: Date.now(),
      };
      requests.push(seen);
      handler(seen, res, () => req.socket.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  res.writeHead(status, { "Content-Type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

// ---------------------------------------------------------------------------------
// An independent RFC 5849 verifier (server side), so the client's signing is checked
// against the URL the server actually received, not against the client's own code.
// ---------------------------------------------------------------------------------

const enc = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());

export interface OAuthCreds {
  consumerKey: string;
  consumerSecret: string;
  accessToken: string;
  accessTokenSecret: string;
}

export function verifyOAuthRequest(
  req: SeenRequest,
  host: string,
  creds: OAuthCreds,
): { ok: boolean; why?: string } {
  const header = String(req.headers.authorization ?? "");
  if (!/^oauth /i.test(header)) return { ok: false, why: "no OAuth header" };
  const params: Record<string, string> = {};
  for (const part of header.slice(6).split(",")) {
    const eq = part.indexOf("=");
    const key = decodeURIComponent(part.slice(0, eq).trim());
    params[key] = decodeURIComponent(
      part
        .slice(eq + 1)
        .trim()
        .replace(/^"|"$/g, ""),
    );
  }
  if (params.oauth_signature_method !== "HMAC-SHA256") return { ok: false, why: "method" };
  if (params.oauth_consumer_key !== creds.consumerKey || params.oauth_token !== creds.accessToken) {
    return { ok: false, why: "keys" };
  }
  const [pathname, query = ""] = req.url.split("?");
  const pairs: Array<[string, string]> = [];
  for (const [k, v] of Object.entries(params))
    if (k !== "oauth_signature" && k !== "realm") pairs.push([enc(k), enc(v)]);
  if (query) {
    for (const kv of query.split("&")) {
      const eq = kv.indexOf("=");
      const k = decodeURIComponent(eq < 0 ? kv : kv.slice(0, eq));
      const v = decodeURIComponent(eq < 0 ? "" : kv.slice(eq + 1));
      pairs.push([enc(k), enc(v)]);
    }
  }
  pairs.sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1));
  const base = [
    req.method.toUpperCase(),
    enc(`http://${host}${pathname}`),
    enc(pairs.map(([k, v]) => `${k}=${v}`).join("&")),
  ].join("&");
  const expected = createHmac("sha256", `${enc(creds.consumerSecret)}&${enc(creds.accessTokenSecret)}`)
    .update(base)
    .digest("base64");
  return expected === params.oauth_signature ? { ok: true } : { ok: false, why: `signature; base=${base}` };
}

// ---------------------------------------------------------------------------------
// In-memory order search with Magento's searchCriteria semantics (filters in a group
// ORed, groups ANDed, explicit sorts, pageSize/currentPage), for order-source tests.
// ---------------------------------------------------------------------------------

type Row = Record<string, unknown>;

function matches(row: Row, f: { field: string; value?: unknown; conditionType?: string }): boolean {
  const v = row[f.field];
  const target = f.value;
  const cmp = (a: unknown, b: unknown) =>
    typeof a === "number" ? a - Number(b) : String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
  switch (f.conditionType ?? "eq") {
    case "eq":
      return cmp(v, target) === 0;
    case "gt":
      return cmp(v, target) > 0;
    case "gteq":
      return cmp(v, target) >= 0;
    case "lt":
      return cmp(v, target) < 0;
    case "in": {
      const list = Array.isArray(target) ? target.map(String) : String(target).split(",");
      return list.includes(String(v));
    }
    default:
      throw new Error(`condition ${f.conditionType} not supported by MemoryOrders`);
  }
}

export class MemoryOrders implements OrderSearcher {
  calls: SearchCriteria[] = [];
  /** Runs before each search answers (e.g. to edit orders mid-run). */
  beforeAnswer?: (call: number) => void;

  constructor(public rows: Row[]) {}

  async searchOrders(criteria: SearchCriteria): Promise<{ items: unknown[]; total_count: number }> {
    this.calls.push(criteria);
    this.beforeAnswer?.(this.calls.length);
    let hits = this.rows.filter((row) =>
      (criteria.filterGroups ?? []).every((g) => g.filters.some((f) => matches(row, f))),
    );
    const sorts = criteria.sortOrders ?? [];
    hits = [...hits].sort((a, b) => {
      for (const s of sorts) {
        const x = a[s.field];
        const y = b[s.field];
        const d = typeof x === "number" ? x - (y as number) : String(x).localeCompare(String(y));
        if (d !== 0) return s.direction === "ASC" ? d : -d;
      }
      return 0;
    });
    const size = criteria.pageSize ?? hits.length;
    const page = Math.max(1, criteria.currentPage ?? 1);
    return { items: structuredClone(hits.slice((page - 1) * size, page * size)), total_count: hits.length };
  }
}

/** A minimal valid order for paging tests. */
export function tinyOrder(entityId: number, updatedAt: string, extra: Row = {}): Row {
  return {
    entity_id: entityId,
    increment_id: String(100000000 + entityId),
    state: "processing",
    status: "processing",
    created_at: "2024-01-01 00:00:00",
    updated_at: updatedAt,
    customer_email: `c${entityId}@example.com`,
    order_currency_code: "EUR",
    grand_total: 10,
    items: [{ item_id: entityId * 10, sku: "SKU-1", product_type: "simple", qty_ordered: 1, price: 10 }],
    ...extra,
  };
}
