/**
 * The sale importer against the real Tryton 6.0 and the simulator (same tests, both
 * servers): the tutorial order and 500 simulated orders land as sales whose lines,
 * prices, currency, addresses and totals match Magento; parties and products are never
 * duplicated; a re-run writes nothing; overlapping runs create nothing twice; states follow
 * Magento, with a `conflict` where Tryton cannot; bad data fails one order, not the page.
 *
 * Every test works in its own range of Magento entity ids, so the tests share one server
 * (and its parties and products, as a shop would) without reading each other's sales.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";

import { lineItems, shippingAddress, validateOrder, type MagentoOrder } from "../../src/magento/schema";
import { generateOrders } from "../../src/sandbox/magento/seed";
import { minorUnitStep, payableOf } from "../../src/magento/order-amounts";
import { amount, amountText, roundHalfEven } from "../../src/sync/amounts";
import { TrytonError, type TrytonClient, type TrytonRecord } from "../../src/tryton/rpc";
import { SaleImporter, type ImportSettings, type ImportSummary } from "../../src/tryton/sale-import";
import { parseMarker } from "../../src/tryton/sale-mapping";
import { describeOnEveryTryton, type ContractContext } from "./harness";
import { isRoundingLine, untaxedMismatch } from "../support/reliability-shop";
import { shopImportSettings } from "../../src/sandbox/tryton/shop-settings";

type RawOrder = Record<string, unknown> & { entity_id: number; increment_id: string; items: unknown[] };

const PAGE = 100;
const PREFIX = "MAG-";
const writeMethods = /\.(create|write|delete|copy|quote|confirm|process|cancel|draft)$/;

function tutorialOrder(): RawOrder {
  const file = path.join(__dirname, "..", "fixtures", "magento", "order-customer-bundle-downloadable.json");
  return JSON.parse(readFileSync(file, "utf8")) as RawOrder;
}

/** Orders moved into their own entity-id range (and increment ids), so each test has its own sales. */
function inRange(orders: RawOrder[], range: number): RawOrder[] {
  return orders.map((o) => {
    const copy = structuredClone(o);
    copy.entity_id = range * 1_000_000 + o.entity_id;
    copy.increment_id = `${range}-${o.increment_id}`;
    return copy;
  });
}

function valid(raw: RawOrder): MagentoOrder {
  const checked = validateOrder(raw);
  if (!checked.ok) throw new Error(checked.error.message);
  return checked.order;
}

function pages<T>(items: T[], size = PAGE): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Every JSON-RPC method the client sends from now on. */
function recordMethods(client: TrytonClient): string[] {
  const seen: string[] = [];
  client.http.interceptors.request.use((config) => {
    seen.push((JSON.parse(String(config.data)) as { method: string }).method);
    return config;
  });
  return seen;
}

async function importAll(importer: SaleImporter, orders: RawOrder[]): Promise<ImportSummary> {
  const all: ImportSummary = { results: [], failures: [] };
  for (const page of pages(orders)) {
    const { results, failures } = await importer.importOrders(page);
    all.results.push(...results);
    all.failures.push(...failures);
  }
  return all;
}

/** Countries and tax rates the simulated customers need beyond the shared fixtures; created once per server. */
async function shopSetup(client: TrytonClient, ctx: ContractContext): Promise<ImportSettings> {
  return shopImportSettings(client, ctx.fixtures, { taxLabel: "Import test VAT", referencePrefix: PREFIX });
}

interface SaleView extends TrytonRecord {
  comment: string;
  reference: string;
  state: string;
  total_amount: string;
  untaxed_amount: string;
  tax_amount: string;
  currency: number;
  party: number;
  invoice_address: number;
  shipment_address: number;
  lines: number[];
}

