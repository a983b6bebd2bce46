/**
 * What the pack relies on from Tryton's JSON-RPC interface: session handling, context,
 * value encoding, error shapes, the sale model and its workflow buttons. Runs against
 * any `TrytonServerDescriptor` (see harness.ts); wired to the real server in
 * tryton-rpc.spec.ts.
 */
import assert from "node:assert/strict";

import {
  date,
  datetime,
  decimal,
  TrytonError,
  type TrytonClient,
  type TrytonRecord,
  type Values,
} from "../../src/tryton/rpc";
import type { ContractContext, TrytonFixtures } from "./harness";

interface Captured {
  authorization?: string;
  method: string;
  params: unknown[];
}

/** Record every request the client sends (after its own headers are set). */
function capture(client: TrytonClient): Captured[] {
  const seen: Captured[] = [];
  client.http.interceptors.request.use((config) => {
    const body = JSON.parse(String(config.data)) as { method: string; params: unknown[] };
    const auth = config.headers?.Authorization;
    seen.push({
      authorization: typeof auth === "string" ? auth : undefined,
      method: body.method,
      params: body.params,
    });
    return config;
  });
  return seen;
}

/** A sale as the importer builds it: addresses, lines with unit and price, a comment line. */
export function saleValues(
  f: TrytonFixtures,
  reference: string,
  opts: { invoiceMethod?: "order" | "manual"; unitPrice?: string; quantity?: number } = {},
): Values {
  return {
    party: f.customer.party,
    invoice_address: f.customer.address,
    shipment_address: f.customer.address,
    reference,
    description: `Magento #${reference}`,
    sale_date: date("2024-02-29"),
    invoice_method: opts.invoiceMethod ?? "order",
    shipment_method: "order",
    lines: [
      [
        "create",
        [
          {
            product: f.products.sampleGoods.product,
            quantity: opts.quantity ?? 2,
            unit: f.unit,
            unit_price: decimal(opts.unitPrice ?? "12.50"),
            description: "Test Mug",
          },
          {
            product: f.products.shipping.product,
            quantity: 1,
            unit: f.unit,
            unit_price: decimal("4.95"),
            description: "Flat rate shipping",
          },
          { type: "comment", description: "Please gift wrap" },
        ],
      ],
    ],
  };
}

async function rejection(promise: Promise<unknown>): Promise<TrytonError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof TrytonError, `expected a TrytonError, got ${String(err)}`);
    return err;
  }
  assert.fail("expected the call to fail");
}

/**
 * End a session as another program would: `common.db.logout` with the same header. Tryton 7.0
 * ends a user's sessions itself when the password changes (the logout is then refused: 401);
 * 6.0 does not over RPC (ir.session.clear runs under the admin's access rules).
 */
async function serverSideLogout(
  ctx: ContractContext,
  authorization: string,
  afterPasswordChange = false,
): Promise<void> {
  const r = await fetch(`${ctx.server.url}/${ctx.server.database}/`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: authorization },
    body: JSON.stringify({ id: 1, method: "common.db.logout", params: [] }),
  });
  assert.equal(
    r.status,
    afterPasswordChange && ctx.server.series === "7.0" ? 401 : 200,
    "server-side logout",
  );
}

/** Sales in the order of `ids`: on PostgreSQL, `read` returns rows in no particular order. */
async function readInOrder(client: TrytonClient, ids: number[], fields: string[]): Promise<TrytonRecord[]> {
  const rows = await client.read("sale.sale", ids, fields);
  return ids.map((id) => rows.find((r) => r.id === id)).filter((r): r is TrytonRecord => r !== undefined);
}

/** Read the sales once Tryton ran what the last buttons queued (a worker runs it after the call). */
async function readSettled(
  ctx: ContractContext,
  client: TrytonClient,
  ids: number[],
  fields: string[],
): Promise<TrytonRecord[]> {
  await ctx.server.settle?.();
  return client.read("sale.sale", ids, fields);
}

const saleState = ["state", "number", "invoice_state", "shipment_state", "invoices", "shipments"];

