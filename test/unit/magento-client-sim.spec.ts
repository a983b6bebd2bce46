import assert from "node:assert/strict";
import { MagentoClient, type MagentoClientOptions } from "../../src/magento/client";
import { MagentoError } from "../../src/magento/errors";
import { cursorFromDate, fetchOrders, pullSince, type PulledPage } from "../../src/magento/order-source";
import type { OrderCursor } from "../../src/magento/search";
import { startMagentoSimulator } from "../../src/sandbox/magento";
import type { MagentoSimulator } from "../../src/sandbox/magento/types";

const integration = {
  consumerKey: "simconsumerkey01",
  consumerSecret: "simconsumersecret01",
  accessToken: "simaccesstoken01",
  accessTokenSecret: "simaccesstokensecret01",
  bearerEnabled: true,
};
const admin = { username: "sync-admin", password: "sim-Adm1n-pass" };
const fastRetry = { attempts: 8, baseDelayMs: 2, maxDelayMs: 40 };

const bearerAuth = { kind: "bearer" as const, token: integration.accessToken };
const oauthAuth = { kind: "oauth1" as const, ...integration };

interface Emitted {
  id: number;
  updatedAt: string;
}

async function pull(client: MagentoClient, since: OrderCursor | null, pageSize = 50) {
  const emitted: Emitted[] = [];
  const invalid: PulledPage["invalid"] = [];
  let cursor = since;
  let pages = 0;
  for await (const page of pullSince(client, { since, pageSize })) {
    pages += 1;
    for (const o of page.orders) emitted.push({ id: o.entity_id, updatedAt: o.updated_at });
    invalid.push(...page.invalid);
    cursor = page.cursor ?? cursor;
  }
  return { emitted, invalid, cursor, pages };
}

function countBy(list: Emitted[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const e of list) counts.set(e.id, (counts.get(e.id) ?? 0) + 1);
  return counts;
}