/** What Tryton holds for the given Magento orders, read in a few calls. */
async function readSales(client: TrytonClient, orders: MagentoOrder[]) {
  const ids = orders.map((o) => ["comment", "ilike", `%magento-order:${o.entity_id};%`]);
  const sales = (await client.searchRead(
    "sale.sale",
    ["OR", ...ids],
    [
      "comment",
      "reference",
      "state",
      "total_amount",
      "untaxed_amount",
      "tax_amount",
      "currency",
      "party",
      "invoice_address",
      "shipment_address",
      "lines",
    ],
  )) as SaleView[];
  const lines = await client.read(
    "sale.line",
    sales.flatMap((s) => s.lines),
    ["sale", "product", "quantity", "unit_price", "amount", "description", "taxes"],
  );
  const products = await client.read(
    "product.product",
    [...new Set(lines.map((l) => l.product as number))],
    ["code"],
  );
  const addresses = await client.read(
    "party.address",
    [...new Set(sales.flatMap((s) => [s.invoice_address, s.shipment_address]))],
    ["party", "party_name", "street", "city", "postal_code", "country", "subdivision"],
  );
  const countries = await client.read(
    "country.country",
    [...new Set(addresses.map((a) => a.country as number))],
    ["code"],
  );
  const currencies = await client.searchRead("currency.currency", [], ["code"]);
  const mechanisms = await client.searchRead(
    "party.contact_mechanism",
    [
      ["type", "=", "email"],
      ["party", "in", [...new Set(sales.map((s) => s.party))]],
    ],
    ["party", "value"],
  );
  const byOrder = new Map<number, SaleView[]>();
  for (const s of sales) {
    const id = parseMarker(s.comment)?.orderId;
    if (id !== undefined) byOrder.set(id, [...(byOrder.get(id) ?? []), s]);
  }
  return {
    byOrder,
    lines: new Map(lines.map((l) => [l.id, l])),
    productCode: new Map(products.map((p) => [p.id, String(p.code)])),
    address: new Map(addresses.map((a) => [a.id, a])),
    countryCode: new Map(countries.map((c) => [c.id, String(c.code)])),
    currencyCode: new Map(currencies.map((c) => [c.id, String(c.code)])),
    emails: mechanisms,
  };
}

const expectedState: Record<string, string | null> = {
  new: "quotation",
  holded: "quotation",
  pending_payment: "draft",
  payment_review: "draft",
  processing: "processing",
  complete: "processing",
  closed: "processing",
  canceled: null,
};

/** Check each imported sale against its Magento order, field by field, independently of the mapping code. */
let roundingGaps = 0;

function assertSalesMatch(view: Awaited<ReturnType<typeof readSales>>, orders: MagentoOrder[]): number {
  let checked = 0;
  for (const order of orders) {
    const label = `#${order.increment_id}`;
    const sales = view.byOrder.get(order.entity_id) ?? [];
    if (expectedState[order.state] === null) {
      assert.equal(sales.length, 0, `${label}: cancelled before import, so not imported`);
      continue;
    }
    assert.equal(sales.length, 1, `${label}: exactly one sale`);
    const sale = sales[0]!;
    assert.equal(sale.reference, `${PREFIX}${order.increment_id}`, `${label}: reference`);
    assert.equal(sale.state, expectedState[order.state], `${label}: state for Magento "${order.state}"`);
    assert.equal(view.currencyCode.get(sale.currency), order.order_currency_code, `${label}: currency`);
    // Exactly what the customer paid (grand_total at the currency's unit): a difference of tax
    // rounding is an explicit rounding line.
    const unit = minorUnitStep(order.order_currency_code);
    const payable = payableOf(amount(order.grand_total), order.order_currency_code);
    assert.equal(amount(sale.total_amount), payable, `${label}: total = grand_total`);
    const saleLines = sale.lines.map((id) => view.lines.get(id)!);
    if (saleLines.some(isRoundingLine)) roundingGaps += 1;
    const untaxed = untaxedMismatch(order, sale.untaxed_amount, saleLines);
    assert.equal(
      untaxed,
      undefined,
      `${label}: untaxed ${sale.untaxed_amount} = subtotal + shipping + discount ${untaxed}`,
    );

    // Item lines: Magento's sellable rows (configurable once, bundle as parent), same SKU, quantity and row total.
    const lines = sale.lines.map((id) => view.lines.get(id)!);
    const items = lines.filter(
      (l) => !["SHIPPING", "DISCOUNT", "ROUNDING"].includes(view.productCode.get(l.product as number)!),
    );
    const want = lineItems(order)
      .map((l) => `${l.sku}|${l.qty}|${amountText(roundHalfEven(amount(l.rowTotal), unit))}|${l.name}`)
      .sort();
    const got = items
      .map(
        (l) =>
          `${view.productCode.get(l.product as number)}|${l.quantity}|${amountText(amount(String(l.amount)))}|${l.description}`,
      )
      .sort();
    assert.deepEqual(got, want, `${label}: item lines`);
    const shipping = lines.filter((l) => view.productCode.get(l.product as number) === "SHIPPING");
    if (order.shipping_amount) {
      assert.equal(shipping.length, 1, `${label}: one shipping line`);
      assert.equal(
        amount(String(shipping[0]!.amount)),
        roundHalfEven(amount(order.shipping_amount), unit),
        `${label}: shipping amount`,
      );
    }

    // Addresses as Magento has them.
    const billing = order.billing_address!;
    const delivery = shippingAddress(order) ?? billing;
    for (const [id, a, what] of [
      [sale.invoice_address, billing, "invoice"],
      [sale.shipment_address, delivery, "shipment"],
    ] as const) {
      const stored = view.address.get(id)!;
      assert.equal(stored.party, sale.party, `${label}: ${what} address belongs to the party`);
      assert.equal(stored.street, (a.street ?? []).join("\n"), `${label}: ${what} street`);
      assert.equal(stored.city, a.city, `${label}: ${what} city`);
      assert.equal(stored.postal_code, a.postcode, `${label}: ${what} postal code`);
      assert.equal(view.countryCode.get(stored.country as number), a.country_id, `${label}: ${what} country`);
    }
    const emails = view.emails
      .filter((m) => m.party === sale.party)
      .map((m) => String(m.value).toLowerCase());
    assert.ok(emails.includes(order.customer_email.toLowerCase()), `${label}: party has the order's e-mail`);
    checked += 1;
  }
  return checked;
}

