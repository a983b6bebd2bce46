/**
 * No order forgotten: the reproductions of the orders that used to be lost, each run in the real
 * Node-RED CLI with a persistent (localfilesystem) context store, the shop's flow polling Magento
 * every second, and afterwards only automatic runs — no reset, no manual sync, no change in
 * Magento. Every order must then be in its target exactly once; each reproduction also runs with
 * a `kill -9` of Node-RED between the failure and the recovery.
 *
 * An order is lost when it is not in its target after the cause is gone and the sync queue has
 * drained; "reported as failed once" does not count as delivered.
 */
import assert from "node:assert/strict";
import type { MagentoOrder } from "../../src/magento/schema";
import { defaultIntegration, startMagentoSimulator, type MagentoSimulator } from "../../src/sandbox/magento";
import type { NodeRedInstance } from "../../src/sandbox/node-red-runtime";
import type { FaultKind, SalesforceSimulator } from "../../src/sandbox/salesforce";
import { TrytonClient } from "../../src/tryton/rpc";
import { ensureBuilt } from "../support/reliability-build";
import { FAST_QUEUE, salesforceCredentials, shopFlow, type FlowTargets } from "../support/reliability-flows";
import { record, type Figures } from "../support/reliability-report";
import { checkSalesforce, salesforceSimulator, stopSalesforce } from "../support/reliability-salesforce";
import { checkTryton, reportProblems, shopSettings, valid } from "../support/reliability-shop";
import {
  PersistentNodeRed,
  queueDiagnosis,
  queuedOnDisk,
  queueOf,
  until,
} from "../support/reliability-queue";
import { realTrytonServer, type RealTrytonServer } from "../support/tryton-server";

