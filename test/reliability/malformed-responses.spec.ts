/**
 * Malformed answers from each API — invalid JSON, HTML error pages (200 and 502), bodies cut off
 * with and without a lying Content-Length, the wrong content type, an empty body, JSON of the
 * wrong shape — from a tiny local stub server. Each call ends with a result or an error a person
 * can read (naming the call, without HTML or parser noise), decided by the answer itself: no
 * Magento or Tryton call ends by its timeout; nothing throws asynchronously, nothing hangs.
 * Salesforce through jsforce: a body cut off under a longer Content-Length ends as an HTTP 504
 * "the answer was cut off" (src/salesforce/session.ts); one that stalls, by the session's request
 * timeout ("no complete answer within …").
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { MagentoClient } from "../../src/magento/client";
import type { SalesforceSimulator } from "../../src/sandbox/salesforce";
import { TrytonClient } from "../../src/tryton/rpc";
import { SaleImporter } from "../../src/tryton/sale-import";
import { OrderPusher } from "../../src/salesforce/order-pusher";
import { salesforceSession, salesforceSimulator, stopSalesforce } from "../support/reliability-salesforce";
import { record } from "../support/reliability-report";
import { malformedKinds, startStub, type Malformed, type Stub } from "../support/reliability-stub";

const baseOrder = JSON.parse(
  readFileSync(path.join(__dirname, "..", "fixtures", "bad-orders", "base.json"), "utf8"),
) as Record<string, unknown>;
const fast = { attempts: 3, baseDelayMs: 10, maxDelayMs: 50 };
/**
 * The Salesforce sessions' request timeout: what the cut-off kind waits for, once per attempt.
 * Far above the local stub's and simulator's answer times on a busy machine.
 */
const SALESFORCE_TIMEOUT_MS = 5_000;

