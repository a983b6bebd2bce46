import assert from "node:assert/strict";

import { Dec } from "../../src/sandbox/tryton/decimal";
import { startTrytonSimulator, type TrytonSimulator } from "../../src/sandbox/tryton";
import { date, decimal, TrytonClient, TrytonError } from "../../src/tryton/rpc";

const D = (text: string) => ({ __class__: "Decimal", decimal: text });
// Not the default "admin": the client registers passwords as secrets process-wide and would
// redact the word "admin" from every later message of the mocha run.
const PASSWORD = "sim-unit-Pw-4821";

async function post(
  sim: TrytonSimulator,
  body: unknown,
  headers: Record<string, string> = {},
  path = `/${sim.database}/`,
): Promise<{ status: number; text: string; json: Record<string, unknown> | undefined }> {
  const r = await fetch(sim.url + path, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  const text = await r.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: r.status, text, json };
}

async function sessionHeader(sim: TrytonSimulator): Promise<string> {
  const r = await post(sim, {
    id: 0,
    method: "common.db.login",
    params: [sim.username, { password: sim.password }, "en"],
  });
  const [uid, key] = r.json?.result as [number, string];
  return `Session ${Buffer.from(`${sim.username}:${uid}:${key}`).toString("base64")}`;
}

describe("Tryton simulator", function () {
  describe("Dec (Python Decimal semantics)", function () {
    it("keeps the exponent it was given and prints like str(Decimal)", function () {
      for (const text of ["12.50", "0", "0.00", "-3.1400", "1E+2", "0.000001", "1E-7"]) {
        assert.equal(Dec.parse(text)!.toString(), text);
      }
      assert.equal(Dec.parse("+.5")!.toString(), "0.5");
      assert.equal(Dec.parse("abc"), undefined);
    });

    it("converts a float to its exact binary value, like Decimal(float)", function () {
      assert.equal(Dec.fromFloat(19.99).toString(), "19.989999999999998436805981327779591083526611328125");
      assert.equal(Dec.fromFloat(12.5).toString(), "12.5");
      assert.equal(Dec.fromFloat(2).toString(), "2");
      assert.equal(Dec.fromFloat(0.1).add(Dec.fromFloat(0.2)).fitsDigits(4), false);
    });

    it("adds and multiplies exactly, rounding only past 28 significant digits", function () {
      assert.equal(Dec.parse("0.1")!.add(Dec.parse("0.2")!).toString(), "0.3");
      assert.equal(Dec.parse("2.0")!.mul(Dec.parse("12.50")!).toString(), "25.000");
      assert.equal(Dec.parse("123456789012.3456")!.mul(Dec.parse("3")!).toString(), "370370367037.0368");
      assert.equal(
        Dec.parse("1")!.mul(Dec.parse("0.3333333333333333333333333333333")!).toString(),
        "0.3333333333333333333333333333",
      );
    });

    it("rounds half to even, to a power of ten or to any currency factor", function () {
      assert.equal(Dec.parse("1.005")!.roundTo(Dec.parse("0.01")!).toString(), "1.00");
      assert.equal(Dec.parse("1.015")!.roundTo(Dec.parse("0.01")!).toString(), "1.02");
      assert.equal(Dec.parse("0.125")!.roundTo(Dec.parse("0.01")!).toString(), "0.12");
      assert.equal(Dec.parse("2469.0")!.roundTo(Dec.parse("1")!).toString(), "2469");
      assert.equal(Dec.parse("1.03")!.roundTo(Dec.parse("0.05")!).toString(), "1.05");
      assert.equal(Dec.parse("-2.5")!.quantize(0).toString(), "-2");
      assert.equal(Dec.parse("1.23450")!.fitsDigits(4), true);
      assert.equal(Dec.parse("1.23456")!.fitsDigits(4), false);
    });
  });

  describe("server", function () {
    let sim: TrytonSimulator;
    let client: TrytonClient;
    const f = () => sim.fixtures;
    const line = (extra: Record<string, unknown> = {}) => ({
      product: f().products.sampleGoods.product,
      quantity: 2,
      unit: f().unit,
      unit_price: decimal("12.50"),
      ...extra,
    });
    const sale = (reference: string, extra: Record<string, unknown> = {}) => ({
      party: f().customer.party,
      invoice_address: f().customer.address,
      shipment_address: f().customer.address,
      reference,
      sale_date: date("2024-05-01"),
      ...extra,
    });

    beforeEach(async function () {
      sim = await startTrytonSimulator({ password: PASSWORD });
      client = new TrytonClient({
        url: sim.url,
        database: sim.database,
        username: sim.username,
        password: sim.password,
        retry: false,
      });
    });

    afterEach(async function () {
      await client.logout().catch(() => undefined);
      await sim.stop();
    });

    it("seeds the data of scripts/tryton-fixtures.ts with the same ids", function () {
      const fx = sim.fixtures;
      assert.deepEqual(fx.currency, { USD: 1, EUR: 2, GBP: 3, JPY: 4 });
      assert.deepEqual(fx.country, { US: 1, DE: 2, GB: 3, FR: 4, JP: 5 });
      assert.equal(fx.subdivision["US-TX"], 3);
      assert.deepEqual([fx.company, fx.companyParty, fx.unit, fx.warehouse], [1, 1, 1, 5]);
      assert.deepEqual(fx.products.sampleGoods, { template: 2, product: 2, code: "TEST-MUG" });
      assert.deepEqual(fx.customer, { party: 2, address: 2 });
      assert.equal(fx.users.clerk.login, "clerk");
      assert.equal(fx.fiscalYears[String(new Date().getUTCFullYear())] !== undefined, true);
      assert.equal(sim.db.get("currency.currency", fx.currency.JPY)?.rounding, "1");
    });

    describe("domains", function () {
      it("matches =, !=, in, not in, <, >, like, ilike with SQL NULL rules", async function () {
        const ids = await client.create("sale.sale", [
          sale("D-1", { description: "Alpha" }),
          sale("D-2", { description: "beta" }),
          sale("D-3"),
        ]);
        const q = (clause: unknown[]) =>
          client.search("sale.sale", [["reference", "like", "D-%"], clause], { order: [["id", "ASC"]] });
        assert.deepEqual(await q(["description", "=", "alpha"]), []);
        assert.deepEqual(await q(["description", "ilike", "ALPHA"]), [ids[0]]);
        assert.deepEqual(await q(["description", "like", "%ETA"]), [ids[1]]);
        assert.deepEqual(await q(["description", "not ilike", "%a%"]), []);
        assert.deepEqual(await q(["description", "!=", "beta"]), [ids[0]]);
        assert.deepEqual(await q(["description", "in", ["beta", null]]), [ids[1], ids[2]]);
        assert.deepEqual(await q(["description", "not in", ["beta"]]), [ids[0]]);
        assert.deepEqual(await q(["id", ">", ids[0]]), [ids[1], ids[2]]);
        assert.deepEqual(await q(["id", "<=", ids[1]]), [ids[0], ids[1]]);
        assert.deepEqual(await q(["sale_date", ">=", date("2024-05-01")]), ids);
      });

      it("nests AND/OR lists and follows dotted paths and relation names", async function () {
        const [a, b] = await client.create("sale.sale", [
          sale("P-1", { lines: [["create", [line()]]] }),
          sale("P-2", {
            lines: [["create", [line({ product: f().products.shipping.product, quantity: 1 })]]],
          }),
        ]);
        const search = (domain: unknown[]) => client.search("sale.sale", domain, { order: [["id", "ASC"]] });
        assert.deepEqual(await search([["lines.product.code", "=", "SHIPPING"]]), [b]);
        assert.deepEqual(
          await search([
            ["party.name", "ilike", "%roe"],
            ["reference", "like", "P-%"],
          ]),
          [a, b],
        );
        assert.deepEqual(
          await search([
            ["party", "=", "Jane Roe"],
            ["reference", "=", "P-2"],
          ]),
          [b],
        );
        assert.deepEqual(
          await search([
            "OR",
            [["reference", "=", "P-1"]],
            ["AND", ["reference", "=", "P-2"], ["lines.quantity", "=", 1]],
          ]),
          [a, b],
        );
        assert.deepEqual(await search([["rec_name", "ilike", "%p-2%"]]), [b]);
      });

      it("fails like trytond on unknown fields, operators and unsearchable function fields", async function () {
        const err = await client.search("sale.sale", [["zip", "=", 1]]).catch((e: TrytonError) => e);
        assert.equal((err as TrytonError).serverMessage, "'zip'");
        const op = await client
          .search("sale.sale", [["reference", "between", 1]])
          .catch((e: TrytonError) => e);
        assert.equal((op as TrytonError).code, "server_error");
        const fn = await client
          .search("sale.sale", [["total_amount", ">", decimal("1")]])
          .catch((e: TrytonError) => e);
        assert.equal(
          (fn as TrytonError).serverMessage,
          'Missing search function for field "Total" in "Sale".',
        );
      });
    });

    describe("one2many commands", function () {
      it("creates nested lines, then deletes, adds, removes and copies them", async function () {
        const [a, b] = await client.create("sale.sale", [
          sale("C-1", {
            lines: [["create", [line(), line({ quantity: 3 }), { type: "comment", description: "hi" }]]],
          }),
          sale("C-2"),
        ]);
        const linesOf = async (id: number) =>
          ((await client.read("sale.sale", [id], ["lines"]))[0]?.lines as number[]) ?? [];
        const [l1, l2, l3] = await linesOf(a as number);
        await client.write("sale.sale", [a as number], { lines: [["delete", [l3]]] });
        await client.write("sale.sale", [b as number], {
          lines: [
            ["add", [l2]],
            ["copy", [l1], { quantity: 9 }],
          ],
        });
        assert.deepEqual(await linesOf(a as number), [l1]);
        const bLines = await client.read("sale.line", await linesOf(b as number), ["quantity", "sale"]);
        assert.deepEqual(
          bLines.map((l) => [l.quantity, l.sale]),
          [
            [3, b],
            [9, b],
          ],
        );
        const err = await client
          .write("sale.sale", [b as number], { lines: [["remove", [l2]]] })
          .catch((e: TrytonError) => e);
        assert.match(
          (err as TrytonError).serverMessage,
          /You are not allowed to write to records .* "Sale Line"/,
        );
        assert.equal(sim.db.count("sale.line"), 3, "the failed call was rolled back");
      });

      it("rolls a failing call back as a whole, ids included", async function () {
        const before = sim.db.count("sale.sale");
        const err = await client
          .create("sale.sale", [sale("R-1"), sale("R-2", { lines: [["create", [line({ quantity: 1.5 })]]] })])
          .catch((e: TrytonError) => e);
        assert.match((err as TrytonError).serverMessage, /exceeds the limit of "0"/);
        assert.equal(sim.db.count("sale.sale"), before);
        assert.equal(sim.db.count("sale.line"), 0);
        const [id] = await client.create("sale.sale", [sale("R-3")]);
        assert.equal(id, before + 1);
      });
    });

    describe("Decimal exactness", function () {
      it("stores and sums Numerics without float drift", async function () {
        const [id] = await client.create("sale.sale", [
          sale("X-1", {
            lines: [
              [
                "create",
                [
                  line({ quantity: 3, unit_price: decimal("0.1") }),
                  line({ quantity: 3, unit_price: decimal("0.2") }),
                  line({ quantity: 1, unit_price: decimal("123456789012.3456") }),
                ],
              ],
            ],
          }),
        ]);
        const [row] = await client.read("sale.sale", [id as number], ["untaxed_amount", "lines"]);
        assert.equal(row?.untaxed_amount, "123456789013.25");
        const lines = await client.read("sale.line", row?.lines as number[], ["unit_price", "amount"]);
        assert.deepEqual(
          lines.map((l) => [l.unit_price, l.amount]),
          [
            ["0.1", "0.30"],
            ["0.2", "0.60"],
            ["123456789012.3456", "123456789012.35"],
          ],
        );
      });

      it("refuses a float price with the binary expansion, accepts the same price as text", async function () {
        const raw = await post(
          sim,
          {
            id: 1,
            method: "model.sale.sale.create",
            params: [[sale("F-1", { lines: [["create", [line({ unit_price: 19.99 })]]] })], { company: 1 }],
          },
          { Authorization: await sessionHeader(sim) },
        );
        assert.match(
          JSON.stringify(raw.json?.error),
          /Decimal\('19\.989999999999998436805981327779591083526611328125'\)/,
        );
        const [id] = await client.create("sale.sale", [
          sale("F-2", { lines: [["create", [line({ unit_price: "19.99" })]]] }),
        ]);
        assert.equal(
          (await client.read("sale.sale", [id as number], ["untaxed_amount"]))[0]?.untaxed_amount,
          "39.98",
        );
      });
    });

    describe("sale state machine", function () {
      const states = (ids: number[]) =>
        client.read("sale.sale", ids, ["state"]).then((r) => r.map((x) => x.state));

      it("walks draft → quotation → confirmed → processing and skips disallowed transitions silently", async function () {
        const ids = (await client.create("sale.sale", [
          sale("S-1", { lines: [["create", [line()]]] }),
          sale("S-2", { lines: [["create", [line()]]] }),
        ])) as number[];
        await client.button("sale.sale", "confirm", ids); // draft: skipped
        await client.button("sale.sale", "process", ids); // draft: skipped
        assert.deepEqual(await states(ids), ["draft", "draft"]);
        await client.button("sale.sale", "quote", [ids[0]!]);
        await client.button("sale.sale", "confirm", ids); // only the quotation moves
        assert.deepEqual(await states(ids), ["processing", "draft"]);
        await client.button("sale.sale", "cancel", ids); // processing: skipped; draft: cancelled
        await client.button("sale.sale", "draft", ids); // processing: skipped; cancelled: back to draft
        assert.deepEqual(await states(ids), ["processing", "draft"]);
        assert.equal(sim.taskErrors.length, 0);
      });

      it("runs process after confirm, records its failure, and reaches done through shipment and payment", async function () {
        const [id] = await client.create("sale.sale", [sale("S-3", { lines: [["create", [line()]]] })]);
        await client.button("sale.sale", "quote", [id as number]);
        await client.button("sale.sale", "confirm", [id as number]);
        const [row] = await client.read(
          "sale.sale",
          [id as number],
          ["state", "shipments", "invoices", "number"],
        );
        assert.deepEqual([row?.state, row?.number], ["processing", "1"]);
        for (const step of ["assign_force", "pick", "pack", "done"]) {
          await client.button("stock.shipment.out", step, row?.shipments as number[]);
        }
        await client.button("account.invoice", "post", row?.invoices as number[]);
        assert.equal((await states([id as number]))[0], "processing", "invoice not paid yet");
        sim.payInvoices(row?.invoices as number[]);
        const [after] = await client.read(
          "sale.sale",
          [id as number],
          ["state", "invoice_state", "shipment_state"],
        );
        assert.deepEqual(
          [after?.state, after?.invoice_state, after?.shipment_state],
          ["done", "paid", "sent"],
        );
      });

      it("keeps the sale confirmed when the post-commit process fails", async function () {
        const [template] = await client.create("product.template", [
          {
            name: "No category",
            type: "goods",
            default_uom: 1,
            salable: true,
            sale_uom: 1,
            list_price: decimal("1"),
            products: [["create", [{}]]],
          },
        ]);
        const product = (
          (await client.read("product.template", [template as number], ["products"]))[0]?.products as number[]
        )[0];
        const [id] = await client.create("sale.sale", [
          sale("S-4", { lines: [["create", [line({ product })]]] }),
        ]);
        await client.button("sale.sale", "quote", [id as number]);
        await client.button("sale.sale", "confirm", [id as number]);
        assert.equal((await states([id as number]))[0], "confirmed");
        assert.match(
          sim.taskErrors.join("\n"),
          /There is no \\"Account Category\\" defined for \\"No category\\"/,
        );
      });
    });

    describe("sessions", function () {
      it("answers 401 with an empty body once sessions expire, and the client logs in again", async function () {
        const header = await sessionHeader(sim);
        const call = { id: 1, method: "model.res.user.search", params: [[], 0, null, null, {}] };
        assert.equal((await post(sim, call, { Authorization: header })).status, 200);
        sim.expireSessions();
        const expired = await post(sim, call, { Authorization: header });
        assert.deepEqual([expired.status, expired.text], [401, ""]);

        await client.search("res.user", []);
        sim.expireSessions();
        await client.search("res.user", []);
        assert.equal(client.stats.logins, 2);
      });

      it("ends sessions after sessionTtlMs", async function () {
        // Far above a local login and call on a busy machine; the wait only has to pass it.
        const ttlMs = 1_000;
        const short = await startTrytonSimulator({ password: PASSWORD, sessionTtlMs: ttlMs });
        try {
          const header = await sessionHeader(short);
          const call = { id: 1, method: "model.res.user.search", params: [[], 0, null, null, {}] };
          assert.equal((await post(short, call, { Authorization: header })).status, 200);
          await new Promise((r) => setTimeout(r, ttlMs + 100));
          assert.equal((await post(short, call, { Authorization: header })).status, 401);
        } finally {
          await short.stop();
        }
      });

      it("rate-limits a login after repeated failures with HTTP 429", async function () {
        const login = {
          id: 1,
          method: "common.db.login",
          params: ["admin", { password: "wrong-password" }, "en"],
        };
        for (let i = 0; i < 6; i++) assert.equal((await post(sim, login)).status, 401);
        assert.equal((await post(sim, login)).status, 429);
      });
    });

    describe("knobs", function () {
      it("counts requests per JSON-RPC method", async function () {
        await client.search("res.user", []);
        await client.search("res.user", []);
        assert.equal(sim.counters["common.db.login"], 1);
        assert.equal(sim.counters["model.res.user.get_preferences"], 1);
        assert.equal(sim.counters["model.res.user.search"], 2);
        sim.resetCounters();
        assert.deepEqual(sim.counters, {});
      });

      it("injects 500, 503, connection resets and slow answers, reproducibly by seed", async function () {
        await client.login();
        sim.setFaults({ rate: 1, kinds: ["500"] });
        const e500 = await client.search("res.user", []).catch((e: TrytonError) => e);
        assert.deepEqual([(e500 as TrytonError).code, (e500 as TrytonError).retryable], ["http_500", true]);
        sim.setFaults({ rate: 1, kinds: ["503"] });
        assert.equal(
          ((await client.search("res.user", []).catch((e: TrytonError) => e)) as TrytonError).status,
          503,
        );
        sim.setFaults({ rate: 1, kinds: ["reset"] });
        assert.equal(
          ((await client.search("res.user", []).catch((e: TrytonError) => e)) as TrytonError).code,
          "network",
        );
        sim.setFaults({ rate: 1, kinds: ["slow"], slowMs: 150 });
        const t0 = Date.now();
        await client.search("res.user", []);
        assert.ok(Date.now() - t0 >= 140, "slow answer");
        sim.setFaults(undefined);
        await client.search("res.user", []);

        const pattern = async () => {
          sim.setFaults({ rate: 0.5, kinds: ["500"], seed: 42 });
          const out: boolean[] = [];
          for (let i = 0; i < 12; i++)
            out.push(
              await client.search("res.user", []).then(
                () => true,
                () => false,
              ),
            );
          sim.setFaults(undefined);
          return out;
        };
        const first = await pattern();
        assert.deepEqual(await pattern(), first);
        assert.ok(first.includes(true) && first.includes(false));
      });

      it("recovers with the client's retry policy while faults come and go", async function () {
        const retrying = new TrytonClient({
          url: sim.url,
          database: sim.database,
          username: sim.username,
          password: sim.password,
          retry: { attempts: 8, baseDelayMs: 1, maxDelayMs: 5 },
        });
        sim.setFaults({ rate: 0.4, kinds: ["500", "503", "reset"], seed: 7 });
        const ids = await retrying.create("sale.sale", [sale("K-1")]);
        sim.setFaults(undefined);
        assert.equal(ids.length, 1);
        await retrying.logout();
      });

      it("adds latency to every answer", async function () {
        sim.setLatency(60);
        const t0 = Date.now();
        await fetch(`${sim.url}/`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ id: 1, method: "common.server.version", params: [] }),
        });
        assert.ok(Date.now() - t0 >= 55);
      });

      it("gives direct access to the tables and to model calls", async function () {
        const [id] = await client.create("sale.sale", [sale("T-1", { lines: [["create", [line()]]] })]);
        assert.equal(sim.db.get("sale.sale", id as number)?.reference, "T-1");
        assert.equal(sim.db.rows("sale.line")[0]?.unit_price, "12.50");
        assert.deepEqual(sim.db.call("sale.sale", "read", [[id], ["total_amount"]]), [
          { id, total_amount: D("25.00") },
        ]);
      });
    });
  });
});