async function assertNoDuplicates(client: TrytonClient, orders: MagentoOrder[]): Promise<void> {
  const emails = [...new Set(orders.map((o) => o.customer_email.toLowerCase()))];
  const mechanisms = await client.searchRead(
    "party.contact_mechanism",
    [
      ["type", "=", "email"],
      ["OR", ...emails.map((e) => ["value", "ilike", e])],
    ],
    ["party", "value"],
  );
  const partiesByEmail = new Map<string, Set<number>>();
  for (const m of mechanisms) {
    const key = String(m.value).toLowerCase();
    if (!emails.includes(key)) continue;
    partiesByEmail.set(key, (partiesByEmail.get(key) ?? new Set()).add(m.party as number));
  }
  for (const [email, parties] of partiesByEmail) {
    assert.equal(parties.size, 1, `one party for ${email}, found ${[...parties].join(", ")}`);
  }
  const skus = [...new Set(orders.flatMap((o) => lineItems(o).map((l) => l.sku)))];
  const products = await client.searchRead(
    "product.product",
    [
      ["code", "in", [...skus, "SHIPPING", "DISCOUNT"]],
      ["active", "in", [true, false]],
    ],
    ["code"],
  );
  const codes = products.map((p) => String(p.code));
  assert.equal(new Set(codes).size, codes.length, `one product per code: ${codes.sort().join(", ")}`);
  assert.deepEqual(new Set(skus.filter((s) => !codes.includes(s))), new Set(), "every SKU has a product");
}

