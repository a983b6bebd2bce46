/**
 * Shared setup of the Salesforce tests: a simulator with the custom fields the pack needs, a
 * session for each OAuth grant, realistic Magento orders, and cleanup of everything started.
 */
import { lineItems, type MagentoOrder } from "../../src/magento/schema";
import { OrderPusher } from "../../src/salesforce/order-pusher";
import { SalesforceSession, type AuthMode } from "../../src/salesforce/session";
import type { PushSettingsInput } from "../../src/salesforce/settings";
import { generateOrders } from "../../src/sandbox/magento";
import {
  startSalesforceSimulator,
  type SalesforceSimulator,
  type SalesforceSimulatorOptions,
} from "../../src/sandbox/salesforce";

// jsforce reads the proxy variables when it is loaded and ignores NO_PROXY (reference §6.6).
for (const name of ["http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"]) delete process.env[name];

export type Rec = Record<string, unknown>;

const unique = (name: string) => [{ name, unique: true }];

/** The fields the admin creates as the help says: unique external IDs, and the sync hash. */
export const PACK_FIELDS: SalesforceSimulatorOptions = {
  externalIdFields: {
    Account: unique("Magento_Customer_Key__c"),
    Contact: unique("Magento_Customer_Key__c"),
    Product2: unique("Magento_Sku__c"),
    Order: unique("Magento_Order_Key__c"),
    OrderItem: unique("Magento_Item_Key__c"),
  },
  customFields: { Order: [{ name: "Magento_Sync_Hash__c", length: 64 }] },
};

const started: { sims: SalesforceSimulator[]; sessions: SalesforceSession[] } = { sims: [], sessions: [] };

export async function simulator(options: SalesforceSimulatorOptions = {}): Promise<SalesforceSimulator> {
  const sim = await startSalesforceSimulator({ ...PACK_FIELDS, ...options });
  started.sims.push(sim);
  return sim;
}

export function session(sim: SalesforceSimulator, authMode: AuthMode = "password"): SalesforceSession {
  const c = sim.credentials;
  const credentials = {
    password: {
      clientId: c.clientId,
      clientSecret: c.clientSecret,
      username: c.username,
      password: c.password,
      securityToken: c.securityToken,
    },
    client_credentials: { clientId: c.clientId, clientSecret: c.clientSecret },
    jwt: { clientId: c.clientId, username: c.username, privateKey: c.privateKeyPem },
    refresh_token: { clientId: c.clientId, clientSecret: c.clientSecret, refreshToken: c.refreshToken },
  }[authMode];
  const s = new SalesforceSession({ loginUrl: sim.url, apiVersion: "60.0", authMode, credentials });
  started.sessions.push(s);
  return s;
}

/** Fast retries for tests (the shared policy waits up to seconds). */
export const FAST_RETRY = { attempts: 5, baseDelayMs: 5, maxDelayMs: 20 };

export function pusher(
  sim: SalesforceSimulator,
  settings: PushSettingsInput = {},
  authMode: AuthMode = "password",
) {
  return new OrderPusher(session(sim, authMode), { retry: FAST_RETRY, ...settings });
}

export async function stopAll(): Promise<void> {
  const { sims, sessions } = started;
  await Promise.all(sessions.splice(0).map((s) => s.close()));
  await Promise.all(sims.splice(0).map((s) => s.stop()));
}

/** Realistic Magento orders (guests, configurable/bundle/virtual items, currencies, comments). */
export function orders(count: number, seed = 7): MagentoOrder[] {
  return generateOrders(count, seed) as unknown as MagentoOrder[];
}

export function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** Calls the simulator counted against the daily API limit during `fn`. */
export async function apiCallsOf<T>(
  sim: SalesforceSimulator,
  fn: () => Promise<T>,
): Promise<{ value: T; calls: number }> {
  const before = sim.counters.api;
  const value = await fn();
  return { value, calls: sim.counters.api - before };
}

export function byKey(records: Rec[], field: string): Map<string, Rec> {
  return new Map(records.map((r) => [String(r[field]), r]));
}

/** Records of every object the pack writes: what "no DML" is checked against. */
export function writtenRecords(sim: SalesforceSimulator): number {
  return ["Account", "Contact", "Product2", "PricebookEntry", "Order", "OrderItem", "Note"].reduce(
    (n, type) => n + sim.db.records(type, { includeDeleted: true }).length,
    0,
  );
}

/**
 * An order a test edited (quantities, items removed), its totals brought back in line as Magento
 * would store them: the edited rows' `row_total`, then subtotal, discount, tax and grand_total by
 * what the sellable lines changed. Without it the pack holds the order: its amounts do not add up.
 */
export function rebalanced(order: MagentoOrder, before: MagentoOrder): MagentoOrder {
  for (const row of order.items) {
    const old = before.items.find((i) => i.item_id === row.item_id);
    if (old && old.qty_ordered !== row.qty_ordered) row.row_total = round2(row.price * row.qty_ordered);
  }
  const totals = (o: MagentoOrder) => {
    const lines = lineItems(o);
    const add = (pick: (l: (typeof lines)[number]) => number) => lines.reduce((s, l) => s + pick(l), 0);
    return {
      rows: add((l) => l.rowTotal),
      discount: add((l) => l.discountAmount),
      tax: add((l) => l.taxAmount),
    };
  };
  const [now, then] = [totals(order), totals(before)];
  order.subtotal = round2((order.subtotal ?? 0) + now.rows - then.rows);
  order.discount_amount = round2((order.discount_amount ?? 0) - now.discount + then.discount);
  order.tax_amount = round2((order.tax_amount ?? 0) + now.tax - then.tax);
  const change = now.rows - then.rows - (now.discount - then.discount) + (now.tax - then.tax);
  order.grand_total = round2(order.grand_total + change);
  return order;
}

const round2 = (n: number): number => Math.round(n * 100) / 100;
