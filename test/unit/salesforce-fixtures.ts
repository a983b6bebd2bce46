/**
 * Shared setup of the Salesforce tests: a simulator with the custom fields the pack needs, a
 * session for each OAuth grant, realistic Magento orders, and cleanup of everything started.
 */
import type { MagentoOrder } from "../../src/magento/schema";
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
