/**
 * What the Tryton simulator must reproduce beyond the pack's client contract: the wire
 * protocol details, trytond's exact error texts, domain semantics (SQLite flavour), value
 * exponents and rounding, x2many commands, validation and the sale/shipment/invoice
 * workflow. Wired to both the real Tryton 6.0 and the simulator in tryton-sim.spec.ts;
 * every expectation here was observed on the real server.
 */
import assert from "node:assert/strict";

import { date, decimal, TrytonError, type TrytonClient } from "../../src/tryton/rpc";
import type { ContractContext } from "./harness";
import { saleValues } from "./tryton-rpc.contract";

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json?: { id?: unknown; result?: unknown; error?: unknown } & Record<string, unknown>;
}

/** Raw JSON-RPC, to see exactly what the server answers. */
class Wire {
  private header?: string;
  private id = 0;

  constructor(private readonly ctx: ContractContext) {}

  async post(path: string, body: string, headers: Record<string, string> = {}): Promise<Answer> {
    const r = await fetch(`${this.ctx.server.url}${path}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...headers },
      body,
    });
    const text = await r.text();
    let json: Answer["json"];
    try {
      json = JSON.parse(text) as Answer["json"];
    } catch {
      json = undefined;
    }
    return { status: r.status, headers: r.headers, text, json };
  }

  async auth(): Promise<string> {
    if (!this.header) {
      const { username, password, database } = this.ctx.server;
      const a = await this.post(
        `/${database}/`,
        JSON.stringify({ id: 0, method: "common.db.login", params: [username, { password }, "en"] }),
      );
      const [uid, key] = a.json?.result as [number, string];
      this.header = `Session ${Buffer.from(`${username}:${uid}:${key}`).toString("base64")}`;
    }
    return this.header;
  }

  /** A model call with the company context; returns the envelope. */
  async call(
    method: string,
    params: unknown[],
    context: Record<string, unknown> = {},
  ): Promise<Answer["json"]> {
    const ctx = { company: this.ctx.fixtures.company, ...context };
    const a = await this.post(
      `/${this.ctx.server.database}/`,
      JSON.stringify({ id: ++this.id, method, params: [...params, ctx] }),
      { Authorization: await this.auth() },
    );
    assert.equal(a.status, 200, `${method}: HTTP ${a.status} ${a.text.slice(0, 200)}`);
    return a.json;
  }

  async result<T = unknown>(
    method: string,
    params: unknown[],
    context?: Record<string, unknown>,
  ): Promise<T> {
    const env = await this.call(method, params, context);
    assert.ok(env && "result" in env, `${method} failed: ${JSON.stringify(env?.error)}`);
    return env.result as T;
  }

  /** The `error` member of a failing call. */
  async error(method: string, params: unknown[], context?: Record<string, unknown>): Promise<unknown[]> {
    const env = await this.call(method, params, context);
    assert.ok(env && "error" in env, `${method} should fail, got ${JSON.stringify(env?.result)}`);
    return env.error as unknown[];
  }
}

const D = (text: string) => ({ __class__: "Decimal", decimal: text });

async function rejection(promise: Promise<unknown>): Promise<TrytonError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof TrytonError, `expected a TrytonError, got ${String(err)}`);
    return err;
  }
  assert.fail("expected the call to fail");
}

function userMessage(error: unknown[]): string {
  assert.equal(error[0], "UserError", JSON.stringify(error));
  return (error[1] as unknown[])[0] as string;
}

export function trytonFidelityContract(ctx: ContractContext): void {
  let wire: Wire;
  let client: TrytonClient;
  before(function () {
    wire = new Wire(ctx);
    client = ctx.client();
  });

  const line = (extra: Record<string, unknown> = {}) => ({
    product: ctx.fixtures.products.sampleGoods.product,
    quantity: 2,
    unit: ctx.fixtures.unit,
    unit_price: D("12.50"),
    ...extra,
  });
  const sale = (reference: string, extra: Record<string, unknown> = {}) => ({
    party: ctx.fixtures.customer.party,
    invoice_address: ctx.fixtures.customer.address,
    shipment_address: ctx.fixtures.customer.address,
    reference,
    ...extra,
  });

  describe("wire protocol", function () {
    it("answers common.server.version on / without a session", async function () {
      const a = await wire.post("/", JSON.stringify({ id: 7, method: "common.server.version", params: [] }));
      assert.equal(a.status, 200);
      assert.deepEqual(a.json, { id: 7, result: "6.0.29" });
    });

    it("answers a call without a session with HTTP 401, an empty body and a Basic challenge", async function () {
      const body = JSON.stringify({
        id: 1,
        method: "model.party.party.search",
        params: [[], 0, 1, null, {}],
      });
      const a = await wire.post(`/${ctx.server.database}/`, body);
      assert.equal(a.status, 401);
      assert.equal(a.text, "");
      assert.equal(a.headers.get("www-authenticate"), 'Basic realm="Tryton"');
      const xhr = await wire.post(`/${ctx.server.database}/`, body, { "X-Requested-With": "XMLHttpRequest" });
      assert.equal(xhr.status, 401);
      assert.equal(xhr.headers.get("www-authenticate"), null);
      const forged = await wire.post(`/${ctx.server.database}/`, body, {
        Authorization: `Session ${Buffer.from("admin:1:deadbeef").toString("base64")}`,
      });
      assert.equal(forged.status, 401);
    });

    it("accepts HTTP Basic authentication and refuses a wrong password with 401", async function () {
      const { username, password, database } = ctx.server;
      const body = JSON.stringify({
        id: 1,
        method: "model.res.user.search",
        params: [[["login", "=", username]], 0, null, null, {}],
      });
      const basic = (p: string) => `Basic ${Buffer.from(`${username}:${p}`).toString("base64")}`;
      const ok = await wire.post(`/${database}/`, body, { Authorization: basic(password) });
      assert.deepEqual(ok.json, { id: 1, result: [ctx.fixtures.users.admin] });
      const bad = await wire.post(`/${database}/`, body, { Authorization: basic("wrong-password-1") });
      assert.equal(bad.status, 401);
    });

    it("refuses a body not declared as JSON with HTTP 500", async function () {
      const a = await wire.post("/", JSON.stringify({ id: 1, method: "common.server.version", params: [] }), {
        "Content-Type": "text/plain",
      });
      assert.equal(a.status, 500);
      assert.match(a.headers.get("content-type") ?? "", /text\/html/);
    });

    it("answers bare results in REST mode (an extra key in the envelope) and errors as HTML", async function () {
      const auth = await wire.auth();
      const ok = await wire.post(
        `/${ctx.server.database}/`,
        JSON.stringify({
          jsonrpc: "2.0",
          id: 1,
          method: "model.res.user.search",
          params: [[["id", "=", 1]], 0, null, null, {}],
        }),
        { Authorization: auth },
      );
      assert.equal(ok.status, 200);
      assert.equal(ok.text, "[1]");
      const bad = await wire.post(
        `/${ctx.server.database}/`,
        JSON.stringify({
          jsonrpc: "2.0",
          id: 1,
          method: "model.party.party.read",
          params: [[999999], ["name"], {}],
        }),
        { Authorization: auth },
      );
      assert.equal(bad.status, 400);
      assert.match(bad.text, /You are trying to read records &#34;999999&#34; of &#34;Party&#34;/);
    });

    it("asks for the password with a LoginException and accepts a login without language", async function () {
      const db = `/${ctx.server.database}/`;
      const asked = await wire.post(
        db,
        JSON.stringify({ id: 1, method: "common.db.login", params: [ctx.server.username, {}, "en"] }),
      );
      assert.deepEqual(asked.json, {
        id: 1,
        error: ["LoginException", ["password", `Password for ${ctx.server.username}`, "password"]],
      });
      const noLanguage = await wire.post(
        db,
        JSON.stringify({
          id: 2,
          method: "common.db.login",
          params: [ctx.server.username, { password: ctx.server.password }],
        }),
      );
      const [uid, key] = noLanguage.json?.result as [number, string];
      assert.equal(uid, ctx.fixtures.users.admin);
      assert.match(key, /^[0-9a-f]{64}$/);
    });

    it("needs the context as last parameter", async function () {
      const a = await wire.post(
        `/${ctx.server.database}/`,
        JSON.stringify({ id: 3, method: "model.party.party.search_count", params: [[]] }),
        { Authorization: await wire.auth() },
      );
      assert.deepEqual(a.json, { id: 3, error: ["Missing context argument", ""] });
    });

    it("reports unknown models and malformed method names as Python errors", async function () {
      assert.deepEqual(await wire.error("model.no.such.model.search", [[]]), ["'no.such.model'", ""]);
      assert.deepEqual(await wire.error("foo", []), ["not enough values to unpack (expected 2, got 1)", ""]);
    });
  });

  describe("values", function () {
    it("keeps the exponent of a Numeric as sent", async function () {
      const ids = await wire.result<number[]>("model.product.template.create", [
        [
          {
            name: ctx.unique("Exp"),
            type: "service",
            default_uom: ctx.fixtures.unit,
            list_price: D("12.5000"),
          },
          { name: ctx.unique("Exp"), type: "service", default_uom: ctx.fixtures.unit, list_price: D("0") },
          { name: ctx.unique("Exp"), type: "service", default_uom: ctx.fixtures.unit, list_price: "7.10" },
        ],
      ]);
      const rows = await wire.result<Array<{ list_price: unknown }>>("model.product.template.read", [
        ids,
        ["list_price"],
      ]);
      assert.deepEqual(
        rows.map((r) => r.list_price),
        [D("12.5000"), D("0"), D("7.10")],
      );
    });

    it("refuses a float unit price with its binary expansion in the digits message", async function () {
      const error = await wire.error("model.sale.sale.create", [
        [sale(ctx.unique("FLOAT"), { lines: [["create", [line({ unit_price: 19.99 })]]] })],
      ]);
      assert.equal(
        userMessage(error),
        'The number of digits in the value "Decimal(\'19.989999999999998436805981327779591083526611328125\')" for field "Unit Price" in "Sale Line" exceeds the limit of "4".',
      );
    });

    it("limits a quantity's decimals to the unit's digits", async function () {
      const error = await wire.error("model.sale.sale.create", [
        [sale(ctx.unique("QTY"), { lines: [["create", [line({ quantity: 1.5 })]]] })],
      ]);
      assert.equal(
        userMessage(error),
        'The number of digits in the value "1.5" for field "Quantity" in "Sale Line" exceeds the limit of "0".',
      );
    });

    it("computes amounts exactly: half-even currency rounding, whole yen, taxes per document, subtotals", async function () {
      const f = ctx.fixtures;
      const [yen, taxed, empty] = await wire.result<number[]>("model.sale.sale.create", [
        [
          sale(ctx.unique("JPY"), {
            currency: f.currency.JPY,
            lines: [
              [
                "create",
                [
                  line({ unit_price: D("1234.5") }),
                  line({ product: f.products.shipping.product, quantity: 1, unit_price: D("0.5") }),
                ],
              ],
            ],
          }),
          sale(ctx.unique("TAX"), {
            lines: [
              [
                "create",
                [
                  line({ unit_price: D("10.005"), taxes: [["add", [f.tax.us_ca_sales_8_25]]] }),
                  line({
                    unit_price: D("0.125"),
                    quantity: 1,
                    taxes: [["add", [f.tax.us_ca_sales_8_25, f.tax.de_vat_19]]],
                  }),
                  { type: "subtotal", description: "sub" },
                  line({ quantity: 3, unit_price: D("12.5000"), taxes: [["add", [f.tax.gb_vat_20]]] }),
                  { type: "comment", description: "note" },
                ],
              ],
            ],
          }),
          sale(ctx.unique("EMPTY")),
        ],
      ]);
      const sales = await wire.result<Array<Record<string, unknown>>>("model.sale.sale.read", [
        [yen, taxed, empty],
        ["untaxed_amount", "tax_amount", "total_amount", "lines"],
      ]);
      assert.deepEqual(
        sales.map((s) => [s.untaxed_amount, s.tax_amount, s.total_amount]),
        [
          [D("2469"), D("0"), D("2469")],
          [D("57.63"), D("9.18"), D("66.81")],
          [D("0"), D("0"), D("0")],
        ],
      );
      const lines = await wire.result<Array<Record<string, unknown>>>("model.sale.line.read", [
        sales[1]!.lines,
        ["amount", "rec_name"],
      ]);
      assert.deepEqual(
        lines.map((l) => l.amount),
        [D("20.01"), D("0.12"), D("20.13"), D("37.50"), D("0.0")],
      );
      assert.match(String(lines[0]!.rec_name), /^2u \[TEST-MUG\] Test Mug @ \[TAX-/);
    });

    it("stamps records with _timestamp and refuses a stale one with ConcurrencyException", async function () {
      const [id] = await wire.result<number[]>("model.sale.sale.create", [[sale(ctx.unique("TS"))]]);
      const [{ _timestamp: stamp }] = await wire.result<Array<{ _timestamp: string }>>(
        "model.sale.sale.read",
        [[id], ["_timestamp"]],
      );
      assert.match(stamp, /^\d{10}$/);
      await new Promise((r) => setTimeout(r, 1100));
      await wire.result("model.sale.sale.write", [[id], { description: "changed elsewhere" }]);
      const error = await wire.error("model.sale.sale.write", [[id], { description: "mine" }], {
        _timestamp: { [`sale.sale,${String(id)}`]: stamp },
      });
      assert.deepEqual(error, ["ConcurrencyException", "Records were modified in the meanwhile"]);
    });
  });

  describe("domains", function () {
    let tag: string;
    let names: Record<string, number>;
    before(async function () {
      tag = ctx.unique("dom");
      const list = ["Émile", "émile", "under_score", "under-score", "100%"];
      const ids = await client.create(
        "party.party",
        list.map((name) => ({ name: `${name} ${tag}` })),
      );
      names = Object.fromEntries(list.map((n, i) => [n, ids[i]!]));
    });
    const find = (clause: unknown[]) =>
      client.search("party.party", [clause, ["name", "like", `%${tag}`]], { order: [["id", "ASC"]] });

    it("folds ASCII case only in like/ilike, honours escapes, and compares = exactly", async function () {
      assert.deepEqual(await find(["name", "ilike", `ÉMILE ${tag}`]), [names["Émile"]]);
      assert.deepEqual(await find(["name", "like", `émile ${tag.toUpperCase()}`]), [names["émile"]]);
      assert.deepEqual(await find(["name", "like", `under\\_score%`]), [names.under_score]);
      assert.deepEqual(await find(["name", "like", `under_score%`]), [
        names.under_score,
        names["under-score"],
      ]);
      assert.deepEqual(await find(["name", "like", `100\\%%`]), [names["100%"]]);
      assert.deepEqual(await find(["name", "=", `émile ${tag.toUpperCase()}`]), []);
    });

    it("leaves NULLs out of != and not in, and matches them with = null and in [null]", async function () {
      const f = ctx.fixtures;
      const ref = ctx.unique("NULL");
      const ids = await client.create("sale.sale", [
        { party: f.customer.party, reference: ref, description: "x" },
        { party: f.customer.party, reference: ref, description: "y" },
        { party: f.customer.party, reference: ref },
      ]);
      const q = (clause: unknown[]) =>
        client.search("sale.sale", [["reference", "=", ref], clause], { order: [["id", "ASC"]] });
      assert.deepEqual(await q(["description", "!=", "x"]), [ids[1]]);
      assert.deepEqual(await q(["description", "not in", ["x"]]), [ids[1]]);
      assert.deepEqual(await q(["description", "in", [null, "x"]]), [ids[0], ids[2]]);
      assert.deepEqual(await q(["description", "=", null]), [ids[2]]);
      assert.deepEqual(await q(["description", "!=", null]), [ids[0], ids[1]]);
      assert.deepEqual(await q(["id", "in", []]), []);
      assert.deepEqual(await q(["id", "not in", []]), ids);
    });

    it("evaluates nested AND/OR, dotted paths and relation names", async function () {
      const f = ctx.fixtures;
      const ref = ctx.unique("PATH");
      const [withShipping, mugOnly] = await client.create("sale.sale", [
        saleValues(f, ref),
        sale(ref, { lines: [["create", [line()]]] }),
      ]);
      const q = (domain: unknown[]) =>
        client.search("sale.sale", [["reference", "=", ref], ...domain], { order: [["id", "ASC"]] });
      assert.deepEqual(await q([["lines.product", "=", f.products.shipping.product]]), [withShipping]);
      assert.deepEqual(await q([["party.name", "ilike", "jane%"]]), [withShipping, mugOnly]);
      assert.deepEqual(await q([["party", "ilike", "jane r%"]]), [withShipping, mugOnly]);
      assert.deepEqual(
        await q([["OR", ["lines.product", "=", f.products.shipping.product], ["id", "=", mugOnly]]]),
        [withShipping, mugOnly],
      );
      assert.deepEqual(
        await q([
          [
            "OR",
            [
              ["id", "=", withShipping],
              ["lines.quantity", ">", 5],
            ],
            [["id", "=", mugOnly]],
          ],
        ]),
        [mugOnly],
      );
    });

    it("searches rec_name: sale number or reference, party code, name or e-mail", async function () {
      const f = ctx.fixtures;
      const ref = ctx.unique("RECNAME");
      const [id] = await client.create("sale.sale", [sale(ref)]);
      assert.deepEqual(await client.search("sale.sale", [["rec_name", "ilike", `%${ref.toLowerCase()}%`]]), [
        id,
      ]);
      const [party] = await client.read("party.party", [f.customer.party], ["code", "rec_name", "email"]);
      assert.deepEqual(await client.search("party.party", [["rec_name", "=", party?.code]]), [
        f.customer.party,
      ]);
      const byEmail = await client.search("party.party", [["rec_name", "ilike", `%${String(party?.email)}`]]);
      assert.ok(byEmail.includes(f.customer.party));
    });

    it("hides archived records unless the domain mentions active", async function () {
      const code = ctx.unique("ARCH");
      const [template] = await client.create("product.template", [
        {
          name: code,
          type: "service",
          default_uom: ctx.fixtures.unit,
          list_price: decimal("1"),
          products: [["create", [{ suffix_code: code, active: false }]]],
        },
      ]);
      assert.deepEqual(await client.search("product.product", [["code", "=", code]]), []);
      const found = await client.searchRead(
        "product.product",
        [
          ["code", "=", code],
          ["active", "in", [true, false]],
        ],
        ["template"],
      );
      assert.deepEqual(
        found.map((p) => p.template),
        [template],
      );
      // A one2many is a search on the target: archived variants are not listed either.
      const [row] = await client.read("product.template", [template as number], ["products"]);
      assert.deepEqual(row?.products, []);
    });

    it("orders by a many2one through the target's order, and sales by date descending, undated first", async function () {
      const tag = ctx.unique("ORD");
      const parties = await client.create("party.party", [{ name: `b ${tag}` }, { name: `a ${tag}` }]);
      const mechanisms = await client.create("party.contact_mechanism", [
        { party: parties[0], type: "email", value: `1-${tag}@example.com` },
        { party: parties[1], type: "email", value: `2-${tag}@example.com` },
      ]);
      assert.deepEqual(
        await client.search("party.contact_mechanism", [["value", "like", `%${tag}@example.com`]], {
          order: [["party", "ASC"]],
        }),
        [mechanisms[1], mechanisms[0]],
      );
      const ids = await client.create("sale.sale", [
        sale(tag, { sale_date: date("2024-01-01") }),
        sale(tag),
        sale(tag, { sale_date: date("2024-03-01") }),
        sale(tag),
      ]);
      assert.deepEqual(await client.search("sale.sale", [["reference", "=", tag]]), [
        ids[3],
        ids[1],
        ids[2],
        ids[0],
      ]);
    });
  });

  describe("reads, orders, copies and deletes", function () {
    it("reads one row per id, in ascending id order whatever the order asked", async function () {
      const [a, b] = await client.create("sale.sale", [sale(ctx.unique("RD")), sale(ctx.unique("RD"))]);
      const rows = await wire.result<Array<{ id: number }>>("model.sale.sale.read", [
        [b, a, b],
        ["reference"],
      ]);
      assert.deepEqual(
        rows.map((r) => r.id),
        [a, b],
      );
    });

    it("orders only by stored fields and function fields with an order method", async function () {
      const error = await wire.error("model.sale.sale.search", [[], 0, 1, [["rec_name", "ASC"]]]);
      assert.deepEqual(error, ["no such column: a.rec_name", ""]);
      const products = await wire.result<number[]>("model.product.product.search", [
        [["id", "in", [ctx.fixtures.products.shipping.product, ctx.fixtures.products.sampleGoods.product]]],
        0,
        null,
        [["rec_name", "DESC"]],
      ]);
      assert.deepEqual(products, [
        ctx.fixtures.products.sampleGoods.product,
        ctx.fixtures.products.shipping.product,
      ]);
      assert.deepEqual(await wire.error("model.sale.sale.search", [[], 0, 1, null, true]), [
        "'int' object is not iterable",
        "",
      ]);
    });

    it("copies a sale as a new draft without number or sale date", async function () {
      const ref = ctx.unique("COPY");
      const [id] = await client.create("sale.sale", [
        sale(ref, { sale_date: date("2024-03-01"), lines: [["create", [line()]]] }),
      ]);
      await client.button("sale.sale", "quote", [id as number]);
      const [copy] = await client.model<number[]>("sale.sale", "copy", [[id], {}]);
      const [row] = await client.read(
        "sale.sale",
        [copy as number],
        ["state", "number", "sale_date", "reference", "lines"],
      );
      assert.deepEqual([row?.state, row?.number, row?.sale_date, row?.reference], ["draft", null, null, ref]);
      assert.equal((row?.lines as number[]).length, 1);
    });

    it("deletes like ModelSQL: SET NULL and validate, CASCADE, then refuse what is still required", async function () {
      const [party] = await client.create("party.party", [
        { name: ctx.unique("Del"), addresses: [["create", [{ city: "Austin" }]]] },
      ]);
      const [{ addresses }] = await client.read<{ id: number; addresses: number[] }>(
        "party.party",
        [party as number],
        ["addresses"],
      );
      const [draft] = await client.create("sale.sale", [
        {
          party,
          invoice_address: addresses[0],
          shipment_address: addresses[0],
          reference: ctx.unique("DEL"),
        },
      ]);
      let err = await rejection(client.delete("party.party", [party as number]));
      assert.equal(
        err.serverMessage,
        'The records could not be deleted because they are used by field "Party" of "Sale".',
      );
      await client.delete("party.address", addresses);
      const [after] = await client.read(
        "sale.sale",
        [draft as number],
        ["invoice_address", "shipment_address"],
      );
      assert.deepEqual([after?.invoice_address, after?.shipment_address], [null, null]);
      // A product of this test's own: the shared fixture product may also be used by stock moves
      // of other suites, and then Tryton names that model first.
      const [template] = await client.create("product.template", [
        {
          name: ctx.unique("DelGoods"),
          type: "service",
          salable: true,
          default_uom: ctx.fixtures.unit,
          sale_uom: ctx.fixtures.unit,
          list_price: D("12.50"),
          products: [["create", [{ suffix_code: ctx.unique("DELP") }]]],
        },
      ]);
      const [{ products }] = await client.read<{ id: number; products: number[] }>(
        "product.template",
        [template as number],
        ["products"],
      );
      await client.create("sale.sale", [
        sale(ctx.unique("DEL"), { lines: [["create", [line({ product: products[0] })]]] }),
      ]);
      err = await rejection(client.delete("product.product", [products[0]]));
      assert.equal(
        err.serverMessage,
        'The records could not be deleted because they are used by field "Product" of "Sale Line".',
      );
    });
  });

  describe("one2many and many2many commands", function () {
    it("replaces lines with delete + create, moves one with add, copies one with overrides", async function () {
      const ref = ctx.unique("CMD");
      const [a, b] = await client.create("sale.sale", [
        sale(ref, { lines: [["create", [line(), line({ quantity: 3 })]]] }),
        sale(ref),
      ]);
      const [before] = await client.read("sale.sale", [a as number], ["lines"]);
      const [first, second] = before?.lines as number[];
      await client.write("sale.sale", [a as number], {
        lines: [
          ["delete", [first]],
          ["create", [line({ quantity: 5 })]],
        ],
      });
      await client.write("sale.sale", [b as number], {
        lines: [
          ["add", [second]],
          ["copy", [second], { quantity: 7 }],
        ],
      });
      const rows = await client.read("sale.sale", [a as number, b as number], ["lines", "untaxed_amount"]);
      assert.equal((rows[0]?.lines as number[]).length, 1);
      assert.equal(rows[0]?.untaxed_amount, "62.50");
      assert.equal((rows[1]?.lines as number[])[0], second);
      const lines = await client.read("sale.line", rows[1]?.lines as number[], ["quantity", "sale"]);
      assert.deepEqual(
        lines.map((l) => [l.quantity, l.sale]),
        [
          [3, b],
          [7, b],
        ],
      );
    });

    it("refuses to orphan a line with remove: the record rule is checked after the write", async function () {
      const [id] = await client.create("sale.sale", [
        sale(ctx.unique("ORPHAN"), { lines: [["create", [line()]]] }),
      ]);
      const [row] = await client.read("sale.sale", [id as number], ["lines"]);
      const [lineId] = row?.lines as number[];
      const error = await wire.error("model.sale.sale.write", [[id], { lines: [["remove", [lineId]]] }]);
      assert.equal(
        userMessage(error),
        `You are not allowed to write to records "${String(lineId)}" of "Sale Line" because of at least one of these rules:\nUser in companies`,
      );
    });

    it("adds and removes many2many links", async function () {
      const f = ctx.fixtures;
      const [id] = await client.create("sale.sale", [
        sale(ctx.unique("M2M"), {
          lines: [["create", [line({ taxes: [["add", [f.tax.de_vat_19, f.tax.de_vat_7]]] })]]],
        }),
      ]);
      const [row] = await client.read("sale.sale", [id as number], ["lines", "tax_amount"]);
      assert.equal(row?.tax_amount, "6.50");
      const [lineId] = row?.lines as number[];
      await client.write("sale.line", [lineId as number], { taxes: [["remove", [f.tax.de_vat_19]]] });
      const [after] = await client.read("sale.line", [lineId as number], ["taxes"]);
      assert.deepEqual(after?.taxes, [f.tax.de_vat_7]);
    });
  });

  describe("validation", function () {
    it("checks required, unique and selection rules with trytond's messages", async function () {
      const f = ctx.fixtures;
      const cases: Array<[string, unknown[], string]> = [
        [
          "model.product.template.create",
          [
            [
              {
                name: ctx.unique("NoUom"),
                type: "service",
                default_uom: f.unit,
                list_price: D("1"),
                salable: true,
              },
            ],
          ],
          'A value is required for field "Sale UOM" in "Product Template".',
        ],
        [
          "model.product.template.create",
          [
            [
              {
                name: ctx.unique("Dup"),
                type: "service",
                default_uom: f.unit,
                list_price: D("1"),
                products: [["create", [{ suffix_code: f.products.sampleGoods.code }]]],
              },
            ],
          ],
          "Code of active product must be unique.",
        ],
        ["model.party.party.create", [[{ name: "Dup", code: "1" }]], "The code on party must be unique."],
        [
          "model.sale.sale.create",
          [[sale(ctx.unique("SEL"), { invoice_method: "bogus" })]],
          'The value "bogus" for field "Invoice Method" in "Sale" is not one of the allowed options.',
        ],
        [
          "model.sale.sale.create",
          [[sale("COMBO", { invoice_method: "shipment", shipment_method: "manual" })]],
          'You cannot use together invoice "On Shipment Sent" and shipment "Manual" on sale "[COMBO]".',
        ],
        [
          "model.sale.sale.create",
          [[sale(ctx.unique("NOPRICE"), { lines: [["create", [line({ unit_price: undefined })]]] })]],
          'A value is required for field "Unit Price" in "Sale Line".',
        ],
        [
          "model.sale.sale.create",
          [[sale(ctx.unique("NOUNIT"), { lines: [["create", [line({ unit: undefined })]]] })]],
          'A value is required for field "Unit" in "Sale Line".',
        ],
      ];
      for (const [method, params, message] of cases) {
        assert.equal(userMessage(await wire.error(method, params)), message, method);
      }
    });

    it("checks relation domains and sends the failing domain", async function () {
      const f = ctx.fixtures;
      const [template] = await client.create("product.template", [
        {
          name: ctx.unique("NotSalable"),
          type: "service",
          default_uom: f.unit,
          list_price: decimal("1"),
          products: [["create", [{}]]],
        },
      ]);
      const [{ products }] = await client.read<{ id: number; products: number[] }>(
        "product.template",
        [template as number],
        ["products"],
      );
      const kilogram = (await client.search("product.uom", [["symbol", "=", "kg"]]))[0];
      const cases: Array<[string, unknown[], string, unknown]> = [
        [
          "model.sale.sale.create",
          [[sale(ctx.unique("ADDR"), { invoice_address: 1 })]],
          'The value for field "Invoice Address" in "Sale" is not valid according to its domain.',
          [["party", "=", f.customer.party]],
        ],
        [
          "model.party.address.create",
          [[{ party: f.customer.party, country: f.country.DE, subdivision: f.subdivision["US-CA"] }]],
          'The value for field "Subdivision" in "Address" is not valid according to its domain.',
          [["country", "=", f.country.DE]],
        ],
        [
          "model.sale.sale.create",
          [[sale(ctx.unique("NS"), { lines: [["create", [line({ product: products[0] })]]] })]],
          'The value for field "Product" in "Sale Line" is not valid according to its domain.',
          [["salable", "=", true]],
        ],
        [
          "model.sale.sale.create",
          [[sale(ctx.unique("UOM"), { lines: [["create", [line({ unit: kilogram })]]] })]],
          'The value for field "Unit" in "Sale Line" is not valid according to its domain.',
          [["category", "=", 1]],
        ],
      ];
      for (const [method, params, message, domain] of cases) {
        const error = await wire.error(method, params);
        assert.equal(userMessage(error), message);
        assert.deepEqual(((error[1] as unknown[])[2] as unknown[])[0], domain);
      }
    });

    it("checks passwords like trytond's defaults (length 8, entropy 0.75, not the name/login/e-mail)", async function () {
      const { clerk } = ctx.fixtures.users;
      const cases: Array<[string, string]> = [
        ["abc", "The password is too short."],
        ["aaaaaaaab", "The same characters appear in the password too many times."],
        ["clerk without groups", "The password cannot be the same as user's name."],
      ];
      for (const [password, message] of cases) {
        assert.equal(
          userMessage(await wire.error("model.res.user.write", [[clerk.id], { password }])),
          message,
        );
      }
    });

    it("refuses to move an address to another party", async function () {
      const [address] = await client.create("party.address", [
        {
          party: ctx.fixtures.customer.party,
          street: "9 Oak Rd",
          city: "Austin",
          country: ctx.fixtures.country.US,
        },
      ]);
      const err = await rejection(
        client.write("party.address", [address as number], { party: ctx.fixtures.companyParty }),
      );
      assert.equal(
        err.serverMessage,
        'You cannot change the party of address "Jane Roe, 9 Oak Rd, Austin, US".',
      );
    });

    it("names missing records: rule error for sales, 'don't exist anymore' for parties", async function () {
      assert.equal(
        userMessage(await wire.error("model.sale.sale.read", [[999999], ["state"]])),
        'You are not allowed to read records "999999" of "Sale" because of at least one of these rules:\nUser in companies',
      );
      assert.equal(
        userMessage(await wire.error("model.party.party.write", [[999999], { name: "x" }])),
        'You are trying to write to records "999999" of "Party" that don\'t exist anymore.',
      );
      assert.equal(await wire.result("model.party.party.delete", [[999999]]), null);
    });

    it("gives a party without name its code in brackets, and formats addresses", async function () {
      const [party] = await client.create("party.party", [
        {
          addresses: [
            [
              "create",
              [
                {
                  party_name: "Max Muster",
                  name: "Haus B",
                  street: "Hauptstr. 1\nHinterhaus",
                  postal_code: "10115",
                  city: "Berlin",
                  country: ctx.fixtures.country.DE,
                  subdivision: ctx.fixtures.subdivision["DE-BE"],
                },
              ],
            ],
          ],
        },
      ]);
      const [row] = await client.read("party.party", [party as number], ["code", "rec_name", "addresses"]);
      assert.equal(row?.rec_name, `[${String(row?.code)}]`);
      const [address] = await client.read("party.address", row?.addresses as number[], [
        "rec_name",
        "full_address",
      ]);
      assert.equal(address?.rec_name, "Max Muster, Haus B, Hauptstr. 1, 10115, Berlin, DE");
      assert.equal(address?.full_address, "Haus B\nHauptstr. 1\nHinterhaus\n10115 Berlin\nGERMANY");
    });
  });

  describe("workflow", function () {
    it("quote needs both addresses; a quote keeps its number through draft and back", async function () {
      const f = ctx.fixtures;
      const ref = ctx.unique("Q");
      const [noAddress, noShipment, ok] = await client.create("sale.sale", [
        { party: f.customer.party, reference: `${ref}-a`, lines: [["create", [line()]]] },
        { party: f.customer.party, invoice_address: f.customer.address, reference: `${ref}-b` },
        sale(`${ref}-c`, { lines: [["create", [line()]]] }),
      ]);
      let err = await rejection(client.button("sale.sale", "quote", [noAddress as number]));
      assert.equal(
        err.serverMessage,
        `To get a quote for sale "[${ref}-a]" you must enter an invoice address.`,
      );
      err = await rejection(client.button("sale.sale", "quote", [noShipment as number, ok as number]));
      assert.equal(
        err.serverMessage,
        `To get a quote for sale "[${ref}-b]" you must enter a shipment address.`,
      );
      const [untouched] = await client.read("sale.sale", [ok as number], ["state", "number"]);
      assert.deepEqual(
        [untouched?.state, untouched?.number],
        ["draft", null],
        "the failed call changed nothing",
      );

      await client.button("sale.sale", "quote", [ok as number]);
      const [quoted] = await client.read("sale.sale", [ok as number], ["state", "number", "rec_name"]);
      assert.equal(quoted?.state, "quotation");
      assert.equal(quoted?.rec_name, `${String(quoted?.number)} [${ref}-c]`);
      await client.button("sale.sale", "draft", [ok as number]);
      await client.button("sale.sale", "quote", [ok as number]);
      const [again] = await client.read("sale.sale", [ok as number], ["state", "number"]);
      assert.deepEqual([again?.state, again?.number], ["quotation", quoted?.number]);
    });

    it("cancels from quotation and deletes cancelled sales, but not processing ones or their lines", async function () {
      const [quoted, processing] = await client.create("sale.sale", [
        sale(ctx.unique("CXL"), { lines: [["create", [line()]]] }),
        sale(ctx.unique("CXL"), { lines: [["create", [line()]]] }),
      ]);
      await client.button("sale.sale", "quote", [quoted as number, processing as number]);
      await client.button("sale.sale", "confirm", [processing as number]);
      await client.button("sale.sale", "cancel", [quoted as number, processing as number]);
      const states = await client.read(
        "sale.sale",
        [quoted as number, processing as number],
        ["state", "rec_name", "lines"],
      );
      assert.deepEqual(
        states.map((s) => s.state),
        ["cancelled", "processing"],
      );
      let err = await rejection(client.delete("sale.sale", [processing as number]));
      assert.equal(err.serverMessage, `To delete sale "${String(states[1]?.rec_name)}" you must cancel it.`);
      const [lineId] = states[1]?.lines as number[];
      err = await rejection(client.delete("sale.line", [lineId as number]));
      assert.equal(
        err.serverMessage,
        `To delete line "2u [TEST-MUG] Test Mug @ ${String(states[1]?.rec_name)}" you must cancel or reset to draft sale "${String(states[1]?.rec_name)}".`,
      );
      await client.delete("sale.sale", [quoted as number]);
      assert.deepEqual(await client.search("sale.sale", [["id", "=", quoted]]), []);
    });

    it("confirm dates an undated sale today; a sale without goods and invoicing is done at once", async function () {
      const f = ctx.fixtures;
      const [services, empty] = await client.create("sale.sale", [
        sale(ctx.unique("SRV"), {
          invoice_method: "manual",
          lines: [["create", [line({ product: f.products.shipping.product, quantity: 1 })]]],
        }),
        sale(ctx.unique("NOLINES")),
      ]);
      await client.button("sale.sale", "quote", [services as number, empty as number]);
      await client.button("sale.sale", "confirm", [services as number, empty as number]);
      const rows = await client.read(
        "sale.sale",
        [services as number, empty as number],
        ["state", "sale_date", "shipment_state", "invoice_state", "shipments", "invoices"],
      );
      const today = new Date().toISOString().slice(0, 10);
      for (const r of rows) {
        assert.deepEqual(
          [r.state, r.sale_date, r.shipment_state, r.invoice_state, r.shipments, r.invoices],
          ["done", today, "none", "none", [], []],
        );
      }
    });

    it("leaves a sale confirmed when processing fails after confirm; process then reports why", async function () {
      const f = ctx.fixtures;
      const code = ctx.unique("NOCAT");
      const [template] = await client.create("product.template", [
        {
          name: code,
          type: "goods",
          default_uom: f.unit,
          salable: true,
          sale_uom: f.unit,
          list_price: decimal("3"),
          products: [["create", [{ suffix_code: code }]]],
        },
      ]);
      const [{ products }] = await client.read<{ id: number; products: number[] }>(
        "product.template",
        [template as number],
        ["products"],
      );
      const [id] = await client.create("sale.sale", [
        sale(ctx.unique("FAIL"), { lines: [["create", [line({ product: products[0] })]]] }),
      ]);
      await client.button("sale.sale", "quote", [id as number]);
      await client.button("sale.sale", "confirm", [id as number]); // answers null all the same
      const [row] = await client.read("sale.sale", [id as number], ["state", "invoices", "shipments"]);
      assert.deepEqual([row?.state, row?.invoices, row?.shipments], ["confirmed", [], []]);
      const err = await rejection(client.button("sale.sale", "process", [id as number]));
      assert.equal(err.serverMessage, `There is no "Account Category" defined for "${code}".`);
    });

    it("cannot reserve goods without stock; a cancelled shipment puts the sale in exception", async function () {
      const [id] = await client.create("sale.sale", [
        sale(ctx.unique("SHIP"), { invoice_method: "manual", lines: [["create", [line()]]] }),
      ]);
      await client.button("sale.sale", "quote", [id as number]);
      await client.button("sale.sale", "confirm", [id as number]);
      const [row] = await client.read("sale.sale", [id as number], ["shipments"]);
      const shipments = row?.shipments as number[];
      assert.equal(await client.model("stock.shipment.out", "assign_try", [shipments]), false);
      const [shipment] = await client.read("stock.shipment.out", shipments, [
        "state",
        "number",
        "rec_name",
        "customer",
        "delivery_address",
        "origins",
        "outgoing_moves",
        "inventory_moves",
        "effective_date",
      ]);
      assert.equal(shipment?.state, "waiting");
      assert.equal(shipment?.rec_name, shipment?.number);
      assert.equal(shipment?.customer, ctx.fixtures.customer.party);
      assert.equal((shipment?.outgoing_moves as number[]).length, 1);
      assert.equal((shipment?.inventory_moves as number[]).length, 1);
      await client.button("stock.shipment.out", "cancel", shipments);
      const [after] = await client.read("sale.sale", [id as number], ["state", "shipment_state"]);
      assert.deepEqual([after?.state, after?.shipment_state], ["processing", "exception"]);
    });

    it("ships through pick and pack (done only from packed), dating the shipment and its moves today", async function () {
      const [id] = await client.create("sale.sale", [
        sale(ctx.unique("SHIPPED"), { lines: [["create", [line()]]] }),
      ]);
      await client.button("sale.sale", "quote", [id as number]);
      await client.button("sale.sale", "confirm", [id as number]);
      const [row] = await client.read("sale.sale", [id as number], ["shipments"]);
      const shipments = row?.shipments as number[];
      await client.button("stock.shipment.out", "pick", shipments); // straight from waiting
      await client.button("stock.shipment.out", "done", shipments); // not packed yet: skipped
      let [shipment] = await client.read("stock.shipment.out", shipments, ["state"]);
      assert.equal(shipment?.state, "picked");
      await client.button("stock.shipment.out", "pack", shipments);
      await client.button("stock.shipment.out", "done", shipments);
      [shipment] = await client.read("stock.shipment.out", shipments, ["state", "effective_date", "moves"]);
      const today = new Date().toISOString().slice(0, 10);
      assert.deepEqual([shipment?.state, shipment?.effective_date], ["done", today]);
      const moves = await client.read("stock.move", shipment?.moves as number[], ["state", "effective_date"]);
      assert.deepEqual(
        moves.map((m) => [m.state, m.effective_date]),
        moves.map(() => ["done", today]),
      );
      const byShipment = await client.search("stock.move", [
        ["shipment", "=", `stock.shipment.out,${String(shipments[0])}`],
      ]);
      assert.deepEqual(byShipment.sort(), [...(shipment?.moves as number[])].sort());
      const [after] = await client.read(
        "sale.sale",
        [id as number],
        ["state", "shipment_state", "invoice_state"],
      );
      assert.deepEqual(
        [after?.state, after?.shipment_state, after?.invoice_state],
        ["processing", "sent", "waiting"],
      );
    });

    it("ends a cancelled-after-processing sale in done through both exception wizards (never cancelled)", async function () {
      const [id] = await client.create("sale.sale", [
        sale(ctx.unique("WIZ"), { lines: [["create", [line()]]] }),
      ]);
      await client.button("sale.sale", "quote", [id as number]);
      await client.button("sale.sale", "confirm", [id as number]);
      const [row] = await client.read("sale.sale", [id as number], ["shipments", "invoices"]);
      await client.button("stock.shipment.out", "cancel", row?.shipments as number[]);
      await client.button("account.invoice", "cancel", row?.invoices as number[]);
      let [state] = await client.read(
        "sale.sale",
        [id as number],
        ["state", "shipment_state", "invoice_state"],
      );
      assert.deepEqual(
        [state?.state, state?.shipment_state, state?.invoice_state],
        ["processing", "exception", "exception"],
      );
      const active = { active_model: "sale.sale", active_id: id, active_ids: [id] };
      for (const [wizard, field] of [
        ["sale.handle.shipment.exception", "moves"],
        ["sale.handle.invoice.exception", "invoices"],
      ] as const) {
        const [session, start, end] = await client.call<[number, string, string]>(`wizard.${wizard}.create`, [
          client.context,
        ]);
        assert.deepEqual([start, end], ["ask", "end"]);
        const asked = await client.call<{ view: { defaults: Record<string, number[]>; state: string } }>(
          `wizard.${wizard}.execute`,
          [session, {}, "ask", { ...client.context, ...active }],
        );
        assert.equal(asked.view.state, "ask");
        const pending = asked.view.defaults[`domain_${field}`] as number[];
        assert.equal(pending.length, 1);
        assert.deepEqual(asked.view.defaults[`recreate_${field}`], pending);
        const done = await client.call(`wizard.${wizard}.execute`, [
          session,
          { ask: { [`recreate_${field}`]: [], [`domain_${field}`]: pending } },
          "handle",
          { ...client.context, ...active },
        ]);
        assert.deepEqual(done, {});
        await client.call(`wizard.${wizard}.delete`, [session, client.context]);
      }
      [state] = await client.read(
        "sale.sale",
        [id as number],
        ["state", "shipment_state", "invoice_state", "invoices_ignored"],
      );
      assert.deepEqual([state?.state, state?.shipment_state, state?.invoice_state], ["done", "sent", "none"]);
      assert.deepEqual(state?.invoices_ignored, row?.invoices);
    });

    it("recreates cancelled moves in a new shipment when the wizard is told to", async function () {
      const [id] = await client.create("sale.sale", [
        sale(ctx.unique("WIZ2"), { invoice_method: "manual", lines: [["create", [line()]]] }),
      ]);
      await client.button("sale.sale", "quote", [id as number]);
      await client.button("sale.sale", "confirm", [id as number]);
      const [row] = await client.read("sale.sale", [id as number], ["shipments"]);
      await client.button("stock.shipment.out", "cancel", row?.shipments as number[]);
      const active = { ...client.context, active_model: "sale.sale", active_id: id, active_ids: [id] };
      const wizard = "wizard.sale.handle.shipment.exception";
      const [session] = await client.call<[number]>(`${wizard}.create`, [client.context]);
      const asked = await client.call<{ view: { defaults: { domain_moves: number[] } } }>(
        `${wizard}.execute`,
        [session, {}, "ask", active],
      );
      const moves = asked.view.defaults.domain_moves;
      await client.call(`${wizard}.execute`, [
        session,
        { ask: { recreate_moves: moves, domain_moves: moves } },
        "handle",
        active,
      ]);
      await client.call(`${wizard}.delete`, [session, client.context]);
      const [after] = await client.read(
        "sale.sale",
        [id as number],
        ["state", "shipment_state", "shipments"],
      );
      assert.deepEqual([after?.state, after?.shipment_state], ["processing", "waiting"]);
      assert.equal((after?.shipments as number[]).length, 2);
      const err = await rejection(client.call(`${wizard}.execute`, [session, {}, "ask", active]));
      assert.equal(
        err.serverMessage,
        `You are trying to read records "${session}" of "Session Wizard" that don't exist anymore.`,
      );
    });

    it("posts the invoice with a YYYY/N number; a posted customer invoice cannot be cancelled", async function () {
      const [id] = await client.create("sale.sale", [
        sale(ctx.unique("INV"), { lines: [["create", [line()]]] }),
      ]);
      await client.button("sale.sale", "quote", [id as number]);
      await client.button("sale.sale", "confirm", [id as number]);
      const [row] = await client.read("sale.sale", [id as number], ["invoices"]);
      const invoices = row?.invoices as number[];
      await client.button("account.invoice", "post", invoices);
      const [invoice] = await client.read("account.invoice", invoices, [
        "state",
        "number",
        "invoice_date",
        "amount_to_pay",
        "total_amount",
        "rec_name",
      ]);
      const year = new Date().getUTCFullYear();
      assert.equal(invoice?.state, "posted");
      assert.match(String(invoice?.number), new RegExp(`^${year}/\\d+$`));
      assert.equal(invoice?.rec_name, invoice?.number);
      assert.equal(invoice?.invoice_date, new Date().toISOString().slice(0, 10));
      assert.deepEqual([invoice?.amount_to_pay, invoice?.total_amount], ["25.00", "25.00"]);
      const err = await rejection(client.button("account.invoice", "cancel", invoices));
      assert.equal(
        err.serverMessage,
        `You cannot cancel customer invoice "${String(invoice?.number)}" because it is posted and company setup does not allow it.`,
      );
    });
  });
}