function importContract(ctx: ContractContext): void {
  /**
   * The state an import reports, as the sale will be: with a worker, a sale the import just
   * confirmed is reported `confirmed` until the worker has run `process` (it may already have),
   * and the pack does not press `process` itself. `ctx.server.settle()` then proves it ends
   * `processing`.
   */
  const onItsWay = (state: string | undefined) =>
    ctx.server.worker && state === "confirmed" ? "processing" : state;

  let admin: TrytonClient;
  let settings: ImportSettings;
  let range = 0;
  const nextRange = () => (range += 1);
  const importer = (extra: ImportSettings = {}, client: TrytonClient = admin) =>
    new SaleImporter(client, { ...settings, ...extra });

  before(async function () {
    admin = ctx.client();
    settings = await shopSetup(admin, ctx);
  });

  it("imports the tutorial order: bundle and configurable counted once, prices, addresses and total as in Magento", async function () {
    const [raw] = inRange([tutorialOrder()], nextRange());
    const { results, failures } = await importer().importOrders([raw]);
    assert.deepEqual(failures, []);
    assert.equal(results[0]!.action, "created");
    assert.equal(results[0]!.state, "quotation", "Magento 'new' becomes a quotation");
    const order = valid(raw!);
    const view = await readSales(admin, [order]);
    assert.equal(assertSalesMatch(view, [order]), 1);
    const sale = view.byOrder.get(order.entity_id)![0]!;
    assert.equal(sale.total_amount, "165.00");
    const subdivision = view.address.get(sale.invoice_address)!.subdivision;
    assert.equal(subdivision, ctx.fixtures.subdivision["US-NY"], "region NY → subdivision US-NY");
  });

  it("imports 500 simulated orders matching Magento, then re-imports them without a single write", async function () {
    this.timeout(10 * 60_000);
    const raw = inRange(generateOrders(500, 7) as unknown as RawOrder[], nextRange());
    const orders = raw.map(valid);
    roundingGaps = 0;
    const client = ctx.client({ retry: undefined });
    const methods = recordMethods(client);
    const first = importer({}, client);
    const started = Date.now();
    const { results, failures } = await importAll(first, raw);
    const firstMs = Date.now() - started;
    assert.deepEqual(
      failures.map((f) => f.error?.message),
      [],
    );
    const created = results.filter((r) => r.action === "created").length;
    const skipped = results.filter((r) => r.action === "skipped").length;
    assert.equal(created + skipped, 500);
    assert.equal(skipped, orders.filter((o) => o.state === "canceled").length);
    const calls = methods.length;

    await ctx.server.settle?.();
    const view = await readSales(admin, orders);
    assert.equal(assertSalesMatch(view, orders), created);
    await assertNoDuplicates(admin, orders);

    // A second run with a fresh importer (as after a restart): nothing to write.
    methods.length = 0;
    const again = await importAll(importer({}, client), raw);
    assert.deepEqual(
      methods.filter((m) => writeMethods.test(m)),
      [],
      "no create, write or workflow call",
    );
    assert.ok(methods.length <= 5 + 5, `a few searches only, got ${methods.length}: ${methods.join(", ")}`);
    assert.equal(again.results.filter((r) => r.action === "unchanged").length, created);
    console.log(
      `      [${ctx.server.kind}] 500 orders: ${calls} calls, ${firstMs} ms; re-run ${methods.length} calls;` +
        ` ${roundingGaps} sales with a tax rounding line`,
    );
  });

  it("two imports of the same pages at once create each sale, party and product once", async function () {
    this.timeout(5 * 60_000);
    const raw = inRange(generateOrders(120, 23) as unknown as RawOrder[], nextRange()).filter(
      (o) => o.state !== "canceled",
    );
    const orders = raw.map(valid);
    const [a, b] = [ctx.client(), ctx.client()];
    const [ra, rb] = await Promise.all([importAll(importer({}, a), raw), importAll(importer({}, b), raw)]);
    assert.deepEqual([...ra.failures, ...rb.failures], []);
    const actions = [...ra.results, ...rb.results].map((r) => r.action);
    assert.equal(
      actions.filter((x) => x === "created").length,
      raw.length,
      "each sale created by one run only",
    );
    const view = await readSales(admin, orders);
    for (const o of orders)
      assert.equal(view.byOrder.get(o.entity_id)?.length, 1, `one sale for #${o.increment_id}`);
    await assertNoDuplicates(admin, orders);
  });

  it("no duplicate party for a repeat guest whose e-mail differs in case", async function () {
    const [base] = inRange([tutorialOrder()], nextRange());
    const guest = (id: number, email: string): RawOrder => {
      const o = structuredClone(base!);
      Object.assign(o, { entity_id: base!.entity_id + id, increment_id: `${base!.increment_id}-${id}` });
      Object.assign(o, { customer_email: email, customer_is_guest: 1, customer_group_id: 0 });
      delete o.customer_id;
      return o;
    };
    const email = `${ctx.unique("guest")}@Example.com`;
    const { failures } = await importer().importOrders([guest(1, email), guest(2, email.toUpperCase())]);
    assert.deepEqual(failures, []);
    const { failures: later } = await importer().importOrders([guest(3, email.toLowerCase())]);
    assert.deepEqual(later, []);
    const parties = await admin.searchRead(
      "party.contact_mechanism",
      [
        ["type", "=", "email"],
        ["value", "ilike", email],
      ],
      ["party"],
    );
    assert.equal(new Set(parties.map((p) => p.party)).size, 1);
    const sales = await readSales(
      admin,
      [1, 2, 3].map((i) => valid(guest(i, email))),
    );
    assert.equal(
      new Set([...sales.byOrder.values()].map((s) => s[0]!.party)).size,
      1,
      "all three on one party",
    );
  });

  it("follows Magento's state on re-import: processing, complete, canceled; processing then canceled is a conflict", async function () {
    this.timeout(2 * 60_000);
    const r = nextRange();
    const base = tutorialOrder();
    const order = (n: number, state: string): RawOrder => ({
      ...structuredClone(base),
      entity_id: r * 1_000_000 + n,
      increment_id: `${r}-${n}`,
      state,
      status: state,
    });
    const run = async (orders: RawOrder[]) => (await importer().importOrders(orders)).results;

    const first = await run([order(1, "new"), order(2, "new"), order(3, "new"), order(4, "new")]);
    assert.deepEqual(
      first.map((x) => [x.action, x.state]),
      Array(4).fill(["created", "quotation"]),
    );

    const moved = await run([
      order(1, "processing"),
      order(2, "complete"),
      order(3, "canceled"),
      order(4, "new"),
    ]);
    await ctx.server.settle?.();
    assert.deepEqual(
      moved.map((x) => [x.action, onItsWay(x.state), x.error?.code]),
      [
        ["updated", "processing", undefined],
        ["updated", "processing", undefined],
        ["updated", "cancelled", undefined],
        ["unchanged", "quotation", undefined],
      ],
    );

    const later = await run([order(1, "complete"), order(2, "canceled"), order(3, "canceled")]);
    assert.deepEqual(
      later.map((x) => [x.action, x.state, x.error?.code]),
      [
        ["unchanged", "processing", undefined],
        ["failed", "processing", "conflict"],
        ["unchanged", "cancelled", undefined],
      ],
    );
    assert.match(later[1]!.error!.message, /cancelled in Magento, but Tryton sale \d+ is already processing/);
    assert.equal(later[1]!.error!.field, "state");
    const [stored] = await admin.read("sale.sale", [later[1]!.targetId as number], ["state"]);
    assert.equal(stored!.state, "processing", "Tryton left the sale as it was");
  });

  it("leaves a sale the merchant confirmed in Tryton alone while Magento still says new: no conflict, no write", async function () {
    this.timeout(2 * 60_000);
    const r = nextRange();
    const raw: RawOrder = { ...tutorialOrder(), entity_id: r * 1_000_000 + 1, increment_id: `${r}-1` };
    raw.state = raw.status = "new";
    const [created] = (await importer().importOrders([raw])).results;
    assert.equal(created!.state, "quotation");
    await admin.button("sale.sale", "confirm", [created!.targetId as number]);

    const client = ctx.client();
    const methods = recordMethods(client);
    const [again] = (await importer({}, client).importOrders([raw])).results;
    assert.deepEqual([again!.action, again!.error], ["unchanged", undefined]);
    assert.notEqual(again!.state, "quotation", "the sale stays where the merchant put it");
    assert.ok(methods.length > 0, "the re-import did look the sale up");
    assert.deepEqual(
      methods.filter((m) => writeMethods.test(m)),
      [],
    );
  });

  it("fails only the orders with bad data, naming the field, and imports the rest of the page", async function () {
    const r = nextRange();
    const base = tutorialOrder();
    const make = (n: number, change: (o: RawOrder) => void): RawOrder => {
      const o: RawOrder = {
        ...structuredClone(base),
        entity_id: r * 1_000_000 + n,
        increment_id: `${r}-${n}`,
      };
      change(o);
      return o;
    };
    type Item = Record<string, unknown>;
    const page = [
      make(1, () => undefined),
      make(2, (o) => Object.assign(o.billing_address as object, { country_id: "XX" })),
      make(3, (o) => Object.assign((o.items as Item[])[0]!, { qty_ordered: 1.5, row_total: 33 })),
      make(4, (o) => Object.assign((o.items as Item[])[1]!, { price: 18.12345 })),
      make(5, (o) => delete o.customer_email),
      make(6, () => undefined),
    ];
    const { results, failures } = await importer().importOrders(page);
    assert.deepEqual(
      results.map((x) => [x.action, x.error?.code, x.error?.field]),
      [
        ["created", undefined, undefined],
        ["failed", "unknown_country", "billing_address.country_id"],
        ["failed", "invalid_quantity", "items.0.qty_ordered"],
        ["failed", "invalid_price", "items.1.price"],
        ["failed", "invalid_order", "customer_email"],
        ["created", undefined, undefined],
      ],
    );
    assert.equal(failures.length, 4);
    for (const f of failures) assert.match(f.error!.message, new RegExp(`#?${f.incrementId}`));
    assert.match(failures[0]!.error!.message, /no country with code "XX"/);
  });

  it("reports a total that differs from grand_total as mismatch and does not confirm the sale", async function () {
    const [raw] = inRange([tutorialOrder()], nextRange());
    Object.assign(raw!, { grand_total: 170, state: "processing", status: "processing" });
    const { results, failures } = await importer().importOrders([raw]);
    assert.equal(failures.length, 1);
    assert.deepEqual(
      [results[0]!.action, results[0]!.state, results[0]!.error?.code],
      ["created", "quotation", "mismatch"],
    );
    assert.match(results[0]!.error!.message, /totals 165\.00, Magento grand_total is 170 \(difference 5\)/);
    const proceed = await importer({ mismatch: "proceed" }).importOrders([raw]);
    assert.deepEqual(
      [onItsWay(proceed.results[0]!.state), proceed.results[0]!.error?.code],
      ["processing", "mismatch"],
    );
  });

  it("checks the total only of sales taken to quotation or beyond: a draft with a wrong total is not reported, and is held at quotation once Magento moves it on", async function () {
    const [raw] = inRange([tutorialOrder()], nextRange());
    Object.assign(raw!, { grand_total: 170, state: "pending_payment", status: "pending_payment" });
    const draft = await importer().importOrders([raw]);
    assert.deepEqual(draft.failures, []);
    assert.deepEqual(
      [draft.results[0]!.action, draft.results[0]!.state, draft.results[0]!.error],
      ["created", "draft", undefined],
    );
    Object.assign(raw!, { state: "processing", status: "processing" });
    const moved = await importer().importOrders([raw]);
    assert.equal(moved.failures.length, 1);
    assert.deepEqual(
      [moved.results[0]!.state, moved.results[0]!.error?.code],
      ["quotation", "mismatch"],
      "checked before confirming, and held",
    );
    assert.match(moved.results[0]!.error!.message, /totals 165\.00, Magento grand_total is 170/);
    const [stored] = await admin.read("sale.sale", [moved.results[0]!.targetId as number], ["state"]);
    assert.equal(stored!.state, "quotation");
  });

  it("a page of new orders costs one create, one search of the written sales (duplicates, states, totals), quote and confirm in one round, one read of the states", async function () {
    this.timeout(2 * 60_000);
    const r = nextRange();
    const base = tutorialOrder();
    const raw = Array.from({ length: 12 }, (_, i): RawOrder => ({
      ...structuredClone(base),
      entity_id: r * 1_000_000 + i + 1,
      increment_id: `${r}-${i + 1}`,
      state: "processing",
      status: "processing",
    }));
    const client = ctx.client();
    const calls: Array<{ method: string; params: unknown[] }> = [];
    client.http.interceptors.request.use((config) => {
      calls.push(JSON.parse(String(config.data)) as { method: string; params: unknown[] });
      return config;
    });
    const { results, failures } = await importer({}, client).importOrders(raw);
    assert.deepEqual(failures, []);
    assert.deepEqual(
      new Set(results.map((x) => `${x.action} ${onItsWay(x.state)}`)),
      new Set(["created processing"]),
    );
    const sale = calls.map((c) => c.method).filter((m) => m.startsWith("model.sale.sale."));
    assert.deepEqual(sale, [
      "model.sale.sale.search_read", // existing sales
      "model.sale.sale.create",
      "model.sale.sale.search_read", // the written sales: duplicates, states, totals
      "model.sale.sale.quote",
      "model.sale.sale.confirm", // 12 sales in chunks of 5
      "model.sale.sale.confirm",
      "model.sale.sale.confirm",
      "model.sale.sale.read", // states after the round
    ]);

    // Left in draft: the import never asks Tryton for a total (it computes a draft's taxes on every read).
    const drafts = inRange(raw, nextRange()).map((o) => ({
      ...o,
      state: "pending_payment",
      status: "pending_payment",
    }));
    calls.length = 0;
    const again = await importer({}, client).importOrders(drafts);
    assert.deepEqual(again.failures, []);
    assert.deepEqual(new Set(again.results.map((x) => `${x.action} ${x.state}`)), new Set(["created draft"]));
    const reads = calls.filter(
      (c) => c.method === "model.sale.sale.search_read" || c.method === "model.sale.sale.read",
    );
    assert.ok(reads.length > 0);
    for (const c of reads.slice(1)) {
      assert.ok(!JSON.stringify(c.params).includes("total_amount"), `${c.method} without total_amount`);
    }
    assert.ok(!calls.some((c) => /\.(quote|confirm)$/.test(c.method)), "no workflow call for drafts");
  });

  it("a button Tryton skips without an error is reported naming it, with the state the sale stayed in", async function () {
    this.timeout(2 * 60_000);
    const r = nextRange();
    const base = tutorialOrder();
    const order = (n: number): RawOrder => ({
      ...structuredClone(base),
      entity_id: r * 1_000_000 + n,
      increment_id: `${r}-${n}`,
      state: "processing",
      status: "processing",
    });
    // The button reaches Tryton for no sale: what a skipped transition looks like.
    const skipping = (button: string) => {
      const client = ctx.client();
      client.http.interceptors.request.use((config) => {
        const body = JSON.parse(String(config.data)) as { method: string; params: unknown[] };
        if (body.method === `model.sale.sale.${button}`) {
          body.params[0] = [];
          config.data = JSON.stringify(body);
        }
        return config;
      });
      return client;
    };
    const [quote] = (await importer({}, skipping("quote")).importOrders([order(1)])).results;
    assert.deepEqual([quote!.action, quote!.state, quote!.error?.code], ["failed", "draft", "workflow"]);
    assert.match(quote!.error!.message, /did not quote sale \d+ \(still draft\)/);
    const [confirm] = (await importer({}, skipping("confirm")).importOrders([order(2)])).results;
    assert.deepEqual(
      [confirm!.action, confirm!.state, confirm!.error?.code],
      ["failed", "quotation", "workflow"],
    );
    assert.match(confirm!.error!.message, /did not confirm sale \d+ \(still quotation\)/);
  });

  it("rewrites a quotation whose order changed in Magento; a confirmed sale that changed is a conflict", async function () {
    const [a, b] = inRange(
      [tutorialOrder(), { ...tutorialOrder(), entity_id: 4, increment_id: "000000004" }],
      nextRange(),
    );
    Object.assign(b!, { state: "processing", status: "processing" });
    await importer().importOrders([a, b]);
    await ctx.server.settle?.();
    for (const o of [a!, b!]) {
      const items = o.items as Array<Record<string, unknown>>;
      Object.assign(items[0]!, { qty_ordered: 2, row_total: 44 });
      Object.assign(o, { grand_total: 187, subtotal: 182 });
    }
    const { results } = await importer().importOrders([a, b]);
    assert.deepEqual(
      results.map((x) => [x.action, x.state, x.error?.code]),
      [
        ["updated", "quotation", undefined],
        ["failed", "processing", "conflict"],
      ],
    );
    const view = await readSales(admin, [valid(a!)]);
    assert.equal(assertSalesMatch(view, [valid(a!)]), 1);
    assert.equal(view.byOrder.get(a!.entity_id)![0]!.total_amount, "187.00");
  });

  it("rejects the whole page when Tryton cannot be used at all (wrong password)", async function () {
    const wrong = ctx.client({ password: "not-the-password" });
    const [raw] = inRange([tutorialOrder()], nextRange());
    await assert.rejects(importer({}, wrong).importOrders([raw]), (err: unknown) => {
      assert.ok(err instanceof TrytonError);
      assert.equal(err.status, 401);
      assert.doesNotMatch(err.message, /not-the-password/);
      return true;
    });
  });
}

describe("Tryton sale import contract", function () {
  describeOnEveryTryton("sale import", importContract);
});