export function trytonRpcContract(ctx: ContractContext): void {
  describe("sessions", function () {
    it("logs in once and reuses the session for many calls, concurrent ones included", async function () {
      const client = ctx.client();
      const seen = capture(client);
      await Promise.all(Array.from({ length: 5 }, () => client.search("res.user", [])));
      for (let i = 0; i < 5; i++) await client.searchCount("sale.sale", []);
      assert.equal(client.stats.logins, 1);
      const modelCalls = seen.filter((r) => r.method.startsWith("model."));
      assert.equal(modelCalls.length, 11); // get_preferences + 10
      assert.equal(new Set(modelCalls.map((r) => r.authorization)).size, 1);
    });

    it("authenticates with 'Session base64(login:userId:key)'", async function () {
      const client = ctx.client();
      const seen = capture(client);
      await client.search("res.user", []);
      const header = seen.find((r) => r.method === "model.res.user.search")?.authorization ?? "";
      assert.match(header, /^Session [A-Za-z0-9+/=]+$/);
      const [login, userId, key] = Buffer.from(header.slice(8), "base64").toString("utf8").split(":");
      assert.equal(login, ctx.server.username);
      assert.equal(Number(userId), client.userId);
      assert.ok(key && key.length >= 16, "session key present");
      const loginCall = seen.find((r) => r.method === "common.db.login");
      assert.equal(loginCall?.authorization, undefined, "login itself is not authenticated");
      assert.deepEqual(loginCall?.params[1], { password: ctx.server.password });
    });

    it("logs in again exactly once when the session was logged out on the server", async function () {
      const client = ctx.client();
      const seen = capture(client);
      await client.search("res.user", []);
      const header = seen.at(-1)?.authorization ?? "";
      await serverSideLogout(ctx, header); // the session dies behind the client's back
      const before = seen.length;
      const ids = await client.search("res.user", []);
      assert.ok(ids.length >= 2);
      assert.equal(client.stats.logins, 2);
      assert.deepEqual(
        seen.slice(before).map((c) => c.method),
        [
          "model.res.user.search",
          "common.db.login",
          "model.res.user.get_preferences",
          "model.res.user.search",
        ],
      );
    });

    it("shares one re-login between concurrent calls that all met the dead session", async function () {
      const client = ctx.client();
      const seen = capture(client);
      await client.search("res.user", []);
      await serverSideLogout(ctx, seen.at(-1)?.authorization ?? "");
      await Promise.all(Array.from({ length: 5 }, () => client.searchCount("res.user", [])));
      assert.equal(client.stats.logins, 2);
      assert.equal(seen.filter((c) => c.method === "common.db.login").length, 2);
    });

    it("fails with http_401 after one re-login when the credentials stopped working", async function () {
      const admin = ctx.client();
      const { clerk } = ctx.fixtures.users;
      const user = ctx.client({ username: clerk.login, password: clerk.password });
      const seen = capture(user);
      await user.call("model.res.user.get_preferences", [true, {}]);
      // Tryton 6.0 does not end other users' sessions on a password change made over RPC
      // (ir.session.clear runs under the admin's access rules), so end it explicitly.
      await admin.write("res.user", [clerk.id], { password: "Zt8!pQ2-wX5#nR7v" });
      try {
        await serverSideLogout(ctx, seen.at(-1)?.authorization ?? "", true);
        const before = seen.length;
        const err = await rejection(user.call("model.res.user.get_preferences", [true, {}]));
        assert.equal(err.code, "http_401");
        assert.equal(err.call, "common.db.login");
        assert.deepEqual(
          seen.slice(before).map((c) => c.method),
          ["model.res.user.get_preferences", "common.db.login"],
        );
      } finally {
        await admin.write("res.user", [clerk.id], { password: clerk.password });
      }
    });

    it("refuses a wrong password with http_401 and never shows the password", async function () {
      const password = "not-the-password-42";
      const client = ctx.client({ password });
      const err = await rejection(client.login());
      assert.equal(err.code, "http_401");
      assert.equal(err.call, "common.db.login");
      assert.equal(client.loggedIn, false);
      const shown = `${err.message} ${err.stack ?? ""} ${JSON.stringify(err)}`;
      assert.ok(!shown.includes(password), "password leaked");
      assert.ok(!shown.includes(ctx.server.password), "server password leaked");
    });

    it("logout ends the session; the next call logs in again", async function () {
      const client = ctx.client();
      await client.search("res.user", []);
      await client.logout();
      assert.equal(client.loggedIn, false);
      await client.logout(); // twice is fine
      await client.search("res.user", []);
      assert.equal(client.stats.logins, 2);
    });
  });

  describe("context", function () {
    it("fetches the preferences once per login and sends them as the last argument of every model call", async function () {
      const client = ctx.client();
      const seen = capture(client);
      await client.search("res.user", []);
      await client.read("res.user", [1], ["login"]);
      await client.searchRead("res.user", [], ["login"], { limit: 1 });
      assert.equal(client.stats.preferenceFetches, 1);
      assert.equal(client.context.company, ctx.fixtures.company);
      const modelCalls = seen.filter(
        (c) => c.method.startsWith("model.") && !c.method.endsWith("get_preferences"),
      );
      assert.equal(modelCalls.length, 3);
      for (const c of modelCalls) assert.deepEqual(c.params.at(-1), client.context);
    });

    it("takes company and currency defaults from that context when creating a sale", async function () {
      const client = ctx.client();
      const [id] = await client.create("sale.sale", [{ party: ctx.fixtures.customer.party }]);
      const [sale] = await client.read("sale.sale", [id as number], ["company", "currency", "state"]);
      assert.deepEqual(sale, {
        id,
        company: ctx.fixtures.company,
        currency: ctx.fixtures.companyCurrency,
        state: "draft",
      });
    });
  });

  describe("values", function () {
    it("round-trips Decimals exactly, as strings", async function () {
      const client = ctx.client();
      const price = "123456789012.3456"; // 16 significant digits: past what a double keeps reliably
      const [template] = await client.create("product.template", [
        {
          name: ctx.unique("Decimal probe"),
          type: "service",
          default_uom: ctx.fixtures.unit,
          list_price: decimal(price),
          account_category: ctx.fixtures.accountCategory,
        },
      ]);
      const [row] = await client.read("product.template", [template as number], ["list_price"]);
      assert.equal(row?.list_price, price);

      const [saleId] = await client.create("sale.sale", [
        saleValues(ctx.fixtures, ctx.unique("DEC"), { unitPrice: "19.99", quantity: 3 }),
      ]);
      const [sale] = await client.read(
        "sale.sale",
        [saleId as number],
        ["untaxed_amount", "total_amount", "lines"],
      );
      // 3 × 19.99 + 4.95: 64.92 exactly (as floats: 64.91999999999999)
      assert.equal(sale?.untaxed_amount, "64.92");
      assert.equal(sale?.total_amount, "64.92");
      const lines = await client.read("sale.line", sale?.lines as number[], ["unit_price", "amount", "type"]);
      assert.deepEqual(
        lines.filter((l) => l.type === "line").map((l) => l.amount),
        ["59.97", "4.95"],
      );
    });

    it("encodes and decodes dates and datetimes", async function () {
      const client = ctx.client();
      const [id] = await client.create("sale.sale", [saleValues(ctx.fixtures, ctx.unique("DATE"))]);
      const [sale] = await client.read("sale.sale", [id as number], ["sale_date", "create_date"]);
      assert.equal(sale?.sale_date, "2024-02-29");
      assert.match(String(sale?.create_date), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/);
      const found = await client.search("sale.sale", [
        ["id", "=", id],
        ["create_date", ">=", datetime(new Date(Date.now() - 3_600_000))],
      ]);
      assert.deepEqual(found, [id]);
    });

    it("reads currency digits and rounding as configured (JPY has no minor unit)", async function () {
      const client = ctx.client();
      const rows = await client.read(
        "currency.currency",
        [ctx.fixtures.currency.USD, ctx.fixtures.currency.JPY],
        ["code", "digits", "rounding"],
      );
      assert.deepEqual(
        rows.map((r) => [r.code, r.digits, Number(r.rounding)]),
        [
          ["USD", 2, 0.01],
          ["JPY", 0, 1],
        ],
      );
    });
  });

  describe("errors", function () {
    it("reports a missing required field as user_error with the server's message and the call", async function () {
      const client = ctx.client();
      const err = await rejection(client.create("sale.sale", [{ description: "no party" }]));
      assert.equal(err.code, "user_error");
      assert.equal(err.type, "UserError");
      assert.equal(err.call, "model.sale.sale.create");
      // 7.0 names the record when it has one: … in "(631)" of "Sale".
      assert.match(
        err.serverMessage,
        ctx.server.series === "7.0"
          ? /A value is required for field "Party" in (?:"\(\d+\)" of )?"Sale"/
          : /A value is required for field "Party" in "Sale"/,
      );
      assert.match(err.message, /^Tryton model\.sale\.sale\.create failed: /);
      assert.equal(err.retryable, false);
    });

    it("reports a model the user may not use as access_error", async function () {
      const { clerk } = ctx.fixtures.users;
      const client = ctx.client({ username: clerk.login, password: clerk.password });
      const err = await rejection(client.search("sale.sale", []));
      assert.equal(err.code, "access_error");
      assert.equal(err.call, "model.sale.sale.search");
      assert.match(err.serverMessage, /not allowed to access "Sale"/);
    });

    it("reports an unknown field as server_error without a traceback", async function () {
      const client = ctx.client();
      const err = await rejection(client.create("party.party", [{ name: "x", zip: "12345" }]));
      assert.equal(err.code, "server_error");
      assert.equal(err.serverMessage, "'zip'");
    });

    it("reports a method that is not exposed as http_403", async function () {
      const client = ctx.client();
      const err = await rejection(client.model("sale.sale", "no_such_method", [[]]));
      assert.equal(err.code, "http_403");
      assert.equal(err.status, 403);
    });

    it("reports an unreachable server as a retryable network error", async function () {
      const client = ctx.client({ url: "http://127.0.0.1:9" });
      const err = await rejection(client.login());
      assert.equal(err.code, "network");
      assert.equal(err.retryable, true);
    });
  });

  describe("sales", function () {
    it("creates a sale with its lines in one call (one2many 'create' command) and finds it by reference", async function () {
      const client = ctx.client();
      const reference = ctx.unique("REF");
      const seen = capture(client);
      const [id] = await client.create("sale.sale", [saleValues(ctx.fixtures, reference)]);
      assert.equal(seen.filter((c) => c.method === "model.sale.sale.create").length, 1);
      const [sale] = await client.searchRead(
        "sale.sale",
        [["reference", "=", reference]],
        ["reference", "state", "number", "lines", "total_amount", "lines.type"],
      );
      assert.equal(sale?.id, id);
      assert.equal(sale?.state, "draft");
      assert.equal(sale?.number, null);
      assert.equal((sale?.lines as number[]).length, 3);
      assert.equal(sale?.total_amount, "29.95");
      const nested = sale?.["lines."] as Array<{ id: number; type: string }>;
      assert.deepEqual(nested.map((l) => l.type).sort(), ["comment", "line", "line"]);
    });

    it("quote → confirm moves the sale to processing with a draft invoice and a waiting shipment", async function () {
      const client = ctx.client();
      const [id] = await client.create("sale.sale", [saleValues(ctx.fixtures, ctx.unique("FLOW"))]);
      const ids = [id as number];
      await client.button("sale.sale", "quote", ids);
      let [sale] = await client.read("sale.sale", ids, saleState);
      assert.equal(sale?.state, "quotation");
      assert.ok(sale?.number, "number assigned at quote");

      // Without a worker ([queue] worker = False) process runs in the confirm request.
      await client.button("sale.sale", "confirm", ids);
      [sale] = await readSettled(ctx, client, ids, saleState);
      assert.equal(sale?.state, "processing");
      // 7.0 renamed the state of invoices not yet paid: waiting → pending.
      assert.equal(sale?.invoice_state, ctx.server.series === "7.0" ? "pending" : "waiting");
      assert.equal(sale?.shipment_state, "waiting");
      assert.equal((sale?.invoices as number[]).length, 1);
      assert.equal((sale?.shipments as number[]).length, 1);
      const [invoice] = await client.read("account.invoice", sale?.invoices as number[], [
        "state",
        "total_amount",
      ]);
      assert.deepEqual([invoice?.state, invoice?.total_amount], ["draft", "29.95"]);

      await client.button("sale.sale", "process", ids); // nothing left to do: stays processing
      [sale] = await client.read("sale.sale", ids, ["state"]);
      assert.equal(sale?.state, "processing");
    });

    it("skips a disallowed transition silently: the state must be read back", async function () {
      const client = ctx.client();
      const [draftId, processingId] = await client.create("sale.sale", [
        saleValues(ctx.fixtures, ctx.unique("SKIP")),
        saleValues(ctx.fixtures, ctx.unique("SKIP")),
      ]);
      await client.button("sale.sale", "quote", [processingId as number]);
      await client.button("sale.sale", "confirm", [processingId as number]);
      await readSettled(ctx, client, [processingId as number], ["state"]);

      await client.button("sale.sale", "confirm", [draftId as number]); // confirm needs a quotation
      await client.button("sale.sale", "cancel", [processingId as number]); // cancel only from draft/quotation
      const rows = await readInOrder(client, [draftId as number, processingId as number], ["state"]);
      assert.deepEqual(
        rows.map((r) => r.state),
        ["draft", "processing"],
      );
    });

    it("ends in done once the shipment is done (invoice_method manual; 7.0: stays processing until invoiced)", async function () {
      const client = ctx.client();
      const [id] = await client.create("sale.sale", [
        saleValues(ctx.fixtures, ctx.unique("DONE"), { invoiceMethod: "manual" }),
      ]);
      await client.button("sale.sale", "quote", [id as number]);
      await client.button("sale.sale", "confirm", [id as number]);
      const [sale] = await readSettled(ctx, client, [id as number], saleState);
      assert.equal(sale?.invoice_state, "none");
      const shipments = sale?.shipments as number[];
      for (const step of ["assign_force", "pick", "pack", "done"]) {
        await client.button("stock.shipment.out", step, shipments);
      }
      const [after] = await readSettled(ctx, client, [id as number], saleState);
      // 7.0 ends a sale with invoice method manual only once invoiced and paid (Sale.is_done):
      // it stays processing with nothing left to ship.
      assert.deepEqual(
        [after?.state, after?.shipment_state],
        [ctx.server.series === "7.0" ? "processing" : "done", "sent"],
      );
    });

    it("writes several records in one call and deletes draft sales", async function () {
      const client = ctx.client();
      const [a, b] = await client.create("sale.sale", [
        saleValues(ctx.fixtures, ctx.unique("W")),
        saleValues(ctx.fixtures, ctx.unique("W")),
      ]);
      await client.write("sale.sale", [a as number], { comment: "first" }, [
        [b as number],
        { comment: "second" },
      ]);
      const rows = await readInOrder(client, [a as number, b as number], ["comment"]);
      assert.deepEqual(
        rows.map((r) => r.comment),
        ["first", "second"],
      );
      await client.delete("sale.sale", [a as number, b as number]);
      assert.deepEqual(await client.search("sale.sale", [["id", "in", [a, b]]]), []);
    });

    it("pages and orders search results", async function () {
      const client = ctx.client();
      const prefix = ctx.unique("PAGE");
      const ids = await client.create(
        "sale.sale",
        ["a", "b", "c"].map((s) => saleValues(ctx.fixtures, `${prefix}-${s}`)),
      );
      const domain = [["reference", "like", `${prefix}-%`]];
      assert.deepEqual(await client.search("sale.sale", domain, { order: [["id", "DESC"]], limit: 2 }), [
        ids[2],
        ids[1],
      ]);
      assert.deepEqual(await client.search("sale.sale", domain, { order: [["id", "ASC"]], offset: 2 }), [
        ids[2],
      ]);
      assert.equal(await client.searchCount("sale.sale", domain), 3);
    });
  });
}