describe("Magento client against the simulator (src/sandbox/magento)", function () {
  this.timeout(120_000);
  let sim: MagentoSimulator;
  const clients: MagentoClient[] = [];

  function client(opts: Partial<MagentoClientOptions> = {}): MagentoClient {
    const c = new MagentoClient({ baseUrl: sim.url, auth: bearerAuth, retry: fastRetry, ...opts });
    clients.push(c);
    return c;
  }

  before(async () => {
    sim = await startMagentoSimulator({ orders: 1000, seed: 42, admin, integration });
  });
  afterEach(() => {
    sim.onRequest = undefined;
    sim.setFaults(undefined);
    while (clients.length) clients.pop()!.close();
  });
  after(async () => {
    await sim.stop();
  });

  it("pulls 1,000 orders with page size 50, each exactly once, and a second pull from the final cursor emits nothing", async () => {
    const c = client();
    const run = await pull(c, null, 50);
    assert.deepEqual(
      run.invalid.map((i) => i.result.error?.message),
      [],
    );
    assert.equal(run.emitted.length, 1000);
    assert.equal(countBy(run.emitted).size, 1000);
    assert.deepEqual(
      [...countBy(run.emitted).keys()].sort((a, b) => a - b),
      [...sim.orders.keys()].sort((a, b) => a - b),
    );
    assert.equal(run.pages, 20);
    const again = await pull(c, run.cursor, 50);
    assert.deepEqual(again.emitted, []);
  });

  it("loses and repeats nothing while orders are edited during the pull", async () => {
    const c = client();
    const seen = new Set<number>();
    const touchedAfterEmit = new Set<number>();
    const ids = [...sim.orders.keys()];
    let n = 0;
    sim.onRequest = (route) => {
      if (route !== "GET /V1/orders") return;
      n += 1;
      // Alternately edit an order already delivered and one not reached yet.
      const pickSeen = n % 2 === 0 && seen.size > 0;
      const pool = ids.filter((id) => seen.has(id) === pickSeen);
      if (pool.length === 0) return;
      const id = pool[(n * 37) % pool.length];
      if (pickSeen) touchedAfterEmit.add(id);
      sim.touchOrder(id, { status: "processing" });
    };
    const emitted: Emitted[] = [];
    for await (const page of pullSince(c, { since: null, pageSize: 50 })) {
      for (const o of page.orders) {
        seen.add(o.entity_id);
        emitted.push({ id: o.entity_id, updatedAt: o.updated_at });
      }
    }
    sim.onRequest = undefined;
    const counts = countBy(emitted);
    assert.equal(counts.size, sim.orders.size, "every order reached the output");
    assert.equal(
      new Set(emitted.map((e) => `${e.id}@${e.updatedAt}`)).size,
      emitted.length,
      "no version twice",
    );
    for (const [id, count] of counts) {
      if (!touchedAfterEmit.has(id)) assert.equal(count, 1, `order ${id} emitted ${count} times`);
    }
    assert.ok(touchedAfterEmit.size > 0);
    const lastVersion = new Map(emitted.map((e) => [e.id, e.updatedAt]));
    for (const [id, order] of sim.orders) {
      assert.equal(lastVersion.get(id), order.updated_at, `order ${id}: latest change delivered`);
    }
  });

  for (const [mode, auth, seed] of [
    ["bearer", bearerAuth, 3],
    ["OAuth 1.0a (fresh nonce per retry)", oauthAuth, 10],
  ] as const) {
    it(`delivers every order exactly once through ~10% injected faults (500, 503, 429, reset, slow), ${mode}`, async () => {
      sim.setFaults({
        rate: 0.1,
        kinds: ["500", "503", "429", "reset", "slow"],
        retryAfterSeconds: 0,
        // The simulator runs in this process: its slow answer's timer starts after the client's
        // request timer, so the client gives up first however loaded the machine.
        slowMs: 2_500,
        seed,
      });
      const before = sim.counters.faults ?? 0;
      const retries: string[] = [];
      const c = client({ auth, timeoutMs: 2_000, retryOptions: { onRetry: (e) => retries.push(e.reason) } });
      const run = await pull(c, null, 50);
      assert.equal(run.emitted.length, sim.orders.size);
      assert.equal(countBy(run.emitted).size, sim.orders.size);
      const faults = (sim.counters.faults ?? 0) - before;
      assert.ok(faults > 0, "faults were injected");
      // A slow answer on a cold machine may add a timeout retry of its own.
      assert.ok(retries.length >= faults, `every fault was retried (${retries.join(", ")})`);
    });
  }

  it("a 429 that outlasts the retries says Magento is rate-limiting and how often it was retried", async () => {
    sim.setFaults({ rate: 1, kinds: ["429"], retryAfterSeconds: 0 });
    const waits: (number | undefined)[] = [];
    const c = client({
      retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
      retryOptions: { onRetry: (e) => waits.push(e.retryAfterMs) },
    });
    const err = await c.searchOrders({ pageSize: 10, currentPage: 1 }).then(
      () => assert.fail("expected a 429"),
      (e: unknown) => e as MagentoError,
    );
    assert.ok(err instanceof MagentoError);
    assert.equal(err.code, "http_429");
    assert.equal(err.transient, true, "the next run tries again");
    assert.deepEqual(waits, [0, 0], "Retry-After was read before each retry");
    assert.match(err.message, /Magento is rate-limiting this client/);
    assert.match(err.message, /retried 2 times honouring its Retry-After header/);
    assert.match(err.message, /Lower the pace .* raise the shop's rate limit/);
    assert.doesNotMatch(err.message, /maintenance/);
  });

  it("fetches chosen orders by entity id and increment id, and names those not found", async () => {
    const c = client();
    const some = [...sim.orders.values()].slice(0, 120);
    const entityIds = some.slice(0, 70).map((o) => o.entity_id);
    const incrementIds = some.slice(50).map((o) => o.increment_id);
    const pages: PulledPage[] = [];
    for await (const page of fetchOrders(
      c,
      { entityIds: [...entityIds, 999_999], incrementIds: [...incrementIds, "X-404"] },
      50,
    )) {
      pages.push(page);
    }
    const got = pages.flatMap((p) => p.orders.map((o) => o.entity_id));
    assert.deepEqual(
      [...got].sort((a, b) => a - b),
      some.map((o) => o.entity_id).sort((a, b) => a - b),
    );
    const failures = pages.flatMap((p) => p.invalid.map((i) => i.result));
    assert.deepEqual(
      failures.map((f) => [f.error?.code, f.orderId ?? f.incrementId]),
      [
        ["not_found", 999_999],
        ["not_found", "X-404"],
      ],
    );
  });

  it("OAuth 1.0a: signed keyset queries (spaces in dates) are accepted and return what bearer returns", async () => {
    const dates = [...sim.orders.values()].map((o) => o.updated_at).sort();
    const since = cursorFromDate(dates[Math.floor(dates.length / 2)]);
    assert.match(since.updatedAt, / /);
    const viaOAuth = await pull(client({ auth: oauthAuth }), since, 100);
    const viaBearer = await pull(client(), since, 100);
    assert.ok(viaOAuth.emitted.length > 100, "more than one page");
    assert.deepEqual(viaOAuth.emitted, viaBearer.emitted);
    const views = await client({ auth: oauthAuth }).testConnection();
    assert.ok(views.storeViews.length > 0);
  });

  it("OAuth 1.0a: a wrong consumer secret is refused with a clear error", async () => {
    const c = client({ auth: { ...oauthAuth, consumerSecret: "not-the-secret" } });
    await assert.rejects(c.testConnection(), (err: MagentoError) => {
      assert.equal(err.status, 401);
      assert.match(err.message, /signature is invalid/);
      assert.match(err.message, /consumer secret/);
      assert.doesNotMatch(err.message, /not-the-secret|simaccesstoken/);
      return true;
    });
  });

  it("admin token: logs in once, then again after the tokens expired", async () => {
    const c = client({ auth: { kind: "admin", ...admin } });
    const route = "POST /V1/integration/admin/token";
    const logins = () => sim.counters[route] ?? 0;
    const start = logins();
    await c.storeViews();
    await c.searchOrders({ pageSize: 1, currentPage: 1 });
    assert.equal(logins() - start, 1);
    sim.expireTokens();
    const result = await c.searchOrders({ pageSize: 2, currentPage: 1 });
    assert.equal(result.items.length, 2);
    assert.equal(logins() - start, 2);
  });

  it("admin token with 2FA on: tells the merchant to use an integration", async () => {
    const tfa = await startMagentoSimulator({
      orders: 3,
      seed: 1,
      admin: { ...admin, twoFactor: true },
      integration,
    });
    const c = new MagentoClient({ baseUrl: tfa.url, auth: { kind: "admin", ...admin }, retry: fastRetry });
    try {
      await assert.rejects(c.testConnection(), (err: MagentoError) => {
        assert.equal(err.call, "POST /V1/integration/admin/token");
        assert.match(err.message, /two-factor authentication is enabled/i);
        assert.match(err.message, /integration/);
        assert.doesNotMatch(err.message, /sim-Adm1n-pass/);
        return true;
      });
    } finally {
      c.close();
      await tfa.stop();
    }
  });

  it("bearer with the standalone-Bearer flag off: explains the 401", async () => {
    const off = await startMagentoSimulator({
      orders: 3,
      seed: 1,
      integration: { ...integration, bearerEnabled: false },
    });
    const c = new MagentoClient({ baseUrl: off.url, auth: bearerAuth, retry: fastRetry });
    try {
      await assert.rejects(c.testConnection(), (err: MagentoError) => {
        assert.equal(err.status, 401);
        assert.match(err.message, /isn't authorized to access Magento_Sales::actions_view/);
        assert.match(err.message, /standalone Bearer/);
        return true;
      });
    } finally {
      c.close();
      await off.stop();
    }
  });
});
