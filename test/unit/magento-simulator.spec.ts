/**
 * The Magento 2.4 REST simulator against the published contract (shared reference
 * magento-rest.md, copied fixtures in test/fixtures/magento): search, auth, writes, faults, seed.
 */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import axios, { type AxiosError } from "axios";
import OAuth from "oauth-1.0a";
import {
  baseStringUri,
  defaultIntegration,
  generateOrders,
  MagentoClock,
  rfc3986,
  signatureBaseString,
  signedQueryParams,
  startMagentoSimulator,
  statePairs,
  type IntegrationOptions,
  type MagentoOrderItem,
  type MagentoOrderRecord,
  type MagentoSimulator,
  type MagentoSimulatorOptions,
} from "../../src/sandbox/magento";

const fixtureDir = path.join(__dirname, "..", "fixtures", "magento");
const errorBodies = JSON.parse(
  readFileSync(path.join(fixtureDir, "magento-error-bodies.json"), "utf8"),
) as Record<string, { message: string; parameters?: unknown }>;
const fixtureOrder = JSON.parse(
  readFileSync(path.join(fixtureDir, "order-customer-bundle-downloadable.json"), "utf8"),
) as MagentoOrderRecord;

interface SearchBody {
  items: MagentoOrderRecord[];
  search_criteria: Record<string, unknown>;
  total_count: number;
}
interface ErrorBody {
  message: string;
  parameters?: unknown;
  errors?: unknown[];
}

// ---------------------------------------------------------------- helpers

const started: MagentoSimulator[] = [];

async function start(opts: MagentoSimulatorOptions = {}): Promise<MagentoSimulator> {
  const sim = await startMagentoSimulator({ clock: new MagentoClock(), ...opts });
  started.push(sim);
  return sim;
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.stop()));
});

/** RFC 3986-encoded query (brackets become %5B/%5D, space %20, comma %2C, percent %25). */
function encodeQuery(params: Record<string, string | number>): string {
  return Object.entries(params)
    .map(([k, v]) => `${rfc3986(k)}=${rfc3986(String(v))}`)
    .join("&");
}

type FilterSpec = [field: string, value: string | number | undefined, condition?: string];

/** searchCriteria in PHP bracket notation: groups of ORed filters, sort orders, paging. */
function criteria(spec: {
  groups?: FilterSpec[][];
  sorts?: Array<[field: string, direction?: string]>;
  pageSize?: number;
  currentPage?: number;
}): Record<string, string> {
  const q: Record<string, string> = {};
  (spec.groups ?? []).forEach((group, g) =>
    group.forEach(([field, value, condition], f) => {
      const p = `searchCriteria[filter_groups][${g}][filters][${f}]`;
      q[`${p}[field]`] = field;
      if (value !== undefined) q[`${p}[value]`] = String(value);
      if (condition) q[`${p}[condition_type]`] = condition;
    }),
  );
  (spec.sorts ?? []).forEach(([field, direction], s) => {
    q[`searchCriteria[sortOrders][${s}][field]`] = field;
    if (direction) q[`searchCriteria[sortOrders][${s}][direction]`] = direction;
  });
  if (spec.pageSize !== undefined) q["searchCriteria[pageSize]"] = String(spec.pageSize);
  if (spec.currentPage !== undefined) q["searchCriteria[currentPage]"] = String(spec.currentPage);
  if (Object.keys(q).length === 0) q.searchCriteria = "";
  return q;
}

interface CallOptions {
  token?: string;
  authorization?: string;
  body?: unknown;
  query?: string;
  timeout?: number;
  headers?: Record<string, string>;
}

function call<T = unknown>(sim: MagentoSimulator, method: string, route: string, o: CallOptions = {}) {
  const headers: Record<string, string> = { ...o.headers };
  if (o.token) headers.Authorization = `Bearer ${o.token}`;
  if (o.authorization) headers.Authorization = o.authorization;
  return axios.request<T>({
    method,
    url: `${sim.url}${route}${o.query ? `?${o.query}` : ""}`,
    data: o.body,
    headers,
    timeout: o.timeout ?? 10_000,
    validateStatus: () => true,
  });
}

async function adminToken(sim: MagentoSimulator, creds = { username: "admin", password: "admin123" }) {
  const res = await call<string>(sim, "POST", "/rest/V1/integration/admin/token", { body: creds });
  assert.equal(res.status, 200, JSON.stringify(res.data));
  return res.data;
}

async function searchOrders(sim: MagentoSimulator, token: string, query: Record<string, string>) {
  const res = await call<SearchBody>(sim, "GET", "/rest/default/V1/orders", {
    token,
    query: encodeQuery(query),
  });
  assert.equal(res.status, 200, JSON.stringify(res.data));
  return res.data;
}

const ids = (orders: Array<{ entity_id: number }>) => orders.map((o) => o.entity_id);
const allOrders = (sim: MagentoSimulator) => [...sim.orders.values()];

function oauthSigner(creds: IntegrationOptions, signatureMethod = "HMAC-SHA256") {
  return new OAuth({
    consumer: { key: creds.consumerKey, secret: creds.consumerSecret },
    signature_method: signatureMethod,
    hash_function: (base, key) => createHmac("sha256", key).update(base).digest("base64"),
  });
}

/** Signs with the oauth-1.0a package: base URL plus the decoded query params as data. */
function oauthHeader(
  creds: IntegrationOptions,
  method: string,
  url: string,
  params: Record<string, string> = {},
) {
  const signer = oauthSigner(creds);
  const data = signer.authorize(
    { url, method, data: params },
    { key: creds.accessToken, secret: creds.accessTokenSecret },
  );
  return signer.toHeader(data).Authorization;
}

const round2 = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;
const num = (v: unknown) => (typeof v === "number" ? v : 0);
const isChildItem = (i: MagentoOrderItem) => i.parent_item_id !== undefined;

// ---------------------------------------------------------------- seed data

