/**
 * Scenario 1: Magento → Salesforce, N orders, both simulators answering every call after
 * `latencyMs` (50 ms: Salesforce-like).
 *
 *  - pack: `OrderPusher.push` per Magento page (pages of 200, the pusher's round size), the
 *    next page pulled while the current one is pushed (as in a flow);
 *  - naive: what a hand-wired flow with generic nodes does, one REST call per record through
 *    jsforce: query the Account by the customer key (the e-mail), create it when missing; per
 *    line query the PricebookEntry by SKU, create Product2 + PricebookEntry when missing;
 *    create the Order; create each OrderItem. Same mapping, same simulators, same latency.
 *    At 50 ms per call it needs hours for N orders, so it runs on the first orders of the same
 *    pull and its rate is taken after its own warm-up (the first half of the sample creates
 *    most accounts and products): the speed-up is the pack's rate ÷ the naive rate.
 *
 * API calls come from the simulator's `api` counter (one per HTTP request: a composite or
 * collections request counts once, as in Salesforce).
 */
import type { Connection } from "jsforce";
import type { MagentoOrder } from "../src/magento/schema";
import { COLLECTION_LIMIT, COMPOSITE_COLLECTION_LIMIT } from "../src/salesforce/composite";
import { mapOrder } from "../src/salesforce/order-mapping";
import { OrderPusher } from "../src/salesforce/order-pusher";
import { SalesforceSession } from "../src/salesforce/session";
import { pushSettings, type PushSettingsInput } from "../src/salesforce/settings";
import { quote } from "../src/salesforce/soql";
import { startSalesforceSimulator, type SalesforceSimulator } from "../src/sandbox/salesforce";
import { itemsPerOrder, magentoClient, magentoWith, pages, prefetched } from "./magento";
import { now, since } from "./measure";

export interface SalesforceBenchOptions {
  orders: number;
  naiveOrders: number;
  latencyMs: number;
  pageSize: number;
  log: (line: string) => void;
}

export interface SalesforceRun {
  orders: number;
  failed: number;
  seconds: number;
  ordersPerSecond: number;
  apiCalls: number;
  callsPerOrder: number;
  /** Calls by simulator route (query, composite, sobject.create …). */
  routes: Record<string, number>;
}

/**
 * What Salesforce's composite limits allow at best for the records a run wrote: per page, one
 * lookup plus one composite per 1,000 records (5 collection subrequests × 200 records), as if
 * every collection were full whatever the mix of types — a lower bound for any client that
 * answers per order in the same request/response cycle.
 */
export interface CapacityFloor {
  /** Records created per page after the first (Orders, OrderItems, Notes, Accounts, Contacts). */
  recordsPerPage: number;
  /** Σ (1 + ⌈records ÷ 1,000⌉) over the pages after the first, ÷ their orders. */
  callsPerOrder: number;
}

export interface SalesforceBenchResult {
  orders: number;
  itemsPerOrder: number;
  orderItemsPerOrder: number;
  latencyMs: number;
  /** Orders per Magento page (and per push). */
  pageSize: number;
  pack: PackRun;
  /** The same pull with Synchronize Order Notes off (the target case: orders and items only). */
  packNotesOff: PackRun;
  naive: SalesforceRun & { steadyOrdersPerSecond: number; steadyCallsPerOrder: number };
  callsPerOrder: number;
  speedupVsNaive: number;
  ordersPerSecond: number;
}

// The simulator's default external-ID fields plus the sync-hash field the admin creates.
const packFields = { customFields: { Order: [{ name: "Magento_Sync_Hash__c", length: 64 }] } };

async function salesforceWith(latencyMs: number): Promise<SalesforceSimulator> {
  return startSalesforceSimulator({ ...packFields, latencyMs, dailyApiLimit: 100_000_000 });
}

function sessionFor(sim: SalesforceSimulator): SalesforceSession {
  const c = sim.credentials;
  return new SalesforceSession({
    loginUrl: sim.url,
    apiVersion: "60.0",
    authMode: "password",
    credentials: {
      clientId: c.clientId,
      clientSecret: c.clientSecret,
      username: c.username,
      password: c.password,
      securityToken: c.securityToken,
    },
  });
}

function routeDelta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) {
    const d = v - (before[k] ?? 0);
    if (d > 0 && k !== "api") out[k] = d;
  }
  return out;
}

type PackRun = SalesforceRun & { steadyCallsPerOrder: number; firstPageCalls: number; floor: CapacityFloor };