describe("reliability: no order forgotten (real Node-RED, durable sync queue)", function () {
  this.timeout(15 * 60_000);
  let shop: MagentoSimulator | undefined;
  const runtime = new PersistentNodeRed();
  let nodeRed: NodeRedInstance | undefined;

  before(() => ensureBuilt());
  afterEach(async () => {
    await runtime.stop();
    nodeRed = undefined;
    await shop?.stop();
    shop = undefined;
    await stopSalesforce();
  });

  async function start(flow?: { flows: object[]; credentials: Record<string, object> }) {
    nodeRed = await runtime.start(flow);
    return nodeRed;
  }

  function salesforceFlow(crm: SalesforceSimulator, extra: Partial<FlowTargets> = {}) {
    return shopFlow({
      magentoUrl: (shop as MagentoSimulator).url,
      magentoToken: defaultIntegration.accessToken,
      salesforce: { url: crm.url, credentials: salesforceCredentials(crm) },
      retry: FAST_QUEUE,
      ...extra,
    });
  }

  /**
   * Waits until each order is once in Salesforce with Magento's content and the queue is empty,
   * records the figures as measured (lost: not in Salesforce once the queue drained or the wait
   * gave up), then asserts.
   */
  async function expectAllInSalesforce(
    crm: SalesforceSimulator,
    what: string,
    figures?: Omit<Figures, "orders" | "lost" | "duplicated" | "seconds"> & { started: number },
  ) {
    const orders: MagentoOrder[] = [...(shop as MagentoSimulator).orders.values()].map(valid);
    const waited = await until(
      `${what}: every order in Salesforce and the queue empty`,
      async () => {
        const report = checkSalesforce(crm, orders);
        return reportProblems(report).length === 0 && (await queueOf(nodeRed!)).entries.length === 0;
      },
      {
        explain: async () =>
          `  Salesforce: ${reportProblems(checkSalesforce(crm, orders)).join("; ").slice(0, 1000)}\n${await queueDiagnosis(nodeRed!)}`,
      },
    ).catch((err: unknown) => err);
    const report = checkSalesforce(crm, orders);
    if (figures) {
      const { started, ...rest } = figures;
      record({
        ...rest,
        orders: orders.length,
        lost: report.lost.length,
        duplicated: report.duplicated.length + report.duplicateRecords.length,
        seconds: Math.round((Date.now() - started) / 1000),
      });
    }
    if (waited) throw waited;
    assert.deepEqual(reportProblems(report), []);
    assert.deepEqual(report.duplicateRecords, []);
    assert.equal(report.present, orders.length);
    return report;
  }

  for (const kill of [false, true]) {
    const crash = kill ? ", Node-RED killed (SIGKILL) before the fix" : "";

    it(`Default Status in the Activated group, then set back to Draft: every order arrives once${crash}`, async () => {
      shop = await startMagentoSimulator({ orders: 5, seed: 61 });
      const crm = await salesforceSimulator({ currencies: ["USD", "EUR", "GBP", "JPY"] });
      const activated = salesforceFlow(crm, { salesforceSettings: { defaultStatus: "Activated" } });
      const { ids } = activated;
      const started = Date.now();
      await start(activated);
      await until("5 orders queued for the Default Status", async () => {
        const q = await queueOf(nodeRed!);
        return q.entries.length === 5 && q.entries.every((e) => e.retryClass === "config");
      });
      assert.equal(crm.db.count("Order"), 0);
      if (kill) {
        await until("the queue on disk", () => queuedOnDisk(runtime.dir, ids.tab, ids.salesforce) === 5);
        await nodeRed!.kill9();
        await start();
      }
      // The user sets Draft and deploys; from here on only the automatic runs.
      await nodeRed!.deploy(salesforceFlow(crm).flows, salesforceFlow(crm).credentials);
      await expectAllInSalesforce(crm, "after the redeploy", {
        part: `Default Status Activated → Draft, real Node-RED${kill ? ", SIGKILL" : ""}`,
        crashes: kill ? 1 : 0,
        started,
      });
    });

    it(`the daily API limit reached in the middle of a run: every order arrives once after the limit window${crash}`, async () => {
      const total = 300;
      shop = await startMagentoSimulator({ orders: total, seed: 67 });
      const crm = await salesforceSimulator({ currencies: ["USD", "EUR", "GBP", "JPY"], latencyMs: 20 });
      const flow = salesforceFlow(crm, { pageSize: 50 });
      const started = Date.now();
      await start(flow);
      await until("some orders in Salesforce", () => crm.db.count("Order") >= 60);
      crm.setFaults({ rate: 1, kinds: ["request_limit"] });
      // Every order is in Salesforce or queued (the intake went on past the stopped pages).
      await until("every order in Salesforce or queued", async () => {
        const q = await queueOf(nodeRed!);
        const inCrm = new Set(crm.db.records("Order").map((o) => String(o.Magento_Order_Key__c)));
        return inCrm.size + q.entries.length >= total && q.entries.some((e) => e.retryClass === "limit");
      });
      const queued = (await queueOf(nodeRed!)).entries.length;
      if (kill) {
        await until(
          "the queue on disk",
          () => queuedOnDisk(runtime.dir, flow.ids.tab, flow.ids.salesforce) >= queued,
        );
        await nodeRed!.kill9();
        await start();
      }
      // The limit window passes.
      crm.setFaults(undefined);
      const report = await expectAllInSalesforce(crm, "after the limit window", {
        part: `Daily API limit mid-run, real Node-RED${kill ? ", SIGKILL" : ""}`,
        crashes: kill ? 1 : 0,
        started,
      });
      console.log(
        `      [queue] daily limit${kill ? " + SIGKILL" : ""}: ${queued} orders queued when the limit hit, ${report.present}/${total} in Salesforce at the end`,
      );
    });
  }

  for (const kill of [false, true]) {
    it(`10 % faults on every Salesforce call, an outage and expired sessions, then the faults stop: every order arrives once${kill ? ", Node-RED killed (SIGKILL) during the outage" : ""}`, async () => {
      const total = 500;
      shop = await startMagentoSimulator({ orders: total, seed: kill ? 83 : 79 });
      const crm = await salesforceSimulator({ currencies: ["USD", "EUR", "GBP", "JPY"], latencyMs: 10 });
      const tenPercent = {
        rate: 0.1,
        kinds: [
          "500",
          "503",
          "reset",
          "concurrent_limit",
          "unable_to_lock_row",
          "record_error",
        ] as FaultKind[],
      };
      crm.setFaults({ ...tenPercent, seed: kill ? 17 : 19 });
      const flow = salesforceFlow(crm, { pageSize: 50 });
      const started = Date.now();
      const expiring = setInterval(() => crm.expireSessions(), 20_000);
      let maxQueued = 0;
      try {
        await start(flow);
        const inCrm = () => new Set(crm.db.records("Order").map((o) => String(o.Magento_Order_Key__c))).size;
        const seenOnce = async () => {
          const queued = (await queueOf(nodeRed!)).entries.length;
          maxQueued = Math.max(maxQueued, queued);
          return inCrm() + queued >= total;
        };
        await until("some orders in Salesforce", () => inCrm() >= total / 4);
        // An outage in the middle: every call fails until orders wait in the queue.
        const faults = { kinds: ["500", "503", "reset", "concurrent_limit"] as FaultKind[], seed: 23 };
        crm.setFaults({ rate: 1, ...faults });
        await until("orders queued during the outage", async () => (await seenOnce(), maxQueued > 0));
        if (kill) {
          await until(
            "the queue on disk",
            () => queuedOnDisk(runtime.dir, flow.ids.tab, flow.ids.salesforce) > 0,
          );
          await nodeRed!.kill9();
          await start();
        }
        crm.setFaults({ ...tenPercent, seed: 29 });
        await until("every order in Salesforce or queued", seenOnce);
      } finally {
        clearInterval(expiring);
      }
      const faults = Object.entries(crm.counters)
        .filter(([k]) => k.startsWith("fault."))
        .reduce((n, [, c]) => n + c, 0);
      crm.setFaults(undefined);
      const report = await expectAllInSalesforce(crm, "after the faults stopped", {
        part: `10 % Salesforce faults and expired sessions, faults stop, real Node-RED${kill ? ", SIGKILL" : ""}`,
        faults,
        crashes: kill ? 1 : 0,
        started,
      });
      console.log(
        `      [queue] 10 % Salesforce faults${kill ? " + SIGKILL" : ""}: ${faults} faults, ${crm.counters["session.invalid"] ?? 0} expired sessions, ` +
          `up to ${maxQueued} orders queued; ${report.present}/${total} in Salesforce at the end, each once`,
      );
      assert.ok(maxQueued > 0, "the outage put orders into the queue");
    });
  }

  it("a page failed by a node that keeps no queue holds the cursor: the automatic runs pull it again", async () => {
    shop = await startMagentoSimulator({ orders: 40, seed: 71 });
    const crm = await salesforceSimulator({ currencies: ["USD", "EUR", "GBP", "JPY"] });
    // Fails each page the first time it sees it (like a flaky function node of the user's).
    const flow = salesforceFlow(crm, {
      pageSize: 10,
      between: {
        type: "function",
        name: "flaky",
        func:
          "const seen = flow.get('seen') || {}; const key = msg.payload.map(o => o.entity_id).join(',');\n" +
          "if (!seen[key]) { seen[key] = true; flow.set('seen', seen); throw new Error('not yet ' + key); }\nreturn msg;",
        outputs: 1,
        noerr: 0,
      },
    });
    await start(flow);
    await expectAllInSalesforce(crm, "after the flaky node let the pages through");
    assert.ok(
      nodeRed!.logs().some((l) => /the cursor stays before it and the next run pulls it again/.test(l)),
      "the intake said why it pulls a page again",
    );
  });

  describe("Tryton (real server)", () => {
    let server: RealTrytonServer;
    let admin: TrytonClient;
    before(async function () {
      const s = await realTrytonServer();
      if (!s) this.skip();
      server = s!;
      await server.reset();
      admin = new TrytonClient({
        url: server.url,
        database: server.database,
        username: server.username,
        password: server.password,
      });
    });
    after(async () => {
      await admin?.logout().catch(() => undefined);
    });

    it("an order whose country Tryton lacks syncs by itself once the country is added and the flow redeployed", async () => {
      shop = await startMagentoSimulator({ orders: 6, seed: 73 });
      // One order ships to Italy, a country the Tryton database does not have.
      const italian = [...shop.orders.values()].find((o) => o.state !== "canceled")!;
      const moveToItaly = (value: unknown): void => {
        if (!value || typeof value !== "object") return;
        for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
          if (k === "country_id") (value as Record<string, unknown>)[k] = "IT";
          else if (k === "region_code" || k === "region") (value as Record<string, unknown>)[k] = null;
          else moveToItaly(v);
        }
      };
      moveToItaly(italian.billing_address);
      moveToItaly(italian.extension_attributes);
      const settings = await shopSettings(admin, server.fixtures);
      const flow = () =>
        shopFlow({
          magentoUrl: shop!.url,
          magentoToken: defaultIntegration.accessToken,
          tryton: {
            url: server.url,
            database: server.database,
            username: server.username,
            password: server.password,
            settings,
          },
          retry: FAST_QUEUE,
        });
      const first = flow();
      await start(first);
      await until("the Italian order queued as unknown_country", async () => {
        const q = await queueOf(nodeRed!);
        return q.entries.some(
          (e) => e.key === `id:${italian.entity_id}` && e.error.code === "unknown_country",
        );
      });
      const orders = [...shop.orders.values()].map(valid).filter((o) => o.state !== "canceled");
      const others = orders.filter((o) => o.entity_id !== italian.entity_id);
      await until(
        "the other orders in Tryton",
        async () => (await checkTryton(admin, others)).present === others.length,
      );

      await admin.create("country.country", [{ name: "Italy", code: "IT" }]);
      // A second flow instance (new ids) would be a different queue: the same flow, redeployed.
      const again = flow();
      again.flows.push({
        id: "queue-note",
        type: "comment",
        z: first.ids.tab,
        name: "Italy added in Tryton",
      });
      await nodeRed!.deploy(again.flows, again.credentials);
      await until("every order in Tryton and the queue empty", async () => {
        const report = await checkTryton(admin, orders);
        return reportProblems(report).length === 0 && (await queueOf(nodeRed!)).entries.length === 0;
      });
      const report = await checkTryton(admin, orders);
      assert.equal(report.present, orders.length);
      assert.deepEqual(reportProblems(report), []);
    });
  });
});