describe("Magento simulator: seed data", () => {
  const orders = generateOrders(60, 1);

  it("is deterministic: generateOrders(50, 7) deep-equals a second call, and another seed differs", () => {
    assert.deepEqual(generateOrders(50, 7), generateOrders(50, 7));
    assert.notDeepEqual(generateOrders(50, 7), generateOrders(50, 8));
  });

  it("has every state/status pair of reference §7.5", () => {
    for (const seed of [1, 7, 11]) {
      const seen = new Set(generateOrders(60, seed).map((o) => `${o.state}/${o.status}`));
      for (const [state, status] of statePairs)
        assert.ok(seen.has(`${state}/${status}`), `${state}/${status}, seed ${seed}`);
    }
  });

  it("has guests without customer_id and repeat customers whose e-mail changes letter case", () => {
    const guestOrders = orders.filter((o) => o.customer_is_guest === 1);
    assert.ok(guestOrders.length > 0);
    for (const o of guestOrders) {
      assert.equal(o.customer_id, undefined);
      assert.equal(o.customer_group_id, 0);
    }
    const registered = orders.filter((o) => o.customer_is_guest === 0);
    assert.ok(registered.every((o) => typeof o.customer_id === "number"));
    const byEmail = new Map<string, Set<string>>();
    for (const o of orders) {
      const email = String(o.customer_email);
      byEmail.set(email.toLowerCase(), (byEmail.get(email.toLowerCase()) ?? new Set()).add(email));
    }
    assert.ok(
      [...byEmail.values()].some((variants) => variants.size > 1),
      "an e-mail in two letter cases",
    );
    const perCustomer = new Map<unknown, number>();
    for (const o of registered) perCustomer.set(o.customer_id, (perCustomer.get(o.customer_id) ?? 0) + 1);
    assert.ok(
      [...perCustomer.values()].some((n) => n > 1),
      "a customer with several orders",
    );
  });

  it("models configurable (child at price 0, same SKU) and bundle (children with own prices) items", () => {
    const items = orders.flatMap((o) => o.items.map((i) => ({ o, i })));
    const configurable = items.find(({ i }) => i.product_type === "configurable");
    assert.ok(configurable);
    const child = configurable.o.items.find((i) => i.parent_item_id === configurable.i.item_id);
    assert.ok(child);
    assert.equal(child.price, 0);
    assert.equal(child.sku, configurable.i.sku);
    assert.ok(num(configurable.i.price) > 0);
    assert.equal(child.parent_item?.item_id, configurable.i.item_id);

    const bundle = items.find(({ i }) => i.product_type === "bundle");
    assert.ok(bundle);
    const children = bundle.o.items.filter((i) => i.parent_item_id === bundle.i.item_id);
    assert.ok(children.length > 1);
    assert.ok(children.every((c) => num(c.price) > 0));
    assert.equal(round2(children.reduce((s, c) => s + num(c.row_total), 0)), bundle.i.row_total);
    const types = new Set(items.map(({ i }) => i.product_type));
    for (const t of ["simple", "virtual", "downloadable", "configurable", "bundle"])
      assert.ok(types.has(t), t);
  });

  it("has consistent totals in several currencies, JPY computed with 2 decimals as Magento does, and a zero grand total", () => {
    // Magento stores DECIMAL(20,4); the grand total includes the discount tax compensations
    // (docs/magento-tax-calculation.md §2, §4).
    const stored = (n: number) => round2(n, 4);
    for (const o of orders) {
      const sum =
        num(o.subtotal) +
        num(o.shipping_amount) +
        num(o.tax_amount) +
        num(o.discount_amount) +
        num(o.discount_tax_compensation_amount) +
        num(o.shipping_discount_tax_compensation_amount);
      assert.equal(stored(sum), o.grand_total, `order ${o.entity_id}`);
      const baseSum =
        num(o.base_subtotal) +
        num(o.base_shipping_amount) +
        num(o.base_tax_amount) +
        num(o.base_discount_amount) +
        num(o.base_discount_tax_compensation_amount) +
        num(o.base_shipping_discount_tax_compensation_amount);
      assert.equal(stored(baseSum), o.base_grand_total, `order ${o.entity_id} base`);
      assert.ok(num(o.discount_amount) <= 0, "order discount is negative");
      assert.equal(
        stored(o.items.filter((i) => !isChildItem(i)).reduce((s, i) => s + num(i.row_total), 0)),
        o.subtotal,
      );
      for (const i of o.items) assert.ok(num(i.discount_amount) >= 0, "item discount is positive");
      if (o.state === "complete") assert.equal(o.total_paid, o.grand_total);
    }
    assert.deepEqual(
      new Set(orders.map((o) => o.order_currency_code)),
      new Set(["USD", "EUR", "GBP", "JPY"]),
    );
    for (const o of orders.filter((x) => x.order_currency_code === "JPY")) {
      for (const field of ["grand_total", "subtotal", "tax_amount", "shipping_amount"]) {
        assert.equal(round2(num(o[field])), o[field], `${field} of JPY order ${o.entity_id}`);
      }
    }
    const zero = orders.find((o) => o.grand_total === 0);
    assert.ok(zero, "a 100 % coupon order");
    assert.equal(zero.discount_amount, -num(zero.subtotal));
  });

  it("keeps virtual-only orders without shipping address or method, and always a billing address and payment", () => {
    const virtual = orders.filter((o) => o.is_virtual === 1);
    assert.ok(virtual.length > 0);
    for (const o of virtual) {
      const shipping = (
        o.extension_attributes as { shipping_assignments: Array<{ shipping: Record<string, unknown> }> }
      ).shipping_assignments[0].shipping;
      assert.equal(shipping.address, undefined);
      assert.equal(shipping.method, undefined);
    }
    for (const o of orders) {
      assert.equal((o.billing_address as { address_type: string }).address_type, "billing");
      assert.ok((o.payment as { method: string }).method);
    }
  });

  it("orders entity_id by created_at, shares seconds between orders, and gives string increment ids in two stores", () => {
    for (let i = 1; i < orders.length; i++) {
      assert.equal(orders[i].entity_id, orders[i - 1].entity_id + 1);
      assert.ok(orders[i].created_at >= orders[i - 1].created_at);
    }
    const shared = (field: "created_at" | "updated_at") =>
      orders.length - new Set(orders.map((o) => o[field])).size;
    assert.ok(shared("created_at") > 0, "two orders created in the same second");
    assert.ok(shared("updated_at") >= 3, "several orders updated in the same second");
    assert.ok(orders.every((o) => typeof o.increment_id === "string" && /^\d{9,10}$/.test(o.increment_id)));
    assert.equal(new Set(orders.map((o) => o.increment_id)).size, orders.length);
    assert.deepEqual(new Set(orders.map((o) => o.store_id)), new Set([1, 2]));
    assert.ok(
      orders.every(
        (o) => /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/.test(o.updated_at) && o.updated_at >= o.created_at,
      ),
    );
  });

  it("lists status_histories newest first and uses unicode names", () => {
    for (const o of orders) {
      const dates = o.status_histories.map((h) => h.created_at);
      assert.deepEqual(dates, [...dates].sort().reverse(), `order ${o.entity_id}`);
    }
    const names = orders.flatMap((o) => [
      String(o.customer_firstname),
      String(o.customer_lastname),
      ...o.items.map((i) => i.name),
    ]);
    assert.ok(
      names.some((n) => /[\u4e00-\u9fff]/.test(n)),
      "CJK",
    );
    assert.ok(
      names.some((n) => /[À-ÿ]/.test(n)),
      "accents",
    );
    assert.ok(
      names.some((n) => /\p{Extended_Pictographic}/u.test(n)),
      "emoji",
    );
  });

  it("has every field of the published order fixture", () => {
    const keys = new Set(orders.flatMap((o) => Object.keys(o)));
    for (const k of Object.keys(fixtureOrder)) assert.ok(keys.has(k), `order field ${k}`);
    const itemKeys = new Set(orders.flatMap((o) => o.items.flatMap((i) => Object.keys(i))));
    for (const k of fixtureOrder.items.flatMap((i) => Object.keys(i)))
      assert.ok(itemKeys.has(k), `item field ${k}`);
  });
});

// ---------------------------------------------------------------- searchCriteria