const WRITTEN_TYPES = ["Order", "OrderItem", "Note", "Account", "Contact"];
/** Records one composite can write: 5 collection subrequests of 200. */
const COMPOSITE_RECORDS = COMPOSITE_COLLECTION_LIMIT * COLLECTION_LIMIT;

/** Everything the pack does for N orders, page by page. */
export async function runPack(
  sim: SalesforceSimulator,
  pull: () => AsyncGenerator<{ orders: MagentoOrder[] }>,
  pageSize: number,
  settings: PushSettingsInput = {},
): Promise<PackRun & { orderItems: number }> {
  const session = sessionFor(sim);
  const pusher = new OrderPusher(session, settings);
  try {
    // Login and the setup check are once per deployment, not per order: done before the clock starts.
    await pusher.checkSetup();
    const before = { ...sim.counters };
    let orders = 0;
    let failed = 0;
    let firstPageCalls = 0;
    const records = () => WRITTEN_TYPES.reduce((sum, type) => sum + sim.db.count(type), 0);
    const floor = { pages: 0, records: 0, calls: 0, orders: 0 };
    const started = now();
    for await (const page of prefetched(pull())) {
      const recordsBefore = records();
      const summary = await pusher.push(page.orders);
      failed += summary.failures.length;
      if (firstPageCalls === 0) firstPageCalls = (sim.counters.api ?? 0) - (before.api ?? 0);
      else {
        const written = records() - recordsBefore;
        floor.pages += 1;
        floor.records += written;
        floor.calls += 1 + Math.ceil(written / COMPOSITE_RECORDS);
        floor.orders += page.orders.length;
      }
      orders += page.orders.length;
    }
    const seconds = since(started);
    const apiCalls = (sim.counters.api ?? 0) - (before.api ?? 0);
    const firstPageOrders = Math.min(orders, pageSize);
    return {
      orders,
      failed,
      seconds,
      ordersPerSecond: orders / seconds,
      apiCalls,
      callsPerOrder: apiCalls / orders,
      routes: routeDelta(before, sim.counters),
      firstPageCalls,
      steadyCallsPerOrder:
        orders > firstPageOrders
          ? (apiCalls - firstPageCalls) / (orders - firstPageOrders)
          : apiCalls / orders,
      floor: {
        recordsPerPage: floor.records / Math.max(1, floor.pages),
        callsPerOrder: floor.calls / Math.max(1, floor.orders),
      },
      orderItems: sim.db.count("OrderItem"),
    };
  } finally {
    await session.close();
  }
}

/** One REST call per record, as generic nodes would make them (jsforce `query` / `sobject().create`). */
class NaiveSalesforceFlow {
  private readonly settings = pushSettings({});

  constructor(
    private readonly conn: Connection,
    private readonly pricebookId: string,
  ) {}

  async order(order: MagentoOrder): Promise<void> {
    const f = this.settings.fields;
    const wanted = mapOrder(order, this.settings);
    const key = wanted.customer.key;
    const accounts = await this.conn.query<{ Id: string }>(
      `SELECT Id FROM Account WHERE ${f.accountKey} = ${quote(key)} LIMIT 1`,
    );
    const accountId =
      accounts.records[0]?.Id ??
      (await this.created("Account", { ...wanted.customer.account, [f.accountKey]: key }));
    const entries: string[] = [];
    for (const line of wanted.lines) {
      const found = await this.conn.query<{ Id: string }>(
        `SELECT Id FROM PricebookEntry WHERE Pricebook2Id = ${quote(this.pricebookId)} AND Product2.${f.sku} = ${quote(line.sku)} LIMIT 1`,
      );
      let entryId = found.records[0]?.Id;
      if (!entryId) {
        const productId = await this.created("Product2", {
          Name: line.productName,
          ProductCode: line.sku,
          [f.sku]: line.sku,
          IsActive: true,
        });
        entryId = await this.created("PricebookEntry", {
          Pricebook2Id: this.pricebookId,
          Product2Id: productId,
          UnitPrice: Math.max(0, line.unitPrice),
          IsActive: true,
        });
      }
      entries.push(entryId);
    }
    const orderId = await this.created("Order", {
      ...wanted.fields,
      [f.orderKey]: wanted.key,
      AccountId: accountId,
      Pricebook2Id: this.pricebookId,
      Status: "Draft",
    });
    for (const [i, line] of wanted.lines.entries()) {
      await this.created("OrderItem", {
        OrderId: orderId,
        PricebookEntryId: entries[i],
        Quantity: line.quantity,
        UnitPrice: line.unitPrice,
        Description: line.description,
        [f.itemKey]: line.key,
      });
    }
  }

