/**
 * Fault soak through the real Node-RED CLI (persistent context store) running the shop's flow:
 * Magento → real Tryton 6.0 behind a fault-injecting proxy, and Magento → Salesforce simulator,
 * with about 10 % of the calls to every API failing — 5xx, 429 with Retry-After, connections
 * reset before and after the server acted, answers slower than the client's timeout, sessions
 * and tokens expiring mid-run, Salesforce UNABLE_TO_LOCK_ROW, per-record errors and the
 * concurrent-request limit. The faults stop once every order went through the flow once; the
 * automatic runs go on. Then every order is in each target exactly once with Magento's content,
 * and no party/account/product is duplicated.
 *
 * Lost = not in the target after the faults stopped and the sync queue drained (an order
 * "reported as failed" once is not delivered).
 *
 * Size: see test/support/reliability-size.ts (SOAK_ORDERS; `SOAK_ORDERS=30000` is the long soak).
 */
import assert from "node:assert/strict";
import type { MagentoOrder } from "../../src/magento/schema";
import {
  defaultIntegration,
  generateOrders,
  startMagentoSimulator,
  type MagentoSimulator,
} from "../../src/sandbox/magento";
import type { NodeRedInstance } from "../../src/sandbox/node-red-runtime";
import { pageFailed } from "../../src/nodes/shared/order-batch";
import { OrderPusher } from "../../src/salesforce/order-pusher";
import type { SyncResult } from "../../src/sync/result";
import type { SalesforceSimulator } from "../../src/sandbox/salesforce";
import { TrytonClient } from "../../src/tryton/rpc";
import { ensureBuilt } from "../support/reliability-build";
import { FAST_QUEUE, salesforceCredentials, shopFlow } from "../support/reliability-flows";
import { HELD_ANSWER_TIMEOUT_MS, startFaultProxy, type FaultProxy } from "../support/reliability-proxy";
import { PersistentNodeRed, queueDiagnosis, queueOf, sleep, until } from "../support/reliability-queue";
import { record } from "../support/reliability-report";
import { SOAK_ORDERS, TRYTON_SOAK_ORDERS } from "../support/reliability-size";
import {
  checkSalesforce,
  salesforceSession,
  salesforceSimulator,
  stopSalesforce,
} from "../support/reliability-salesforce";
import {
  checkTryton,
  reportProblems,
  shopSettings,
  trytonDuplicates,
  valid,
} from "../support/reliability-shop";
import { realTrytonServer, type RealTrytonServer } from "../support/tryton-server";

const FAULT_RATE = 0.1;
/** Node-RED's Magento client timeout (s), and the simulator's slow answer far past it. */
const MAGENTO_TIMEOUT_S = 5;
const MAGENTO_SLOW_MS = 60_000;

/** Runs `tick` every `ms` until the returned function is called (mid-run events: expiries). */
function every(ms: number, tick: () => void): () => void {
  const timer = setInterval(tick, ms);
  return () => clearInterval(timer);
}