/** A readable failure: names the call, no markup, no parser internals, not a dump. */
function assertClear(err: unknown, call: RegExp, kind: Malformed): string {
  assert.ok(err instanceof Error, `${kind}: an Error, got ${String(err)}`);
  assert.notEqual((err as { code?: unknown }).code, "timeout", `${kind}: ended by the answer, not a timeout`);
  const message = err.message;
  assert.match(message, call, `${kind}: names the call — ${message}`);
  assert.doesNotMatch(
    message,
    /<html|<body|<!DOCTYPE|\[object Object\]|at position \d+|Unexpected token|Cannot read propert|is not a function|undefined \(reading/i,
    `${kind}: ${message}`,
  );
  assert.ok(message.length < 600, `${kind}: ${message.length} characters`);
  return message;
}

const stray: unknown[] = [];
const onStray = (err: unknown) => stray.push(err);

describe("reliability: malformed server responses", function () {
  this.timeout(10 * 60_000);
  const stubs: Stub[] = [];
  before(() => {
    process.on("unhandledRejection", onStray);
    process.on("uncaughtException", onStray);
  });
  after(async () => {
    // Magento 1 call, Tryton 2 phases × (call + importer), Salesforce login + lookup: per kind.
    record({
      part: "Malformed answers (8 kinds) from Magento, Tryton, Salesforce",
      orders: 0,
      badInputs: malformedKinds.length * 6,
      lost: 0,
      duplicated: 0,
    });
    process.off("unhandledRejection", onStray);
    process.off("uncaughtException", onStray);
    await Promise.all(stubs.map((s) => s.stop()));
    await stopSalesforce();
    assert.deepEqual(stray, [], "nothing was thrown outside the calls");
  });

  it("Magento REST: every kind gives a result or a clear MagentoError", async () => {
    const stub = await startStub({ valid: () => JSON.stringify({ items: [baseOrder], total_count: 1 }) });
    stubs.push(stub);
    const client = new MagentoClient({
      baseUrl: stub.url,
      auth: { kind: "bearer", token: "malformed-test-token-1" },
      retry: fast,
    });
    const seen: string[] = [];
    for (const kind of malformedKinds) {
      stub.set(kind);
      try {
        const result = await client.searchOrders({ pageSize: 10, currentPage: 1 });
        // A JSON body labelled text/html is still the right JSON: reading it is fine.
        assert.equal(kind, "wrong-content-type", `${kind} must not pass as a result`);
        assert.equal(result.items.length, 1);
        seen.push(`${kind}: read`);
      } catch (err) {
        seen.push(`${kind}: ${assertClear(err, /GET \/V1\/orders/, kind)}`);
      }
    }
    client.close();
    console.log(`      [magento] ${seen.join("\n      [magento] ")}`);
  });

  it("Tryton JSON-RPC: every kind, at login and on a model call, gives a clear TrytonError; the importer rejects the page with it", async () => {
    const answer = (body: string) => {
      const { id, method } = JSON.parse(body || "{}") as { id?: number; method?: string };
      if (method === "common.db.login") return JSON.stringify({ id, result: [1, "malformed-session-key"] });
      if (method === "model.res.user.get_preferences")
        return JSON.stringify({ id, result: { company: 1, language: "en" } });
      return JSON.stringify({ id, result: [] });
    };
    for (const phase of ["login", "model call"] as const) {
      const stub = await startStub({
        valid: (_path, body) => answer(body),
        breaks: (_path, body) =>
          (JSON.parse(body || "{}") as { method?: string }).method ===
          (phase === "login" ? "common.db.login" : "model.sale.sale.search_read"),
      });
      stubs.push(stub);
      for (const kind of malformedKinds) {
        stub.set(kind);
        const client = new TrytonClient({
          url: stub.url,
          database: "db",
          username: "admin",
          password: "malformed-pass-1",
          retry: fast,
        });
        const call = phase === "login" ? /common\.db\.login/ : /model\.sale\.sale\.search_read/;
        try {
          await client.searchRead("sale.sale", [], ["state"]);
          // A JSON-RPC answer labelled text/html is still the right answer.
          assert.equal(kind, "wrong-content-type", `${kind} (${phase}) must not pass as a result`);
          continue;
        } catch (err) {
          assertClear(err, call, kind);
        }
        // The importer: a whole-page failure, the same clear error (never a crash or a hang). Kinds the
        // client retries are left out here: the importer's own page retries wait seconds.
        if (kind === "html-502" || kind === "truncated") continue;
        await assert.rejects(
          new SaleImporter(client, { taxMap: { "8.25": [1] } }).importOrders([baseOrder]),
          (err) => {
            assertClear(err, /Tryton|sale|product|currency/i, kind);
            return true;
          },
        );
      }
    }
  });

  describe("Salesforce REST (through jsforce)", () => {
    let sf: SalesforceSimulator;
    before(async () => {
      sf = await salesforceSimulator();
    });

    it("every kind on the OAuth token call gives a clear login error", async () => {
      const token = {
        access_token: "00Dstub!token",
        instance_url: sf.url,
        id: `${sf.url}/id/00D000000000001/005000000000001`,
        token_type: "Bearer",
      };
      const stub = await startStub({
        valid: () => JSON.stringify(token),
        breaks: (p) => p.startsWith("/services/oauth2/token"),
        forward: sf.url,
      });
      stubs.push(stub);
      const seen: string[] = [];
      for (const kind of malformedKinds) {
        stub.set(kind);
        const session = salesforceSession(sf, stub.url, SALESFORCE_TIMEOUT_MS);
        try {
          await session.connection();
          assert.equal(kind, "wrong-content-type", `${kind} must not pass as a token`);
          seen.push(`${kind}: logged in`);
        } catch (err) {
          seen.push(`${kind}: ${assertClear(err, /Salesforce login failed/i, kind)}`);
        }
      }
      console.log(`      [salesforce login] ${seen.join("\n      [salesforce login] ")}`);
    });

    it("every kind on the order lookup (SOQL queries in one composite) gives per-order failures or a clear error for the page", async () => {
      const lookup = (p: string, body: string) =>
        p.endsWith("/composite") && body.includes("FROM%20Order%20WHERE");
      const stub = await startStub({
        // What Salesforce answers to the lookup composite when nothing exists yet.
        valid: (_p, body) =>
          JSON.stringify({
            compositeResponse: (
              JSON.parse(body) as { compositeRequest: { referenceId: string }[] }
            ).compositeRequest.map((s) => ({
              body: { totalSize: 0, done: true, records: [] },
              httpHeaders: {},
              httpStatusCode: 200,
              referenceId: s.referenceId,
            })),
          }),
        // The order lookup only: login, describe, the setup check and the writes go through.
        breaks: lookup,
        forward: sf.url,
      });
      stubs.push(stub);
      const seen: string[] = [];
      for (const kind of malformedKinds) {
        stub.set(kind);
        const order = {
          ...baseOrder,
          entity_id: 870_000 + malformedKinds.indexOf(kind),
          increment_id: `MAL-${kind}`,
        };
        try {
          // Every call of this session passes the stub (login URL, and the instance URL it hands out).
          const summary = await new OrderPusher(salesforceSession(sf, stub.url, SALESFORCE_TIMEOUT_MS), {
            retry: fast,
          }).push([order]);
          assert.equal(summary.results.length, 1);
          const r = summary.results[0]!;
          if (r.error)
            seen.push(`${kind}: ${assertClear(new Error(r.error.message), /Salesforce|order/i, kind)}`);
          else seen.push(`${kind}: ${r.action}`);
        } catch (err) {
          seen.push(`${kind}: ${assertClear(err, /Salesforce|quer|order/i, kind)}`);
        }
      }
      console.log(`      [salesforce] ${seen.join("\n      [salesforce] ")}`);
    });
  });
});
