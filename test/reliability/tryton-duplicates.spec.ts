/**
 * Tryton has no unique key on sales or parties, so the pack must never write twice what it
 * cannot see: a write whose answer was lost, two runtimes importing the same orders at once,
 * a create that the server committed after its client gave up. Same tests on the real
 * Tryton 6.0 and on the simulator.
 *
 * Across runtimes the rule is "detect and remove the pack's own duplicates": after creating,
 * and whenever it looks an order up, the importer keeps the oldest sale carrying the order's
 * marker and deletes newer ones still in draft or quotation.
 */
import assert from "node:assert/strict";
import { generateOrders } from "../../src/sandbox/magento/seed";
import { startTrytonSimulator, type TrytonSimulator } from "../../src/sandbox/tryton";
import { TrytonClient } from "../../src/tryton/rpc";
import { SaleImporter, type ImportSettings } from "../../src/tryton/sale-import";
import {
  HELD_ANSWER_TIMEOUT_MS,
  startFaultProxy,
  type FaultProxy,
  type ProxyFault,
} from "../support/reliability-proxy";
import { record } from "../support/reliability-report";
import {
  checkTryton,
  inRange,
  reportProblems,
  shopSettings,
  trytonDuplicates,
  trytonSalesByOrder,
  valid,
  type RawOrder,
} from "../support/reliability-shop";
import { flavourTitle, PRODUCTION_FLAVOUR, realTrytonServer } from "../support/tryton-server";
import type { TrytonFixtures } from "../support/tryton-server";

/**
 * Holds the first matching call of each kind of one client until the other client makes the same
 * call: two runtimes that both searched, found nothing, and now both create. A client whose import
 * is over (`leave`) makes no more calls, so nobody waits for it. A hold that lasts past `capMs`
 * is let go and noted in `problems` (the test then fails naming it).
 */
function rendezvous(methods: RegExp, capMs: number) {
  const waiting = new Map<string, { client: TrytonClient; release: () => void }>();
  const left = new Set<TrytonClient>();
  const problems: string[] = [];
  const release = (method: string) => {
    waiting.get(method)?.release();
    waiting.delete(method);
  };
  return {
    problems,
    join(client: TrytonClient): void {
      const met = new Set<string>();
      client.http.interceptors.request.use(async (config) => {
        const method = (JSON.parse(String(config.data)) as { method: string }).method;
        if (!methods.test(method) || met.has(method)) return config;
        met.add(method);
        if (waiting.has(method)) release(method);
        else if (![...left].some((c) => c !== client)) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(() => {
              problems.push(`${method}: the other runtime neither made it nor finished within ${capMs} ms`);
              release(method);
            }, capMs);
            waiting.set(method, {
              client,
              release: () => {
                clearTimeout(timer);
                resolve();
              },
            });
          });
        }
        return config;
      });
    },
    /** The client's import is over. */
    leave(client: TrytonClient): void {
      left.add(client);
      for (const [method, w] of waiting) if (w.client !== client) release(method);
    },
  };
}

interface Server {
  url: string;
  database: string;
  username: string;
  password: string;
  fixtures: TrytonFixtures;
}

/**
 * `concurrentWriters`: the database runs two runtimes' transactions side by side (PostgreSQL),
 * where ids follow inserts, not commits. There a customer new to both runtimes may end with two
 * parties (docs/tryton-versions.md, "Several runtimes on one database"): counted and reported,
 * while sales and products must still be exactly one per order and SKU.
 */
