/**
 * Fault soak: Magento → Tryton (real Tryton 6.0 behind a fault-injecting proxy) and
 * Magento → Salesforce (simulator), with about 10 % of the calls to every API failing —
 * 5xx, 429 with Retry-After, connection resets before and after the server acted, answers
 * slower than the client's timeout, sessions and tokens expiring mid-run, Salesforce
 * UNABLE_TO_LOCK_ROW and per-record errors. Afterwards every order is in each target exactly
 * once with Magento's content, no party/account/product is duplicated, and every order that
 * is not there has a failure result (none vanished).
 *
 * Size: see test/support/reliability-size.ts (SOAK_ORDERS; `SOAK_ORDERS=30000` is the long soak).
 */
import assert from "node:assert/strict";
import { MagentoClient } from "../../src/magento/client";
import type { MagentoOrder } from "../../src/magento/schema";
import {
  defaultAdmin,
  generateOrders,
  startMagentoSimulator,
  type MagentoSimulator,
} from "../../src/sandbox/magento";
import { pageFailed } from "../../src/nodes/shared/order-batch";
import { OrderPusher } from "../../src/salesforce/order-pusher";
import type { SyncResult } from "../../src/sync/result";
import type { SalesforceSimulator } from "../../src/sandbox/salesforce";
import { TrytonClient } from "../../src/tryton/rpc";
import { SaleImporter } from "../../src/tryton/sale-import";
import { startFaultProxy, type FaultProxy } from "../support/reliability-proxy";
import { record } from "../support/reliability-report";
import { SOAK_ORDERS, TRYTON_SOAK_ORDERS } from "../support/reliability-size";
import {
  checkSalesforce,
  salesforceSession,
  salesforceSimulator,
  stopSalesforce,
} from "../support/reliability-salesforce";
import { actionCounts, runPipeline } from "../support/reliability-pipeline";
import {
  checkTryton,
  reportProblems,
  shopSettings,
  trytonDuplicates,
  valid,
} from "../support/reliability-shop";
import { realTrytonServer, type RealTrytonServer } from "../support/tryton-server";

const TRYTON_ORDERS = TRYTON_SOAK_ORDERS;
const FAULT_RATE = 0.1;