describe("Magento simulator: searchCriteria", () => {
  let sim: MagentoSimulator;
  let token: string;

  beforeEach(async () => {
    sim = await start({ orders: 60, seed: 1 });
    token = await adminToken(sim);
  });

  it("ORs the filters of a group and ANDs the groups", async () => {
    const body = await searchOrders(
      sim,
      token,
      criteria({
        groups: [
          [
            ["status", "complete", "eq"],
            ["status", "canceled", "eq"],
          ],
          [["store_id", 2, "eq"]],
        ],
        pageSize: 300,
      }),
    );
    const expected = allOrders(sim).filter(
      (o) => ["complete", "canceled"].includes(o.status) && o.store_id === 2,
    );
    assert.ok(expected.length > 0);
    assert.deepEqual(new Set(ids(body.items)), new Set(ids(expected)));
    assert.equal(body.total_count, expected.length);
  });

  const like = (pattern: string) =>
    new RegExp(`^${pattern.replace(/[.]/g, "\\.").replace(/%/g, ".*")}$`, "i");
  const rules = (o: MagentoOrderRecord) =>
    typeof o.applied_rule_ids === "string" ? o.applied_rule_ids.split(",") : null;
  const conditionCases: Array<
    [string, string, string | number | undefined, (o: MagentoOrderRecord) => boolean]
  > = [
    ["eq", "status", "complete", (o) => o.status === "complete"],
    ["neq", "status", "complete", (o) => o.status !== "complete"],
    ["like", "customer_email", "jdoe%", (o) => like("jdoe%").test(String(o.customer_email))],
    [
      "nlike",
      "customer_email",
      "%@example.com",
      (o) => !like("%@example.com").test(String(o.customer_email)),
    ],
    ["in", "status", "processing,complete", (o) => ["processing", "complete"].includes(o.status)],
    ["nin", "status", "processing,complete", (o) => !["processing", "complete"].includes(o.status)],
    ["gt", "grand_total", 100, (o) => num(o.grand_total) > 100],
    ["gteq", "entity_id", 30, (o) => o.entity_id >= 30],
    ["lt", "grand_total", 50, (o) => num(o.grand_total) < 50],
    ["lteq", "entity_id", 10, (o) => o.entity_id <= 10],
    ["moreq", "entity_id", 55, (o) => o.entity_id >= 55],
    ["from", "created_at", "2024-01-11 00:00:00", (o) => o.created_at >= "2024-01-11 00:00:00"],
    ["to", "created_at", "2024-01-12", (o) => o.created_at <= "2024-01-12"],
    ["finset", "applied_rule_ids", "1", (o) => rules(o)?.includes("1") ?? false],
    ["nfinset", "applied_rule_ids", "1", (o) => (rules(o) ? !rules(o)?.includes("1") : false)],
    ["null", "customer_id", undefined, (o) => o.customer_id === undefined],
    ["notnull", "customer_id", undefined, (o) => o.customer_id !== undefined],
  ];
  for (const [condition, field, value, predicate] of conditionCases) {
    it(`condition_type ${condition} on ${field} selects exactly the matching orders`, async () => {
      const body = await searchOrders(
        sim,
        token,
        criteria({ groups: [[[field, value, condition]]], pageSize: 300 }),
      );
      const expected = allOrders(sim).filter(predicate);
      assert.ok(
        expected.length > 0 && expected.length < sim.orders.size,
        `a selective case (${expected.length})`,
      );
      assert.deepEqual(
        ids(body.items).sort((a, b) => a - b),
        ids(expected),
      );
    });
  }

  it("compares numeric fields as numbers, not as text (grand_total gt 9 keeps totals of 10 and more)", async () => {
    const body = await searchOrders(
      sim,
      token,
      criteria({ groups: [[["grand_total", "9", "gt"]]], pageSize: 300 }),
    );
    assert.deepEqual(
      new Set(ids(body.items)),
      new Set(ids(allOrders(sim).filter((o) => num(o.grand_total) > 9))),
    );
  });

  it("treats an unknown condition_type as eq, as MySQL's prepareSqlCondition does", async () => {
    const body = await searchOrders(
      sim,
      token,
      criteria({ groups: [[["entity_id", 5, "gte"]]], pageSize: 300 }),
    );
    assert.deepEqual(ids(body.items), [5]);
  });

  it("sorts DESC when a sort order has no direction, and echoes search_criteria with condition_type eq", async () => {
    const body = await searchOrders(
      sim,
      token,
      criteria({ groups: [[["store_id", 1]]], sorts: [["entity_id"]], pageSize: 300 }),
    );
    const got = ids(body.items);
    assert.deepEqual(
      got,
      [...got].sort((a, b) => b - a),
    );
    assert.deepEqual(body.search_criteria, {
      filter_groups: [{ filters: [{ field: "store_id", value: "1", condition_type: "eq" }] }],
      sort_orders: [{ field: "entity_id" }],
      page_size: 300,
    });
  });

  it("applies several sort orders in turn", async () => {
    const body = await searchOrders(
      sim,
      token,
      criteria({
        sorts: [
          ["store_id", "ASC"],
          ["grand_total", "desc"],
          ["entity_id", "ASC"],
        ],
        pageSize: 300,
      }),
    );
    const expected = allOrders(sim).sort(
      (a, b) =>
        a.store_id - b.store_id || num(b.grand_total) - num(a.grand_total) || a.entity_id - b.entity_id,
    );
    assert.deepEqual(ids(body.items), ids(expected));
  });

  it("answers the keyset query of reference §6 with exactly the rows after the watermark", async () => {
    const counts = new Map<string, MagentoOrderRecord[]>();
    for (const o of allOrders(sim)) counts.set(o.updated_at, [...(counts.get(o.updated_at) ?? []), o]);
    const [w, shared] = [...counts.entries()].find(([, list]) => list.length >= 3) ?? [];
    assert.ok(w && shared, "a second shared by several orders");
    const x = shared[1].entity_id;
    const wEnc = w.replace(" ", "%20");
    const query = [
      `searchCriteria[filter_groups][0][filters][0][field]=updated_at`,
      `searchCriteria[filter_groups][0][filters][0][value]=${wEnc}`,
      `searchCriteria[filter_groups][0][filters][0][condition_type]=gt`,
      `searchCriteria[filter_groups][0][filters][1][field]=updated_at`,
      `searchCriteria[filter_groups][0][filters][1][value]=${wEnc}`,
      `searchCriteria[filter_groups][0][filters][1][condition_type]=eq`,
      `searchCriteria[filter_groups][1][filters][0][field]=updated_at`,
      `searchCriteria[filter_groups][1][filters][0][value]=${wEnc}`,
      `searchCriteria[filter_groups][1][filters][0][condition_type]=gt`,
      `searchCriteria[filter_groups][1][filters][1][field]=entity_id`,
      `searchCriteria[filter_groups][1][filters][1][value]=${x}`,
      `searchCriteria[filter_groups][1][filters][1][condition_type]=gt`,
      `searchCriteria[sortOrders][0][field]=updated_at&searchCriteria[sortOrders][0][direction]=ASC`,
      `searchCriteria[sortOrders][1][field]=entity_id&searchCriteria[sortOrders][1][direction]=ASC`,
      `searchCriteria[pageSize]=100&searchCriteria[currentPage]=1`,
    ].join("&");
    const res = await call<SearchBody>(sim, "GET", "/rest/default/V1/orders", { token, query });
    assert.equal(res.status, 200);
    const expected = allOrders(sim)
      .filter((o) => o.updated_at > w || (o.updated_at === w && o.entity_id > x))
      .sort((a, b) =>
        a.updated_at < b.updated_at ? -1 : a.updated_at > b.updated_at ? 1 : a.entity_id - b.entity_id,
      );
    assert.deepEqual(ids(res.data.items), ids(expected));
    assert.ok(
      ids(res.data.items).includes(shared[2].entity_id) && !ids(res.data.items).includes(shared[0].entity_id),
    );
  });

  it("returns no items past the last page in 2.4 mode and repeats the last page in 2.3 mode", async () => {
    const page = (n: number) => criteria({ sorts: [["entity_id", "ASC"]], pageSize: 25, currentPage: n });
    const empty = await searchOrders(sim, token, page(4));
    assert.deepEqual(empty.items, []);
    assert.equal(empty.total_count, 60);

    const old = await start({ orders: 60, seed: 1, overflowMode: "repeat-last" });
    const oldToken = await adminToken(old);
    const repeated = await searchOrders(old, oldToken, page(4));
    assert.deepEqual(ids(repeated.items), ids((await searchOrders(old, oldToken, page(3))).items));
    assert.deepEqual(
      ids(repeated.items),
      Array.from({ length: 10 }, (_, i) => 51 + i),
    );
  });

  it("treats currentPage 0 as page 1", async () => {
    const zero = await searchOrders(
      sim,
      token,
      criteria({ sorts: [["entity_id", "ASC"]], pageSize: 7, currentPage: 0 }),
    );
    assert.deepEqual(ids(zero.items), [1, 2, 3, 4, 5, 6, 7]);
  });

  it("refuses pageSize above 300 with input limits on, and pages by 20 when no pageSize is sent", async () => {
    const res = await call<ErrorBody>(sim, "GET", "/rest/default/V1/orders", {
      token,
      query: encodeQuery(criteria({ pageSize: 301 })),
    });
    assert.equal(res.status, 400);
    assert.deepEqual(res.data, errorBodies["400_pagesize_over_limit"]);
    const all = await searchOrders(sim, token, { searchCriteria: "" });
    assert.equal(all.items.length, 20);
    assert.equal(all.total_count, 60);
    assert.equal(all.search_criteria.page_size, 20);
  });

  it("returns every match without pageSize when input limits are off", async () => {
    const open = await start({ orders: 60, inputLimit: false });
    const body = await searchOrders(open, await adminToken(open), { searchCriteria: "" });
    assert.equal(body.items.length, 60);
    assert.deepEqual(body.search_criteria, { filter_groups: [] });
  });

  it("requires searchCriteria with the %fieldName body", async () => {
    const res = await call<ErrorBody>(sim, "GET", "/rest/default/V1/orders", { token });
    assert.equal(res.status, 400);
    assert.deepEqual(res.data, errorBodies["400_missing_searchCriteria"]);
  });

  it("trims the response to fields=items[entity_id,increment_id],total_count", async () => {
    const q = `${encodeQuery(criteria({ pageSize: 3 }))}&fields=${rfc3986("items[entity_id,increment_id],total_count")}`;
    const res = await call<SearchBody>(sim, "GET", "/rest/default/V1/orders", { token, query: q });
    assert.deepEqual(Object.keys(res.data).sort(), ["items", "total_count"]);
    for (const item of res.data.items)
      assert.deepEqual(Object.keys(item).sort(), ["entity_id", "increment_id"]);
    const onlyItems = await call<SearchBody>(sim, "GET", "/rest/default/V1/orders", {
      token,
      query: `searchCriteria[pageSize]=2&fields=items[entity_id,billing_address[city]]`,
    });
    assert.deepEqual(Object.keys(onlyItems.data), ["items"]);
    assert.deepEqual(Object.keys(onlyItems.data.items[0].billing_address as object), ["city"]);
  });

  it("refuses an unknown searchCriteria key and fails like MySQL on an unknown column", async () => {
    const typo = await call<ErrorBody>(sim, "GET", "/rest/V1/orders", {
      token,
      query: "searchCriteria[page_szie]=5",
    });
    assert.equal(typo.status, 400);
    assert.deepEqual(typo.data.parameters, { fieldName: "PageSzie" });
    const column = await call<ErrorBody>(sim, "GET", "/rest/V1/orders", {
      token,
      query: encodeQuery(criteria({ groups: [[["items.sku", "X"]]] })),
    });
    assert.equal(column.status, 500);
    assert.match(
      column.data.message,
      /^Internal Error\. Details are available in Magento log file\. Report ID: webapi-/,
    );
  });

  it("gives ties of a non-unique sort a page-dependent order, so offset paging on it repeats rows (magento2#25001)", async () => {
    const seen: number[] = [];
    for (let page = 1; page <= 6; page++) {
      seen.push(
        ...ids(
          (
            await searchOrders(
              sim,
              token,
              criteria({ sorts: [["status", "ASC"]], pageSize: 10, currentPage: page }),
            )
          ).items,
        ),
      );
    }
    assert.equal(seen.length, 60);
    assert.ok(new Set(seen).size < 60, "duplicates across pages");
  });
});