function suite(
  name: string,
  provide: () => Promise<Server | undefined>,
  firstRange: number,
  concurrentWriters = false,
) {
  describe(`reliability: no duplicate Tryton writes (${name})`, function () {
    this.timeout(5 * 60_000);
    let server: Server;
    let admin: TrytonClient;
    let settings: ImportSettings;
    let range = firstRange;
    const proxies: FaultProxy[] = [];
    const clients: TrytonClient[] = [];

    /** A runtime's client: the default per-call timeout (120 s), unless a test needs one to pass. */
    const client = (url = server.url, timeoutMs?: number) => {
      const c = new TrytonClient({
        url,
        database: server.database,
        username: server.username,
        password: server.password,
        ...(timeoutMs ? { timeoutMs } : {}),
        retry: { attempts: 5, baseDelayMs: 20, maxDelayMs: 200 },
      });
      clients.push(c);
      return c;
    };
    const proxy = async (plan: (call: string, seen: number) => ProxyFault | undefined) => {
      const p = await startFaultProxy({ target: server.url, plan });
      proxies.push(p);
      return p;
    };
    const orders = (count: number, seed: number) =>
      inRange(generateOrders(count, seed) as unknown as RawOrder[], (range += 1)).filter(
        (o) => o.state !== "canceled",
      );

    before(async function () {
      const s = await provide();
      if (!s) this.skip();
      server = s!;
      admin = client();
      settings = await shopSettings(admin, server.fixtures);
    });
    after(async () => {
      await Promise.all(proxies.map((p) => p.stop()));
      await Promise.allSettled(clients.map((c) => c.logout()));
    });

    it("a write whose answer is lost (connection dropped after the server acted, or answered past the timeout) is not made twice", async () => {
      // Each kind of write the import makes loses its answer once, three per page.
      const faultsPerPage: Array<Record<string, ProxyFault>> = [
        {
          "model.party.party.create": "drop-answer",
          "model.product.template.create": "drop-answer",
          "model.sale.sale.create": "slow-answer",
        },
        {
          "model.party.address.create": "drop-answer",
          "model.sale.sale.quote": "drop-answer",
          "model.sale.sale.confirm": "drop-answer",
        },
      ];
      const all: RawOrder[] = [];
      let slowest = { call: "", ms: 0 };
      for (const lost of faultsPerPage) {
        const p = await proxy((call, seen) => (seen === 1 ? lost[call] : undefined));
        const raw = orders(30, 31);
        // Unknown e-mails, addresses and SKUs, so that parties, addresses and products are created in this page.
        for (const o of raw) {
          o.customer_email = `lost-${range}-${String(o.customer_email)}`;
          (o.billing_address as { city: string }).city += ` ${range}`;
          for (const item of o.items as Array<{ sku: string }>) item.sku = `L${range}-${item.sku}`;
        }
        all.push(...raw);
        const runtime = client(p.url, HELD_ANSWER_TIMEOUT_MS);
        const { results, failures } = await new SaleImporter(runtime, settings).importOrders(raw);
        assert.deepEqual(
          failures.map((f) => f.error?.message),
          [],
        );
        assert.equal(results.length, raw.length);
        assert.equal(
          Object.values(p.faults).reduce((n, c) => n + c, 0),
          Object.keys(lost).length,
          `the faults were injected: ${JSON.stringify(p.faults)}`,
        );
        if (p.slowest.ms > slowest.ms) slowest = p.slowest;
        assert.equal(
          p.abandoned,
          Object.values(lost).filter((f) => f === "slow-answer").length,
          `the client gave up on the held answer after Tryton had answered (slowest answer: ` +
            `${slowest.call} in ${slowest.ms} ms, timeout ${HELD_ANSWER_TIMEOUT_MS} ms)`,
        );
      }
      console.log(`      [${name}] slowest Tryton answer: ${slowest.ms} ms (${slowest.call})`);
      const report = await checkTryton(admin, all.map(valid));
      record({
        part: `Lost write answers, Tryton (${name})`,
        orders: all.length,
        faults: 6,
        lost: report.lost.length,
        duplicated: report.duplicated.length,
      });
      assert.deepEqual(reportProblems(report), []);
      assert.deepEqual(await trytonDuplicates(admin), { parties: [], products: [] });
    });

    it("two runtimes importing the same pages at once end with one sale per order (a newer draft duplicate deletes itself)", async () => {
      const raw = orders(60, 37);
      for (const o of raw) o.customer_email = `race-${range}-${String(o.customer_email)}`;
      // Different URLs: two runtimes do not share the in-process serialisation of imports.
      const p = await proxy(() => undefined);
      const [ca, cb] = [client(), client(p.url)];
      // Both runtimes have looked and found nothing before either creates: the worst case.
      const meet = rendezvous(/^model\.(sale\.sale|party\.party|product\.template)\.create$/, 120_000);
      meet.join(ca);
      meet.join(cb);
      const deletes: string[] = [];
      for (const c of [ca, cb]) {
        c.http.interceptors.request.use((config) => {
          const method = (JSON.parse(String(config.data)) as { method: string }).method;
          if (method.endsWith(".delete")) deletes.push(method);
          return config;
        });
      }
      const [a, b] = [new SaleImporter(ca, settings), new SaleImporter(cb, settings)];
      const [ra, rb] = await Promise.all([
        a.importOrders(raw).finally(() => meet.leave(ca)),
        b.importOrders(raw).finally(() => meet.leave(cb)),
      ]);
      assert.deepEqual(meet.problems, [], "both runtimes reached each create");
      assert.ok(
        deletes.includes("model.sale.sale.delete") && deletes.includes("model.party.party.delete"),
        `both created, and the newer sales and parties were deleted again (${deletes.length} deletes)`,
      );
      const failed = [...ra.failures, ...rb.failures].filter((f) => f.action === "failed");
      // A runtime whose draft was deleted by the other may report that order failed; the other has it.
      const reasons = [...new Set(failed.map((f) => f.error!.message.replace(/\d+/g, "N")))];
      console.log(`      [${name}] failures: ${reasons.join(" | ")}`);
      const report = await checkTryton(admin, raw.map(valid));
      record({
        part: `Two runtimes creating at once, Tryton (${name})`,
        orders: raw.length,
        lost: report.lost.length,
        duplicated: report.duplicated.length,
      });
      assert.deepEqual(reportProblems(report), []);
      const duplicates = await trytonDuplicates(admin);
      if (concurrentWriters) {
        console.log(
          `      [${name}] customers with two parties after the race: ${duplicates.parties.length}`,
        );
        assert.deepEqual(duplicates.products, []);
      } else assert.deepEqual(duplicates, { parties: [], products: [] });
      console.log(
        `      [${name}] two runtimes, ${raw.length} orders: ${ra.results.filter((r) => r.action === "created").length} + ` +
          `${rb.results.filter((r) => r.action === "created").length} created, ${deletes.length} duplicates deleted, ${failed.length} reported failed, one sale each`,
      );
    });

    it("a duplicate committed after its client gave up is removed by the next import of the order", async () => {
      const raw = orders(5, 41);
      const importer = new SaleImporter(client(), settings);
      await importer.importOrders(raw);
      const byOrder = await trytonSalesByOrder(admin);
      const first = byOrder.get(raw[0]!.entity_id)![0]!;
      // What a late create leaves: a second draft sale with the same marker.
      const [copy] = await admin.create("sale.sale", [
        {
          party: first.party,
          invoice_address: first.invoice_address,
          shipment_address: first.shipment_address,
          currency: first.currency,
          reference: first.reference,
          comment: first.comment,
        },
      ]);
      assert.equal((await trytonSalesByOrder(admin)).get(raw[0]!.entity_id)!.length, 2);
      const { failures } = await importer.importOrders(raw);
      assert.deepEqual(failures, []);
      const after = (await trytonSalesByOrder(admin)).get(raw[0]!.entity_id)!;
      assert.deepEqual(
        after.map((s) => s.id),
        [first.id],
        `the newer draft ${copy} was deleted, the first sale kept`,
      );
      assert.deepEqual(reportProblems(await checkTryton(admin, raw.map(valid))), []);
    });
  });
}

let sim: TrytonSimulator | undefined;
after(async () => {
  await sim?.stop();
});
suite(
  "simulator",
  async () => {
    sim ??= await startTrytonSimulator({ password: "reliability-sim-Secret-1" });
    return sim;
  },
  300,
);
suite("real Tryton 6.0 on SQLite", () => realTrytonServer("6.0-sqlite"), 400);
// PostgreSQL takes concurrent writers (SQLite serialises them): two runtimes really overlap.
suite(`real ${flavourTitle(PRODUCTION_FLAVOUR)}`, () => realTrytonServer(PRODUCTION_FLAVOUR), 500, true);