  private async created(type: string, record: Record<string, unknown>): Promise<string> {
    const result = await this.conn.sobject(type).create(record);
    if (!result.success || !result.id) throw new Error(`${type}: ${JSON.stringify(result)}`);
    return result.id;
  }
}

export async function runNaive(
  sim: SalesforceSimulator,
  pull: () => AsyncGenerator<{ orders: MagentoOrder[] }>,
  limit: number,
): Promise<SalesforceBenchResult["naive"]> {
  const session = sessionFor(sim);
  try {
    const conn = await session.connection();
    const flow = new NaiveSalesforceFlow(conn, sim.db.standardPricebookId);
    const before = { ...sim.counters };
    let orders = 0;
    let failed = 0;
    let half: { at: number; calls: number; orders: number } | undefined;
    const started = now();
    outer: for await (const page of pull()) {
      for (const order of page.orders) {
        if (orders >= limit) break outer;
        if (orders === Math.floor(limit / 2)) half = { at: now(), calls: sim.counters.api ?? 0, orders };
        orders += 1;
        try {
          await flow.order(order);
        } catch {
          failed += 1;
        }
      }
    }
    const seconds = since(started);
    const apiCalls = (sim.counters.api ?? 0) - (before.api ?? 0);
    const steadyOrders = half ? orders - half.orders : orders;
    const steadySeconds = half ? since(half.at) : seconds;
    const steadyCalls = half ? (sim.counters.api ?? 0) - half.calls : apiCalls;
    return {
      orders,
      failed,
      seconds,
      ordersPerSecond: orders / seconds,
      apiCalls,
      callsPerOrder: apiCalls / orders,
      routes: routeDelta(before, sim.counters),
      steadyOrdersPerSecond: steadyOrders / steadySeconds,
      steadyCallsPerOrder: steadyCalls / steadyOrders,
    };
  } finally {
    await session.close();
  }
}

export async function benchSalesforce(opts: SalesforceBenchOptions): Promise<SalesforceBenchResult> {
  const magento = await magentoWith(opts.orders, opts.latencyMs);
  const stops: Array<() => Promise<void>> = [() => magento.stop()];
  try {
    const client = magentoClient(magento, opts.pageSize);
    const pull = () => pages(client, opts.pageSize);
    const all: MagentoOrder[] = [];
    for await (const page of pull()) all.push(...page.orders);

    opts.log(`salesforce: pack, ${opts.orders} orders, ${opts.latencyMs} ms latency…`);
    const packSim = await salesforceWith(opts.latencyMs);
    stops.push(() => packSim.stop());
    const { orderItems, ...pack } = await runPack(packSim, pull, opts.pageSize);
    opts.log(`  ${pack.seconds.toFixed(1)} s, ${pack.apiCalls} API calls, ${pack.failed} failed`);

    opts.log(`salesforce: pack with Synchronize Order Notes off…`);
    const notesOffSim = await salesforceWith(opts.latencyMs);
    stops.push(() => notesOffSim.stop());
    const { orderItems: _items, ...packNotesOff } = await runPack(notesOffSim, pull, opts.pageSize, {
      syncNotes: false,
    });
    opts.log(
      `  ${packNotesOff.seconds.toFixed(1)} s, ${packNotesOff.apiCalls} API calls, ${packNotesOff.failed} failed`,
    );

    opts.log(`salesforce: naive, first ${opts.naiveOrders} orders, ${opts.latencyMs} ms latency…`);
    const naiveSim = await salesforceWith(opts.latencyMs);
    stops.push(() => naiveSim.stop());
    const naive = await runNaive(naiveSim, pull, opts.naiveOrders);
    opts.log(`  ${naive.seconds.toFixed(1)} s, ${naive.apiCalls} API calls, ${naive.failed} failed`);

    return {
      orders: opts.orders,
      itemsPerOrder: itemsPerOrder(all),
      orderItemsPerOrder: orderItems / Math.max(1, pack.orders - pack.failed),
      latencyMs: opts.latencyMs,
      pageSize: opts.pageSize,
      pack,
      packNotesOff,
      naive,
      callsPerOrder: pack.steadyCallsPerOrder,
      speedupVsNaive: pack.ordersPerSecond / naive.steadyOrdersPerSecond,
      ordersPerSecond: pack.ordersPerSecond,
    };
  } finally {
    for (const stop of stops.reverse()) await stop();
  }
}