// ---------------------------------------------------------------- routes

describe("Magento simulator: routes and store codes", () => {
  let sim: MagentoSimulator;
  let token: string;
  beforeEach(async () => {
    sim = await start({ orders: 20 });
    token = await adminToken(sim);
  });

  it("serves /rest/V1, /rest/default, /rest/all and store view codes; an unknown code matches no route", async () => {
    for (const prefix of ["/rest", "/rest/default", "/rest/all", "/rest/fr"]) {
      const res = await call<MagentoOrderRecord>(sim, "GET", `${prefix}/V1/orders/3`, { token });
      assert.equal(res.status, 200, prefix);
      assert.equal(res.data.entity_id, 3);
    }
    for (const prefix of ["/rest/nope", "/rest/admin"]) {
      const res = await call(sim, "GET", `${prefix}/V1/orders/3`, { token });
      assert.equal(res.status, 404, prefix);
      assert.deepEqual(res.data, { message: "Request does not match any route." });
    }
  });

  it("answers 404 for an unknown route, 405 for a wrong method, 400 for a non-REST method", async () => {
    const unknown = await call(sim, "GET", "/rest/V1/nothing/here", { token });
    assert.equal(unknown.status, 404);
    assert.deepEqual(unknown.data, { message: "Request does not match any route." });
    assert.equal((await call(sim, "GET", "/rest/V1/orders/3/cancel", { token })).status, 405);
    assert.equal((await call(sim, "PATCH", "/rest/V1/orders/3", { token })).status, 400);
  });

  it("answers a missing order with the 404 body, a non-integer id with the type error", async () => {
    const missing = await call(sim, "GET", "/rest/V1/orders/9999", { token });
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.data, errorBodies["404_no_such_order"]);
    const bad = await call<ErrorBody>(sim, "GET", "/rest/V1/orders/abc", { token });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.data.parameters, { value: "abc", type: "int" });
  });

  it("lists store views (with admin) behind Magento_Backend::store and returns a bare status string", async () => {
    const views = await call<Array<Record<string, unknown>>>(sim, "GET", "/rest/V1/store/storeViews", {
      token,
    });
    assert.deepEqual(
      views.data.map((v) => v.code),
      ["admin", "default", "fr"],
    );
    for (const v of views.data)
      assert.deepEqual(Object.keys(v).sort(), [
        "code",
        "id",
        "is_active",
        "name",
        "store_group_id",
        "website_id",
      ]);
    const guest = await call<ErrorBody>(sim, "GET", "/rest/V1/store/storeViews");
    assert.equal(guest.status, 401);
    assert.deepEqual(guest.data.parameters, { resources: "Magento_Backend::store" });
    const status = await call(sim, "GET", "/rest/V1/orders/3/statuses", { token });
    assert.equal(status.data, sim.orders.get(3)?.status);
  });
});

