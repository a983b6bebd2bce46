/**
 * Crash and resume: the real Node-RED CLI with a persistent (localfilesystem) context store runs
 * the shop's flow — Magento pulled every second, into the real Tryton 6.0 and the Salesforce
 * simulator — and is killed with SIGKILL at random points of a large import, then restarted on
 * the same user directory, several times. At the end each target holds every order exactly once,
 * with Magento's content.
 *
 * Size: see test/support/reliability-size.ts (SOAK_ORDERS).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { MagentoOrder } from "../../src/magento/schema";
import { defaultIntegration, startMagentoSimulator, type MagentoSimulator } from "../../src/sandbox/magento";
import { startNodeRed, type NodeRedInstance } from "../../src/sandbox/node-red-runtime";
import type { SalesforceSimulator } from "../../src/sandbox/salesforce";
import { TrytonClient } from "../../src/tryton/rpc";
import { ensureBuilt } from "../support/reliability-build";
import { record } from "../support/reliability-report";
import { CRASH_ORDERS, TWIN_ORDERS } from "../support/reliability-size";
import { salesforceCredentials, shopFlow } from "../support/reliability-flows";
import { checkSalesforce, salesforceSimulator, stopSalesforce } from "../support/reliability-salesforce";
import {
  checkTryton,
  reportProblems,
  shopSettings,
  trytonDuplicates,
  valid,
} from "../support/reliability-shop";
import {
  flavourTitle,
  PRODUCTION_FLAVOUR,
  realTrytonServer,
  type RealTrytonServer,
  type TrytonFlavour,
} from "../support/tryton-server";
import { sleep, waitUntil } from "../support/wait";

const KILLS = 3;

function dice(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** How long a flow may take to finish the import after the last restart (it takes about a minute on a busy 2-core machine). */
const FINISH_CAP_MS = 12 * 60_000;

/** Magento order searches so far: every poll of every runtime makes at least one. */
const searches = (shop: MagentoSimulator) => shop.counters["GET /V1/orders"] ?? 0;

/**
 * Waits until the runtimes have polled the shop `polls` more times, the last of those polls over:
 * "one more poll changes nothing" without guessing how long a poll takes.
 */
async function morePolls(shop: MagentoSimulator, polls: number): Promise<void> {
  const target = searches(shop) + polls + 1;
  await waitUntil(`${polls} more polls of the shop`, () => searches(shop) >= target, {
    capMs: 5 * 60_000,
    everyMs: 100,
  });
}

/** Waits until each target holds every order once (the flows finish what they started). */
async function untilComplete(
  admin: TrytonClient,
  crm: SalesforceSimulator,
  orders: MagentoOrder[],
): Promise<void> {
  let problems: string[] = [];
  await waitUntil(
    "every order in Tryton and Salesforce",
    async () => {
      const tryton = await checkTrytonNow(admin, orders);
      problems = [...reportProblems(tryton), ...reportProblems(checkSalesforce(crm, orders))];
      return problems.length === 0;
    },
    { capMs: FINISH_CAP_MS, everyMs: 2_000, detail: () => problems.slice(0, 5).join("; ") },
  );
}

/** The Tryton check while the flow may still write (a sale deleted between two reads): a failed read means "not yet". */
async function checkTrytonNow(admin: TrytonClient, orders: MagentoOrder[]) {
  try {
    return await checkTryton(admin, orders);
  } catch (err) {
    return {
      orders: orders.length,
      present: 0,
      lost: [],
      duplicated: [],
      wrong: [`(read while writing: ${(err as Error).message.slice(0, 80)})`],
      unexpected: [],
      roundingGaps: 0,
    };
  }
}

for (const flavour of ["6.0-sqlite", PRODUCTION_FLAVOUR] as TrytonFlavour[]) describeCrashes(flavour);