describe("reliability: fault soak (real Node-RED, faults stop, the queue drains)", function () {
  this.timeout(30 * 60_000);
  const runtime = new PersistentNodeRed();
  let nodeRed: NodeRedInstance | undefined;

  before(() => ensureBuilt());
  afterEach(() => runtime.stop());

  async function start(flow: { flows: object[]; credentials: Record<string, object> }) {
    nodeRed = await runtime.start(flow);
    return nodeRed;
  }

  describe(`Magento → Tryton (real server), ${TRYTON_SOAK_ORDERS} orders, ${FAULT_RATE * 100} % faults`, () => {
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

    it("every order once in Tryton with Magento's content, no duplicate party or product, none lost", async () => {
      magento = await startMagentoSimulator({
        orders: TRYTON_SOAK_ORDERS,
        seed: 11,
        faults: {
          rate: FAULT_RATE,
          kinds: ["500", "503", "429", "reset", "slow"],
          slowMs: MAGENTO_SLOW_MS,
          retryAfterSeconds: 1,
          seed: 5,
        },
      });
      proxy = await startFaultProxy({
        target: server.url,
        rate: FAULT_RATE,
        kinds: ["500", "502", "503", "429", "reset", "drop-answer", "slow-answer", "expire"],
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
      const orders: MagentoOrder[] = [...magento.orders.values()].map(valid);
      const wanted = orders.filter((o) => o.state !== "canceled");
      const flow = shopFlow({
        magentoUrl: magento.url,
        magentoToken: defaultIntegration.accessToken,
        tryton: {
          url: proxy.url,
          database: server.database,
          username: server.username,
          password: server.password,
          settings,
        },
        retry: FAST_QUEUE,
        magentoTimeout: MAGENTO_TIMEOUT_S,
        trytonTimeout: HELD_ANSWER_TIMEOUT_MS / 1000,
      });
      const started = Date.now();
      let expiries = 0;
      const stopExpiring = every(5_000, () => {
        proxy.expireSessions();
        expiries += 1;
      });
      await start(flow);
      const inTryton = () =>
        admin.searchCount("sale.sale", [["comment", "ilike", "%OrderBridge magento-order:%"]]);
      try {
        // Faults until every order went through the flow once (in Tryton or in the queue).
        await until("every order in Tryton or queued", async () => {
          const q = await queueOf(nodeRed!);
          return (await inTryton()) + q.entries.length >= wanted.length;
        });
      } finally {
        stopExpiring();
      }
      const queuedAtStop = (await queueOf(nodeRed!)).entries.length;
      const faultsAt = { magento: magento.counters.faults ?? 0, proxy: { ...proxy.faults } };
      magento.setFaults(undefined);
      proxy.setFaults(0);
      await until(
        "every order in Tryton and the queue empty",
        async () => (await queueOf(nodeRed!)).entries.length === 0 && (await inTryton()) >= wanted.length,
        { explain: () => queueDiagnosis(nodeRed!) },
      );
      const ms = Date.now() - started;
      const report = await checkTryton(admin, orders);
      const dupes = await trytonDuplicates(admin);
      console.log(
        `      [soak tryton] ${orders.length} orders in ${ms} ms; Magento faults ${faultsAt.magento}, ` +
          `Tryton faults ${JSON.stringify(faultsAt.proxy)} of ${proxy.requests} requests (slowest answer ${proxy.slowest.ms} ms, ${proxy.slowest.call}), ` +
          `${expiries} session expiries; ` +
          `${queuedAtStop} queued when the faults stopped; present ${report.present}, lost ${report.lost.length}, ` +
          `duplicated ${report.duplicated.length}, wrong ${report.wrong.length}`,
      );
      record({
        part: "Fault soak: Magento → real Tryton 6.0 through Node-RED (proxy faults, expiries; faults stop, queue drains)",
        orders: orders.length,
        faults: faultsAt.magento + Object.values(faultsAt.proxy).reduce((n, c) => n + c, 0) + expiries,
        lost: report.lost.length,
        duplicated: report.duplicated.length + dupes.parties.length + dupes.products.length,
        seconds: Math.round(ms / 1000),
      });
      assert.deepEqual(reportProblems(report), []);
      assert.equal(report.present, wanted.length);
      assert.deepEqual(dupes, { parties: [], products: [] });
      assert.ok(faultsAt.magento > 0 && Object.keys(faultsAt.proxy).length >= 4, "faults were injected");
      await admin.logout();
    });
  });

  describe(`Magento → Salesforce (simulator), ${SOAK_ORDERS} orders, ${FAULT_RATE * 100} % faults`, () => {
    let magento: MagentoSimulator;
    let sf: SalesforceSimulator;
    after(async () => {
      await magento?.stop();
      await stopSalesforce();
    });

    it("every order once in Salesforce with Magento's content, no duplicate account, product or item, none lost", async () => {
      magento = await startMagentoSimulator({
        orders: SOAK_ORDERS,
        seed: 13,
        faults: {
          rate: FAULT_RATE,
          kinds: ["500", "503", "429", "reset", "slow"],
          slowMs: MAGENTO_SLOW_MS,
          retryAfterSeconds: 1,
          seed: 9,
        },
      });
      sf = await salesforceSimulator({ currencies: ["USD", "EUR", "GBP", "JPY"] });
      // Salesforce's daily request limit is not a transient fault: it has its own test (queue-recovery).
      sf.setFaults({
        rate: FAULT_RATE,
        kinds: ["500", "503", "unable_to_lock_row", "record_error", "reset", "slow", "concurrent_limit"],
        slowMs: 2_500,
        seed: 4,
      });
      const orders: MagentoOrder[] = [...magento.orders.values()].map(valid);
      const flow = shopFlow({
        magentoUrl: magento.url,
        magentoToken: defaultIntegration.accessToken,
        salesforce: { url: sf.url, credentials: salesforceCredentials(sf) },
        retry: FAST_QUEUE,
        // The example flows' page size: more calls, more faults.
        pageSize: 50,
        magentoTimeout: MAGENTO_TIMEOUT_S,
      });
      const started = Date.now();
      let expiries = 0;
      const stopExpiring = every(10_000, () => {
        sf.expireSessions();
        expiries += 1;
      });
      await start(flow);
      const inSalesforce = () =>
        new Set(sf.db.records("Order").map((o) => String(o.Magento_Order_Key__c))).size;
      try {
        await until("every order in Salesforce or queued", async () => {
          const q = await queueOf(nodeRed!);
          return inSalesforce() + q.entries.length >= orders.length;
        });
      } finally {
        stopExpiring();
      }
      const queuedAtStop = (await queueOf(nodeRed!)).entries.length;
      const sfFaults = Object.fromEntries(
        Object.entries(sf.counters).filter(([k]) => k.startsWith("fault.")),
      );
      const magentoFaults = magento.counters.faults ?? 0;
      magento.setFaults(undefined);
      sf.setFaults(undefined);
      await until(
        "every order in Salesforce and the queue empty",
        async () => (await queueOf(nodeRed!)).entries.length === 0 && inSalesforce() >= orders.length,
        { explain: () => queueDiagnosis(nodeRed!) },
      );
      const ms = Date.now() - started;
      await sleep(500);
      const report = checkSalesforce(sf, orders);
      console.log(
        `      [soak salesforce] ${orders.length} orders in ${ms} ms; Magento faults ${magentoFaults}, ` +
          `Salesforce faults ${JSON.stringify(sfFaults)}, ${expiries} session expiries; ${queuedAtStop} queued when the faults stopped; ` +
          `present ${report.present}, lost ${report.lost.length}, duplicated ${report.duplicated.length}, wrong ${report.wrong.length}`,
      );
      record({
        part: "Fault soak: Magento → Salesforce simulator through Node-RED (faults, expiries; faults stop, queue drains)",
        orders: orders.length,
        faults: magentoFaults + Object.values(sfFaults).reduce((n, c) => n + c, 0) + expiries,
        lost: report.lost.length,
        duplicated: report.duplicated.length + report.duplicateRecords.length,
        seconds: Math.round(ms / 1000),
      });
      assert.deepEqual(reportProblems(report), []);
      assert.deepEqual(report.duplicateRecords, []);
      assert.equal(report.present, orders.length);
      assert.ok(Object.keys(sfFaults).length >= 4, "faults were injected");
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