// ---------------------------------------------------------------- authentication

describe("Magento simulator: authentication", () => {
  it("issues an admin token as a bare JSON string that opens ACL routes", async () => {
    const sim = await start({ orders: 5 });
    const res = await call(sim, "POST", "/rest/V1/integration/admin/token", {
      body: { username: "admin", password: "admin123" },
    });
    assert.equal(res.status, 200);
    assert.equal(typeof res.data, "string");
    assert.ok(/^"[^"]+"$/.test(JSON.stringify(res.data)));
    assert.equal((await call(sim, "GET", "/rest/V1/orders/1", { token: res.data as string })).status, 200);
  });

  it("refuses a wrong password with the exact 401 body, and missing fields with required errors", async () => {
    const sim = await start({ orders: 5 });
    const res = await call(sim, "POST", "/rest/V1/integration/admin/token", {
      body: { username: "admin", password: "x" },
    });
    assert.equal(res.status, 401);
    assert.deepEqual(res.data, errorBodies["401_bad_admin_credentials"]);
    const missing = await call<ErrorBody>(sim, "POST", "/rest/V1/integration/admin/token", { body: {} });
    assert.equal(missing.status, 400);
    assert.equal(missing.data.message, "One or more input exceptions have occurred.");
    assert.equal(missing.data.errors?.length, 2);
  });

  it("refuses admin tokens when 2FA is on, after checking the credentials", async () => {
    const sim = await start({
      orders: 5,
      admin: { username: "admin", password: "admin123", twoFactor: true },
    });
    const res = await call(sim, "POST", "/rest/V1/integration/admin/token", {
      body: { username: "admin", password: "admin123" },
    });
    assert.equal(res.status, 401);
    assert.deepEqual(res.data, errorBodies["401_tfa_enabled_admin_token"]);
    const wrong = await call(sim, "POST", "/rest/V1/integration/admin/token", {
      body: { username: "admin", password: "no" },
    });
    assert.deepEqual(wrong.data, errorBodies["401_bad_admin_credentials"]);
  });

  it("treats an expired or invalidated admin token as a guest: 401 with the route's ACL resource", async () => {
    const clock = new MagentoClock();
    clock.freeze("2030-01-01 00:00:00");
    const sim = await start({
      orders: 5,
      clock,
      admin: { username: "admin", password: "admin123", tokenTtlMs: 60_000 },
    });
    const token = await adminToken(sim);
    assert.equal((await call(sim, "GET", "/rest/V1/orders/1", { token })).status, 200);
    clock.advance(61_000);
    const expired = await call(sim, "GET", "/rest/V1/orders/1", { token });
    assert.equal(expired.status, 401);
    assert.deepEqual(expired.data, errorBodies["401_acl"]);

    const fresh = await adminToken(sim);
    sim.expireTokens();
    const cancel = await call(sim, "POST", "/rest/V1/orders/1/cancel", { token: fresh });
    assert.equal(cancel.status, 401);
    assert.deepEqual(cancel.data, {
      message: "The consumer isn't authorized to access %resources.",
      parameters: { resources: "Magento_Sales::cancel" },
    });
  });

  it("accepts the integration access token as Bearer only when bearerEnabled", async () => {
    const on = await start({ orders: 5 });
    assert.equal(
      (await call(on, "GET", "/rest/V1/orders/1", { token: defaultIntegration.accessToken })).status,
      200,
    );
    const off = await start({ orders: 5, integration: { ...defaultIntegration, bearerEnabled: false } });
    const res = await call(off, "GET", "/rest/V1/orders/1", { token: defaultIntegration.accessToken });
    assert.equal(res.status, 401);
    assert.deepEqual(res.data, errorBodies["401_acl"]);
    assert.equal((await call(on, "GET", "/rest/V1/orders/1")).status, 401, "no credentials at all");
  });
});

// ---------------------------------------------------------------- OAuth 1.0a