function describeCrashes(flavour: TrytonFlavour): void {
  describe(`reliability: crash and resume (real Node-RED, SIGKILL), ${flavourTitle(flavour)}`, function () {
    this.timeout(20 * 60_000);
    let server: RealTrytonServer;
    let magento: MagentoSimulator | undefined;
    let sf: SalesforceSimulator;
    let nodeRed: NodeRedInstance | undefined;
    let userDir: string | undefined;
    let admin: TrytonClient;

    before(async function () {
      const s = await realTrytonServer(flavour);
      if (!s) this.skip();
      server = s!;
      ensureBuilt();
      await server.reset();
      admin = new TrytonClient({
        url: server.url,
        database: server.database,
        username: server.username,
        password: server.password,
      });
    });
    after(async () => {
      await nodeRed?.stop("SIGKILL");
      await magento?.stop();
      await stopSalesforce();
      await admin?.logout().catch(() => undefined);
      if (userDir) rmSync(userDir, { recursive: true, force: true });
    });

    it(`${CRASH_ORDERS} orders into Tryton and Salesforce, killed ${KILLS} times at random points: each order once in each target`, async () => {
      magento = await startMagentoSimulator({ orders: CRASH_ORDERS, seed: 23 });
      // Slow enough that the kills also land in the middle of Salesforce pages.
      sf = await salesforceSimulator({ currencies: ["USD", "EUR", "GBP", "JPY"], latencyMs: 60 });
      const settings = await shopSettings(admin, server.fixtures);
      const { flows, credentials } = shopFlow({
        magentoUrl: magento.url,
        magentoToken: defaultIntegration.accessToken,
        tryton: {
          url: server.url,
          database: server.database,
          username: server.username,
          password: server.password,
          settings,
        },
        salesforce: { url: sf.url, credentials: salesforceCredentials(sf) },
      });
      const orders: MagentoOrder[] = [...magento.orders.values()].map(valid);
      const wantTryton = orders.filter((o) => o.state !== "canceled").length;
      const progress = async () => ({
        tryton: await admin.searchCount("sale.sale", [["comment", "ilike", "%OrderBridge magento-order:%"]]),
        salesforce: sf.db.count("Order"),
      });

      userDir = mkdtempSync(path.join(os.tmpdir(), "orderbridge-crash-"));
      const start = (first: boolean) =>
        startNodeRed({
          userDir,
          persistentContext: true,
          removeUserDir: false,
          ...(first ? { flows, credentials } : {}),
        });
      const roll = dice(7);
      const started = Date.now();
      nodeRed = await start(true);
      const kills: string[] = [];
      let last = { tryton: 0, salesforce: 0 };
      const written = (p: typeof last) => p.tryton + p.salesforce;
      for (let k = 1; k <= KILLS; k += 1) {
        // A random point of the import: once this runtime has written something (or all is written), then up to 3 s on.
        await waitUntil(
          `the runtime started before kill ${k} to write`,
          async () => {
            const now = await progress();
            return written(now) > written(last) || written(now) >= wantTryton + orders.length;
          },
          { capMs: 5 * 60_000, everyMs: 250 },
        );
        await sleep(Math.floor(roll() * 3_000));
        last = await progress();
        await nodeRed.kill9();
        kills.push(
          `kill ${k} at Tryton ${last.tryton}/${wantTryton}, Salesforce ${last.salesforce}/${orders.length}`,
        );
        nodeRed = await start(false);
      }
      // Let the last run finish, then one more poll must change nothing.
      await untilComplete(admin, sf, orders);
      const ms = Date.now() - started;
      await morePolls(magento, 1);
      const tryton = await checkTryton(admin, orders);
      const crm = checkSalesforce(sf, orders);
      console.log(
        `      [crash] ${orders.length} orders, ${KILLS} SIGKILLs (${kills.join("; ")}), done in ${ms} ms: ` +
          `Tryton ${tryton.present} present, ${tryton.lost.length} lost, ${tryton.duplicated.length} duplicated; ` +
          `Salesforce ${crm.present} present, ${crm.lost.length} lost, ${crm.duplicated.length} duplicated`,
      );
      record({
        part: `Crash and resume: real Node-RED, SIGKILL, → real ${server.title} + Salesforce`,
        orders: orders.length,
        crashes: KILLS,
        lost: tryton.lost.length + crm.lost.length,
        duplicated: tryton.duplicated.length + crm.duplicated.length + crm.duplicateRecords.length,
        seconds: Math.round(ms / 1000),
      });
      assert.deepEqual(reportProblems(tryton), [], "Tryton");
      assert.deepEqual(reportProblems(crm), [], "Salesforce");
      assert.deepEqual(crm.duplicateRecords, []);
      assert.deepEqual(await trytonDuplicates(admin), { parties: [], products: [] });
      assert.equal(tryton.present, wantTryton);
      assert.equal(crm.present, orders.length);
    });

    it(`two Node-RED instances importing the same shop at once: no duplicate in Salesforce or Tryton`, async () => {
      await server.reset();
      const shop = await startMagentoSimulator({ orders: TWIN_ORDERS, seed: 29 });
      const crm = await salesforceSimulator({ currencies: ["USD", "EUR", "GBP", "JPY"], latencyMs: 20 });
      const settings = await shopSettings(admin, server.fixtures);
      const twins: NodeRedInstance[] = [];
      try {
        const started = Date.now();
        for (const prefix of ["left", "right"]) {
          const { flows, credentials } = shopFlow({
            prefix,
            magentoUrl: shop.url,
            magentoToken: defaultIntegration.accessToken,
            tryton: {
              url: server.url,
              database: server.database,
              username: server.username,
              password: server.password,
              settings,
            },
            salesforce: { url: crm.url, credentials: salesforceCredentials(crm) },
          });
          twins.push(await startNodeRed({ flows, credentials }));
        }
        const orders: MagentoOrder[] = [...shop.orders.values()].map(valid);
        await untilComplete(admin, crm, orders);
        await morePolls(shop, 2 * twins.length);
        const tryton = await checkTryton(admin, orders);
        const sfReport = checkSalesforce(crm, orders);
        console.log(
          `      [twins] ${orders.length} orders by two runtimes in ${Date.now() - started} ms: Tryton ${tryton.present} present, ` +
            `${tryton.duplicated.length} duplicated; Salesforce ${sfReport.present} present, ${sfReport.duplicated.length} duplicated, ` +
            `${sfReport.duplicateRecords.length} records written twice`,
        );
        record({
          part: `Two Node-RED instances on one shop → real ${server.title} + Salesforce`,
          orders: orders.length,
          lost: tryton.lost.length + sfReport.lost.length,
          duplicated:
            tryton.duplicated.length + sfReport.duplicated.length + sfReport.duplicateRecords.length,
          seconds: Math.round((Date.now() - started) / 1000),
        });
        assert.deepEqual(reportProblems(sfReport), [], "Salesforce");
        assert.deepEqual(sfReport.duplicateRecords, [], "no Account, Product or item twice");
        assert.deepEqual(reportProblems(tryton), [], "Tryton");
        const duplicates = await trytonDuplicates(admin);
        if (server.backend === "postgresql") {
          // Concurrent writers: a customer new to both runtimes may get two parties (docs/tryton-versions.md).
          console.log(`      [${server.title}] customers with two parties: ${duplicates.parties.length}`);
          assert.deepEqual(duplicates.products, []);
        } else assert.deepEqual(duplicates, { parties: [], products: [] });
      } finally {
        await Promise.all(twins.map((t) => t.stop("SIGKILL")));
        await shop.stop();
      }
    });
  });
}