describe("reliability: fault soak", function () {
  this.timeout(20 * 60_000);
  /** Tokens and sessions expired mid-run (counted as faults). */
  let expiries = 0;

  describe(`Magento → Tryton (real server), ${TRYTON_ORDERS} orders, ${FAULT_RATE * 100} % faults`, () => {
    let server: RealTrytonServer;
    let magento: MagentoSimulator;
    let proxy: FaultProxy;

    before(async function () {
      const s = await realTrytonServer();
      if (!s) this.skip();
      server = s!;
      await server.reset();
    });
    after(async () => {
      await magento?.stop();
      await proxy?.stop();
    });

    it("every order once in Tryton with Magento's content, no duplicate party or product, every failure reported", async () => {
      expiries = 0;
      magento = await startMagentoSimulator({
        orders: TRYTON_ORDERS,
        seed: 11,
        faults: {
          rate: FAULT_RATE,
          kinds: ["500", "503", "429", "reset", "slow"],
          slowMs: 2_500,
          retryAfterSeconds: 1,
          seed: 5,
        },
      });
      proxy = await startFaultProxy({
        target: server.url,
        rate: FAULT_RATE,
        kinds: ["500", "502", "503", "429", "reset", "drop-answer", "slow-answer", "expire"],
        slowMs: 4_500,
        seed: 3,
        // trytond answers 429 on login only for failed logins; the client rightly does not retry that.
        eligible: (kind, call) => !(call === "common.db.login" && kind === "429"),
      });
      const admin = new TrytonClient({
        url: server.url,
        database: server.database,
        username: server.username,
        password: server.password,
      });
      const settings = await shopSettings(admin, server.fixtures);
      const client = new TrytonClient({
        url: proxy.url,
        database: server.database,
        username: server.username,
        password: server.password,
        timeoutMs: 4_000,
      });
      const importer = new SaleImporter(client, settings);
      const shop = new MagentoClient({
        baseUrl: magento.url,
        auth: { kind: "admin", ...defaultAdmin },
        timeoutMs: 2_000,
      });
      const started = Date.now();
      const run = await runPipeline(
        shop,
        [{ name: "tryton", write: (orders) => importer.importOrders(orders) }],
        {
          pageSize: 50,
          afterPage: (page) => {
            if (page % 2 === 0) {
              magento.expireTokens();
              expiries += 1;
            }
            if (page % 3 === 0) {
              proxy.expireSessions();
              expiries += 1;
            }
          },
        },
      );
      const ms = Date.now() - started;
      shop.close();
      proxy.setFaults(0);

      const orders: MagentoOrder[] = [...magento.orders.values()].map(valid);
      const table = run.results.get("tryton")!;
      const failed = new Set([...table.values()].filter((r) => r.action === "failed").map((r) => r.orderId));
      // What failed is reported; synced again (as from the sync panel) it lands once.
      const again = orders.filter((o) => failed.has(o.entity_id));
      const retry = again.length ? await importer.importOrders(again) : { failures: [] };
      const report = await checkTryton(admin, orders);
      const vanished = orders.filter((o) => !table.has(o.entity_id)).map((o) => `#${o.increment_id}`);
      const dupes = await trytonDuplicates(admin);
      console.log(
        `      [soak tryton] ${orders.length} orders, ${run.pages} pages in ${ms} ms; Magento faults ${magento.counters.faults ?? 0}, ` +
          `Tryton faults ${JSON.stringify(proxy.faults)} of ${proxy.requests} requests; results ${JSON.stringify(actionCounts(table))}; ` +
          `re-synced ${again.length}; present ${report.present}, lost ${report.lost.length}, duplicated ${report.duplicated.length}, wrong ${report.wrong.length}`,
      );
      for (const f of run.pageFailures) console.log(`      [soak tryton] page failed: ${f.error}`);
      // Why orders failed, numbers left out so that equal reasons count together.
      const reasons = new Map<string, number>();
      for (const r of table.values()) {
        const reason = r.error?.message.replace(/#[^ ]+|\d+/g, "N");
        if (reason) reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
      }
      for (const [reason, n] of reasons) console.log(`      [soak tryton] ${n} × ${reason}`);
      record({
        part: "Fault soak: Magento → real Tryton 6.0 (proxy faults, expiries)",
        orders: orders.length,
        faults:
          (magento.counters.faults ?? 0) + Object.values(proxy.faults).reduce((n, c) => n + c, 0) + expiries,
        lost: report.lost.length + vanished.length,
        duplicated: report.duplicated.length + dupes.parties.length + dupes.products.length,
        seconds: Math.round(ms / 1000),
      });
      assert.deepEqual(reportProblems(report), []);
      assert.deepEqual(vanished, [], "every order has a result");
      assert.deepEqual(retry.failures, [], "what failed syncs when tried again");
      assert.deepEqual(dupes, { parties: [], products: [] });
      assert.ok(
        (magento.counters.faults ?? 0) > 0 && Object.keys(proxy.faults).length >= 6,
        "faults were injected",
      );
      await admin.logout();
      await client.logout();
    });
  });

  describe(`Magento → Salesforce (simulator), ${SOAK_ORDERS} orders, ${FAULT_RATE * 100} % faults`, () => {
    let magento: MagentoSimulator;
    let sf: SalesforceSimulator;
    after(async () => {
      await magento?.stop();
      await stopSalesforce();
    });

    it("every order once in Salesforce with Magento's content, no duplicate account, product or item, every failure reported", async () => {
      expiries = 0;
      magento = await startMagentoSimulator({
        orders: SOAK_ORDERS,
        seed: 13,
        faults: {
          rate: FAULT_RATE,
          kinds: ["500", "503", "429", "reset", "slow"],
          slowMs: 2_500,
          retryAfterSeconds: 1,
          seed: 9,
        },
      });
      sf = await salesforceSimulator({ currencies: ["USD", "EUR", "GBP", "JPY"] });
      // Salesforce's daily request limit is not a transient fault: it stops a run (tested on its own).
      sf.setFaults({
        rate: FAULT_RATE,
        kinds: ["500", "503", "unable_to_lock_row", "record_error", "reset", "slow"],
        slowMs: 2_500,
        seed: 4,
      });
      const session = salesforceSession(sf, sf.url, 2_000);
      const pusher = new OrderPusher(session, {
        retry: { attempts: 5, baseDelayMs: 50, maxDelayMs: 500 },
        batchSize: 50,
      });
      const shop = new MagentoClient({
        baseUrl: magento.url,
        auth: { kind: "admin", ...defaultAdmin },
        timeoutMs: 2_000,
      });
      const started = Date.now();
      const run = await runPipeline(shop, [{ name: "salesforce", write: (orders) => pusher.push(orders) }], {
        pageSize: 100,
        afterPage: (page) => {
          if (page % 2 === 0) {
            magento.expireTokens();
            expiries += 1;
          }
          // Twice per run: more than 3 fresh sessions in 30 s is the session's "refresh loop" alarm.
          if (page === 3 || page === Math.ceil(SOAK_ORDERS / 200)) {
            sf.expireSessions();
            expiries += 1;
          }
        },
      });
      const ms = Date.now() - started;
      shop.close();
      sf.setFaults(undefined);
      const table = run.results.get("salesforce")!;
      const orders: MagentoOrder[] = [...magento.orders.values()].map(valid);
      const vanished = orders.filter((o) => !table.has(o.entity_id)).map((o) => `#${o.increment_id}`);
      const failed = new Set([...table.values()].filter((r) => r.action === "failed").map((r) => r.orderId));
      // What failed is reported; synced again (as from the sync panel) it lands once.
      const again = orders.filter((o) => failed.has(o.entity_id));
      const retry = again.length ? await pusher.push(again) : { results: [] };
      const report = checkSalesforce(sf, orders);
      const reasons = new Map<string, number>();
      for (const r of table.values())
        if (r.error) reasons.set(r.error.code, (reasons.get(r.error.code) ?? 0) + 1);
      console.log(
        `      [soak salesforce] ${orders.length} orders, ${run.pages} pages in ${ms} ms; Magento faults ${magento.counters.faults ?? 0}, ` +
          `Salesforce faults ${JSON.stringify(Object.fromEntries(Object.entries(sf.counters).filter(([k]) => k.startsWith("fault."))))}, ` +
          `${sf.counters["session.invalid"] ?? 0} expired sessions; results ${JSON.stringify(actionCounts(table))} ${JSON.stringify(Object.fromEntries(reasons))}; ` +
          `re-synced ${again.length}; present ${report.present}, lost ${report.lost.length}, duplicated ${report.duplicated.length}, wrong ${report.wrong.length}`,
      );
      for (const f of run.pageFailures) console.log(`      [soak salesforce] page failed: ${f.error}`);
      record({
        part: "Fault soak: Magento → Salesforce simulator (faults, expiries)",
        orders: orders.length,
        faults:
          (magento.counters.faults ?? 0) +
          Object.entries(sf.counters)
            .filter(([k]) => k.startsWith("fault."))
            .reduce((n, [, c]) => n + c, 0) +
          expiries,
        lost: report.lost.length + vanished.length,
        duplicated: report.duplicated.length + report.duplicateRecords.length,
        seconds: Math.round(ms / 1000),
      });
      assert.deepEqual(vanished, [], "every order has a result");
      assert.deepEqual(
        retry.results.filter((r) => r.action === "failed"),
        [],
        "what failed syncs when tried again",
      );
      assert.deepEqual(reportProblems(report), []);
      assert.deepEqual(report.duplicateRecords, []);
      assert.ok(
        Object.keys(sf.counters).filter((k) => k.startsWith("fault.") && sf.counters[k]! > 0).length >= 4,
        "faults were injected",
      );
      await session.close();
    });

    it("the daily API limit stops the run; every order of the page is reported failed, none vanishes", async () => {
      const crm = await salesforceSimulator();
      crm.setFaults({ rate: 1, kinds: ["request_limit"] });
      const orders = generateOrders(20, 2);
      const pusher = new OrderPusher(salesforceSession(crm), {
        retry: { attempts: 5, baseDelayMs: 5, maxDelayMs: 20 },
      });
      let results: SyncResult[];
      try {
        results = (await pusher.push(orders)).results;
      } catch (err) {
        assert.match((err as Error).message, /daily API request limit/);
        // What salesforce-order-out sends on output 2 for a page that failed as a whole.
        results = pageFailed(orders, "salesforce-order-out", err);
      }
      assert.equal(results.length, orders.length);
      assert.ok(
        results.every((r) => r.action === "failed" && /limit/i.test(r.error!.message)),
        JSON.stringify(results[0]),
      );
      assert.equal(crm.db.count("Order"), 0);
    });
  });
});