describe("Magento simulator: OAuth 1.0a", () => {
  const creds = defaultIntegration;

  it("builds the RFC 5849 §3.4.1.1 example base string (known answer)", () => {
    const pairs: Array<[string, string]> = [
      ["b5", "=%3D"],
      ["a3", "a"],
      ["c@", ""],
      ["a2", "r b"],
      ["oauth_consumer_key", "9djdj82h48djs9d2"],
      ["oauth_token", "kkk9d7dh3k39sjv7"],
      ["oauth_signature_method", "HMAC-SHA1"],
      ["oauth_timestamp", "137131201"],
      ["oauth_nonce", "7d8f3e4a"],
      ["c2", ""],
      ["a3", "2 q"],
    ];
    assert.equal(
      signatureBaseString("POST", baseStringUri("http", "EXAMPLE.COM:80", "/request"), pairs),
      "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7",
    );
  });

  it("decodes the query the way Magento does before signing (hand-computed base string)", () => {
    const query = "searchCriteria%5BpageSize%5D=5&b=x%20y+z&a=1%2C2&bad=a=b&oauth_nonce=ignored";
    const params: Array<[string, string]> = [
      ...Object.entries(signedQueryParams(query)),
      ["oauth_consumer_key", "ck"],
      ["oauth_nonce", "n"],
      ["oauth_signature_method", "HMAC-SHA256"],
      ["oauth_timestamp", "1"],
      ["oauth_token", "tk"],
      ["oauth_version", "1.0"],
    ];
    assert.equal(
      signatureBaseString("get", baseStringUri("http", "127.0.0.1:8080", "/rest/V1/orders"), params),
      "GET&http%3A%2F%2F127.0.0.1%3A8080%2Frest%2FV1%2Forders&" +
        "a%3D1%252C2%26b%3Dx%2520y%2520z%26oauth_consumer_key%3Dck%26oauth_nonce%3Dn%26" +
        "oauth_signature_method%3DHMAC-SHA256%26oauth_timestamp%3D1%26oauth_token%3Dtk%26oauth_version%3D1.0%26" +
        "searchCriteria%255BpageSize%255D%3D5",
    );
  });

  it("accepts a hand-signed request (HMAC-SHA256 over a literal base string, no library)", async () => {
    const sim = await start({ orders: 5 });
    const ts = String(Math.floor(Date.now() / 1000));
    const nonce = `hand${ts}`;
    const base =
      `GET&${encodeURIComponent(`${sim.url}/rest/V1/orders`)}&` +
      encodeURIComponent(
        `oauth_consumer_key=${creds.consumerKey}&oauth_nonce=${nonce}&oauth_signature_method=HMAC-SHA256` +
          `&oauth_timestamp=${ts}&oauth_token=${creds.accessToken}&oauth_version=1.0` +
          `&searchCriteria%5Bfilter_groups%5D%5B0%5D%5Bfilters%5D%5B0%5D%5Bfield%5D=status` +
          `&searchCriteria%5Bfilter_groups%5D%5B0%5D%5Bfilters%5D%5B0%5D%5Bvalue%5D=pending%2Cprocessing`,
      );
    const signature = createHmac("sha256", `${creds.consumerSecret}&${creds.accessTokenSecret}`)
      .update(base)
      .digest("base64");
    const header =
      `OAuth oauth_consumer_key="${creds.consumerKey}",oauth_nonce="${nonce}",oauth_signature_method="HMAC-SHA256",` +
      `oauth_timestamp="${ts}",oauth_token="${creds.accessToken}",oauth_version="1.0",` +
      `oauth_signature="${encodeURIComponent(signature)}"`;
    const query =
      "searchCriteria[filter_groups][0][filters][0][field]=status&searchCriteria[filter_groups][0][filters][0][value]=pending,processing";
    const res = await call<SearchBody>(sim, "GET", "/rest/V1/orders", { authorization: header, query });
    assert.equal(res.status, 200, JSON.stringify(res.data));
  });

  it("accepts a GET signed with oauth-1.0a whose query has spaces, commas, % and brackets", async () => {
    const sim = await start({ orders: 60 });
    const params = criteria({
      groups: [
        [["updated_at", "2024-01-10 00:00:00", "gteq"]],
        [["status", "processing,complete,canceled", "in"]],
        [["customer_email", "%@example.%", "like"]],
      ],
      sorts: [["updated_at", "ASC"]],
      pageSize: 300,
    });
    const url = `${sim.url}/rest/default/V1/orders`;
    const res = await call<SearchBody>(sim, "GET", "/rest/default/V1/orders", {
      authorization: oauthHeader(creds, "GET", url, params),
      query: encodeQuery(params),
    });
    assert.equal(res.status, 200, JSON.stringify(res.data));
    const bearer = await searchOrders(sim, creds.accessToken, params);
    assert.ok(bearer.total_count > 0);
    assert.deepEqual(ids(res.data.items), ids(bearer.items));

    // The same, signed by the package from a URL with raw brackets in the query.
    const raw =
      "searchCriteria[filter_groups][0][filters][0][field]=increment_id&searchCriteria[filter_groups][0][filters][0][value]=000000001";
    const signer = oauthSigner(creds);
    const header = signer.toHeader(
      signer.authorize(
        { url: `${url}?${raw}`, method: "GET" },
        { key: creds.accessToken, secret: creds.accessTokenSecret },
      ),
    ).Authorization;
    const rawRes = await call<SearchBody>(sim, "GET", "/rest/default/V1/orders", {
      authorization: header,
      query: raw,
    });
    assert.equal(rawRes.status, 200, JSON.stringify(rawRes.data));
    assert.deepEqual(ids(rawRes.data.items), [1]);
  });

  it("refuses a signature made with the wrong consumer secret", async () => {
    const sim = await start({ orders: 5 });
    const header = oauthHeader(
      { ...creds, consumerSecret: "wrongsecret000000000000000000000" },
      "GET",
      `${sim.url}/rest/V1/orders/1`,
    );
    const res = await call(sim, "GET", "/rest/V1/orders/1", { authorization: header });
    assert.equal(res.status, 401);
    assert.deepEqual(res.data, errorBodies["401_oauth_bad_signature"]);
  });

  it("refuses a reused nonce", async () => {
    const sim = await start({ orders: 5 });
    const header = oauthHeader(creds, "GET", `${sim.url}/rest/V1/orders/1`);
    assert.equal((await call(sim, "GET", "/rest/V1/orders/1", { authorization: header })).status, 200);
    const again = await call(sim, "GET", "/rest/V1/orders/1", { authorization: header });
    assert.equal(again.status, 401);
    assert.deepEqual(again.data, {
      message: "The nonce is already being used by the consumer with ID %1",
      parameters: ["1"],
    });
  });

  it("refuses HMAC-SHA1, oauth_version 2.0, unknown consumer keys and tokens", async () => {
    const sim = await start({ orders: 5 });
    const url = `${sim.url}/rest/V1/orders/1`;
    const sha1 = oauthSigner(creds, "HMAC-SHA1");
    const sha1Header = sha1.toHeader(
      sha1.authorize({ url, method: "GET" }, { key: creds.accessToken, secret: creds.accessTokenSecret }),
    ).Authorization;
    const method = await call<ErrorBody>(sim, "GET", "/rest/V1/orders/1", { authorization: sha1Header });
    assert.equal(method.status, 400);
    assert.deepEqual(method.data, {
      message: "Signature method %1 is not supported",
      parameters: ["HMAC-SHA1"],
    });

    const v2 = oauthHeader(creds, "GET", url).replace('oauth_version="1.0"', 'oauth_version="2.0"');
    assert.equal((await call(sim, "GET", "/rest/V1/orders/1", { authorization: v2 })).status, 400);

    const unknownKey = oauthHeader({ ...creds, consumerKey: "unknownconsumer00000000000000001" }, "GET", url);
    const key = await call<ErrorBody>(sim, "GET", "/rest/V1/orders/1", { authorization: unknownKey });
    assert.equal(key.status, 401);
    assert.equal(key.data.message, "A consumer having the specified key does not exist");

    const shortKey = oauthHeader({ ...creds, consumerKey: "short" }, "GET", url);
    assert.equal(
      (await call<ErrorBody>(sim, "GET", "/rest/V1/orders/1", { authorization: shortKey })).data.message,
      "Consumer key is not the correct length",
    );

    const unknownToken = oauthHeader(
      { ...creds, accessToken: "unknowntoken00000000000000000001" },
      "GET",
      url,
    );
    const token = await call<ErrorBody>(sim, "GET", "/rest/V1/orders/1", { authorization: unknownToken });
    assert.equal(token.status, 401);
    assert.equal(token.data.message, "Specified token does not exist");
  });
});

// ---------------------------------------------------------------- writes

describe("Magento simulator: writes", () => {
  let sim: MagentoSimulator;
  let token: string;
  const now = "2030-01-01 00:00:00";
  const findOrder = (predicate: (o: MagentoOrderRecord) => boolean) => {
    const order = allOrders(sim).find(predicate);
    assert.ok(order, "a suitable seed order");
    return order;
  };
  const units = (o: MagentoOrderRecord) =>
    o.items.filter((i) => !isChildItem(i) && i.is_virtual === 0).reduce((s, i) => s + num(i.qty_ordered), 0);

  beforeEach(async () => {
    const clock = new MagentoClock();
    clock.freeze(now);
    sim = await start({ orders: 60, seed: 1, clock });
    token = await adminToken(sim);
  });

  it("cancels a pending order (true) and refuses a complete one (false)", async () => {
    const pending = findOrder((o) => o.state === "new");
    const res = await call(sim, "POST", `/rest/V1/orders/${pending.entity_id}/cancel`, { token });
    assert.equal(res.status, 200);
    assert.equal(res.data, true);
    assert.equal(pending.state, "canceled");
    assert.equal(pending.status, "canceled");
    assert.equal(pending.updated_at, now);
    assert.ok(pending.items.every((i) => i.qty_canceled === i.qty_ordered));

    const complete = findOrder((o) => o.state === "complete");
    const before = complete.updated_at;
    const refused = await call(sim, "POST", `/rest/V1/orders/${complete.entity_id}/cancel`, { token });
    assert.equal(refused.status, 200);
    assert.equal(refused.data, false);
    assert.equal(complete.updated_at, before);
  });

  it("holds and unholds, refusing with the fixture bodies when not allowed", async () => {
    const order = findOrder((o) => o.state === "processing" && o.status === "processing");
    assert.equal((await call(sim, "POST", `/rest/V1/orders/${order.entity_id}/hold`, { token })).data, true);
    assert.equal(order.state, "holded");
    const twice = await call(sim, "POST", `/rest/V1/orders/${order.entity_id}/hold`, { token });
    assert.equal(twice.status, 400);
    assert.deepEqual(twice.data, errorBodies["400_hold_not_allowed"]);
    assert.equal(
      (await call(sim, "POST", `/rest/V1/orders/${order.entity_id}/unhold`, { token })).data,
      true,
    );
    assert.deepEqual([order.state, order.status], ["processing", "processing"]);
    const unhold = await call(sim, "POST", `/rest/V1/orders/${order.entity_id}/unhold`, { token });
    assert.equal(unhold.status, 400);
    assert.deepEqual(unhold.data, errorBodies["400_unhold_not_allowed"]);
  });

  it("invoices an order, then ships part of it and then the rest, ending Complete", async () => {
    const order = findOrder((o) => o.state === "new" && o.is_virtual === 0 && units(o) >= 2);
    const invoiced = await call(sim, "POST", `/rest/V1/order/${order.entity_id}/invoice`, {
      token,
      body: { capture: true },
    });
    assert.equal(invoiced.status, 200, JSON.stringify(invoiced.data));
    assert.equal(typeof invoiced.data, "number");
    assert.equal(order.total_invoiced, order.grand_total);
    assert.equal(order.total_paid, order.grand_total);
    assert.equal(order.total_due, 0);
    assert.equal(order.state, "processing");
    const again = await call<ErrorBody>(sim, "POST", `/rest/V1/order/${order.entity_id}/invoice`, { token });
    assert.equal(again.status, 400);
    assert.equal(
      again.data.message,
      "Invoice Document Validation Error(s):\nThe order does not allow an invoice to be created.\nThe invoice can't be created without products. Add products and try again.",
    );

    const line = order.items.find((i) => !isChildItem(i) && i.is_virtual === 0);
    assert.ok(line);
    const tooMuch = await call<ErrorBody>(sim, "POST", `/rest/V1/order/${order.entity_id}/ship`, {
      token,
      body: { items: [{ order_item_id: line.item_id, qty: num(line.qty_ordered) + 1 }] },
    });
    assert.equal(tooMuch.status, 400);
    assert.match(tooMuch.data.message, new RegExp(`unshipped quantity for product SKU "${line.sku}"`));

    const first = await call(sim, "POST", `/rest/V1/order/${order.entity_id}/ship`, {
      token,
      body: {
        items: [{ order_item_id: line.item_id, qty: 1 }],
        tracks: [{ track_number: "1Y-9876543210", title: "United Parcel Service", carrier_code: "ups" }],
        arguments: { extension_attributes: { source_code: "default" } },
      },
    });
    assert.equal(first.status, 200, JSON.stringify(first.data));
    assert.equal(line.qty_shipped, 1);
    assert.equal(order.state, "processing");
    const rest = await call(sim, "POST", `/rest/V1/order/${order.entity_id}/ship`, { token, body: {} });
    assert.equal(rest.status, 200, JSON.stringify(rest.data));
    assert.notEqual(rest.data, first.data);
    assert.deepEqual([order.state, order.status], ["complete", "complete"]);
    assert.equal(order.updated_at, now);

    const shipments = await call<SearchBody>(sim, "GET", "/rest/V1/shipments", {
      token,
      query: encodeQuery(criteria({ groups: [[["order_id", order.entity_id, "eq"]]] })),
    });
    assert.equal(shipments.data.total_count, 2);
    assert.deepEqual(
      (shipments.data.items[0].tracks as Array<{ track_number: string }>).map((t) => t.track_number),
      ["1Y-9876543210"],
    );
    const invoices = await call<SearchBody>(sim, "GET", "/rest/V1/invoices", {
      token,
      query: encodeQuery(criteria({ groups: [[["order_id", order.entity_id]]] })),
    });
    assert.deepEqual(ids(invoices.data.items), [invoiced.data as number]);
    assert.equal(invoices.data.items[0].grand_total, order.grand_total);
  });

  it("refuses to ship a complete order with the fixture's validation body", async () => {
    const complete = findOrder((o) => o.state === "complete" && o.is_virtual === 0);
    const res = await call(sim, "POST", `/rest/V1/order/${complete.entity_id}/ship`, { token });
    assert.equal(res.status, 400);
    assert.deepEqual(res.data, errorBodies["400_ship_not_allowed"]);
  });

  it("adds comments newest first, bumps updated_at, and lists them oldest first", async () => {
    const order = findOrder((o) => o.state === "processing");
    const body = {
      statusHistory: {
        comment: "Synced to SF ✓",
        is_customer_notified: 0,
        is_visible_on_front: 0,
        parent_id: order.entity_id,
      },
    };
    const res = await call(sim, "POST", `/rest/V1/orders/${order.entity_id}/comments`, { token, body });
    assert.equal(res.status, 200);
    assert.equal(res.data, true);
    assert.equal(order.status_histories[0].comment, "Synced to SF ✓");
    assert.equal(order.updated_at, now);
    assert.ok(allOrders(sim).every((o) => o.updated_at <= order.updated_at));
    const list = await call<{ items: Array<{ comment?: string }>; total_count: number }>(
      sim,
      "GET",
      `/rest/V1/orders/${order.entity_id}/comments`,
      { token },
    );
    assert.equal(list.data.items.at(-1)?.comment, "Synced to SF ✓");
    assert.equal(list.data.total_count, order.status_histories.length);
    const missing = await call(sim, "POST", `/rest/V1/orders/${order.entity_id}/comments`, {
      token,
      body: { comment: "x" },
    });
    assert.equal(missing.status, 400);
    assert.deepEqual(missing.data, {
      message: '"%fieldName" is required. Enter and try again.',
      parameters: { fieldName: "statusHistory" },
    });
  });

  it("touchOrder never moves updated_at before an existing one, and addOrder appends a new pending order", () => {
    const clock = sim.clock;
    clock.freeze("2020-01-01 00:00:00"); // before the seed: the store keeps time monotonic
    const latest = allOrders(sim).reduce((m, o) => (o.updated_at > m ? o.updated_at : m), "");
    sim.touchOrder(4, { status: "processing" });
    assert.equal(sim.orders.get(4)?.updated_at, latest);
    assert.equal(sim.orders.get(4)?.status, "processing");
    const added = sim.addOrder({ customer_email: "new@example.com" });
    assert.equal(added.entity_id, 61);
    assert.deepEqual([added.state, added.status], ["new", "pending"]);
    assert.equal(added.customer_email, "new@example.com");
    assert.ok(added.updated_at >= latest);
    assert.equal(new Set(allOrders(sim).map((o) => o.increment_id)).size, 61);
  });
});

// ---------------------------------------------------------------- faults, latency, counters

describe("Magento simulator: faults, latency and counters", () => {
  it("answers 429 with Retry-After, and never faults the token route unless asked", async () => {
    const sim = await start({ orders: 5, faults: { rate: 1, kinds: ["429"], retryAfterSeconds: 7 } });
    const token = await adminToken(sim);
    const res = await call(sim, "GET", "/rest/V1/orders/1", { token });
    assert.equal(res.status, 429);
    assert.equal(res.headers["retry-after"], "7");
    assert.equal(sim.counters.faults, 1);
  });

  it("resets the socket without an answer", async () => {
    const sim = await start({ orders: 5, faults: { rate: 1, kinds: ["reset"] } });
    const token = await adminToken(sim);
    await assert.rejects(call(sim, "GET", "/rest/V1/orders/1", { token }), (err: AxiosError) => {
      assert.ok(
        ["ECONNRESET", "ERR_BAD_RESPONSE"].includes(String(err.code)) || /socket hang up/.test(err.message),
        err.message,
      );
      return true;
    });
  });

  it("answers 500/503 with Magento-like bodies, slow answers exceed a client timeout, setFaults turns faults off", async () => {
    const sim = await start({ orders: 5, faults: { rate: 1, kinds: ["500"] } });
    const token = await adminToken(sim);
    const res = await call<ErrorBody>(sim, "GET", "/rest/V1/orders/1", { token });
    assert.equal(res.status, 500);
    assert.match(
      res.data.message,
      /^Internal Error\. Details are available in Magento log file\. Report ID: webapi-/,
    );
    sim.setFaults({ rate: 1, kinds: ["503"] });
    assert.equal((await call(sim, "GET", "/rest/V1/orders/1", { token })).status, 503);
    sim.setFaults({ rate: 1, kinds: ["slow"], slowMs: 400 });
    await assert.rejects(
      call(sim, "GET", "/rest/V1/orders/1", { token, timeout: 100 }),
      (err: AxiosError) => err.code === "ECONNABORTED",
    );
    sim.setFaults(undefined);
    assert.equal((await call(sim, "GET", "/rest/V1/orders/1", { token })).status, 200);
  });

  it("replays the same faults for the same fault seed, only on matching routes", async () => {
    const run = async () => {
      const sim = await start({
        orders: 5,
        faults: { rate: 0.5, kinds: ["500", "429"], seed: 42, routes: /^GET \/V1\/orders\/:id$/ },
      });
      const token = await adminToken(sim);
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++)
        statuses.push((await call(sim, "GET", "/rest/V1/orders/1", { token })).status);
      const other = await call(sim, "GET", "/rest/V1/orders", { token, query: "searchCriteria=" });
      assert.equal(other.status, 200, "route not matched by `routes`");
      return statuses;
    };
    const first = await run();
    assert.deepEqual(await run(), first);
    assert.ok(first.includes(200) && first.some((s) => s !== 200));
  });

  it("counts requests per route key and adds latency", async () => {
    const sim = await start({ orders: 5, latencyMs: 120 });
    const token = await adminToken(sim);
    sim.resetCounters();
    const t0 = Date.now();
    await call(sim, "GET", "/rest/V1/orders", { token, query: "searchCriteria=" });
    assert.ok(Date.now() - t0 >= 110, "latency applied");
    await call(sim, "GET", "/rest/default/V1/orders", { token, query: "searchCriteria=" });
    await call(sim, "GET", "/rest/V1/orders/2", { token });
    await call(sim, "POST", "/rest/V1/orders/2/comments", {
      token,
      body: { statusHistory: { comment: "x" } },
    });
    await call(sim, "GET", "/rest/V1/nope", { token });
    assert.deepEqual(sim.counters, {
      "GET /V1/orders": 2,
      "GET /V1/orders/:id": 1,
      "POST /V1/orders/:id/comments": 1,
      unmatched: 1,
    });
  });
});

// ---------------------------------------------------------------- paging while orders change

describe("Magento simulator: paging while orders change", () => {
  it("an order touched between pages breaks offset paging but not keyset paging (onRequest hook)", async () => {
    const pageSize = 10;
    const sorts: Array<[string, string]> = [
      ["updated_at", "ASC"],
      ["entity_id", "ASC"],
    ];
    const touchOnSecondPage = (sim: MagentoSimulator, victim: () => number) => {
      let calls = 0;
      sim.onRequest = (key) => {
        if (key === "GET /V1/orders" && ++calls === 2) sim.touchOrder(victim());
      };
    };

    const offsetSim = await start({ orders: 60, seed: 3 });
    const offsetToken = await adminToken(offsetSim);
    let firstPage: number[] = [];
    touchOnSecondPage(offsetSim, () => firstPage[0]);
    const offsetSeen: number[] = [];
    for (let page = 1; page <= 6; page++) {
      const body = await searchOrders(
        offsetSim,
        offsetToken,
        criteria({ sorts, pageSize, currentPage: page }),
      );
      if (page === 1) firstPage = ids(body.items);
      offsetSeen.push(...ids(body.items));
    }
    assert.ok(new Set(offsetSeen).size < 60, "offset paging skips an order");
    assert.ok(offsetSeen.length > new Set(offsetSeen).size, "and repeats the touched one");

    const keysetSim = await start({ orders: 60, seed: 3 });
    const keysetToken = await adminToken(keysetSim);
    let keysetFirst: number[] = [];
    touchOnSecondPage(keysetSim, () => keysetFirst[0]);
    const keysetSeen: number[] = [];
    let cursor: { w: string; x: number } | undefined;
    for (;;) {
      const groups: FilterSpec[][] = cursor
        ? [
            [
              ["updated_at", cursor.w, "gt"],
              ["updated_at", cursor.w, "eq"],
            ],
            [
              ["updated_at", cursor.w, "gt"],
              ["entity_id", cursor.x, "gt"],
            ],
          ]
        : [];
      const body = await searchOrders(
        keysetSim,
        keysetToken,
        criteria({ groups, sorts, pageSize, currentPage: 1 }),
      );
      if (!cursor) keysetFirst = ids(body.items);
      keysetSeen.push(...ids(body.items));
      const last = body.items.at(-1);
      if (!last || body.items.length < pageSize) break;
      cursor = { w: last.updated_at, x: last.entity_id };
    }
    assert.equal(new Set(keysetSeen).size, 60, "keyset paging sees every order");
  });
});
