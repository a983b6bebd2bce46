/**
 * Salesforce for the reliability suite: the strict simulator with the fields the pack needs
 * (several currencies, so that an unknown currency is refused per order), and a pusher that
 * talks to it. Everything started here is stopped by `stopSalesforce()`.
 */
import { minorUnitStep, payableOf } from "../../src/magento/order-amounts";
import { amount, amountText } from "../../src/sync/amounts";
import { lineItems, type MagentoOrder } from "../../src/magento/schema";
import { OrderPusher } from "../../src/salesforce/order-pusher";
import { SalesforceSession } from "../../src/salesforce/session";
import type { PushSettingsInput } from "../../src/salesforce/settings";
import {
  startSalesforceSimulator,
  type SalesforceSimulator,
  type SalesforceSimulatorOptions,
} from "../../src/sandbox/salesforce";
import type { TargetReport } from "./reliability-shop";

// jsforce reads the proxy variables when it is loaded and ignores NO_PROXY.
for (const name of ["http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"]) delete process.env[name];

const started: { sims: SalesforceSimulator[]; sessions: SalesforceSession[] } = { sims: [], sessions: [] };

export async function salesforceSimulator(
  options: SalesforceSimulatorOptions = {},
): Promise<SalesforceSimulator> {
  const sim = await startSalesforceSimulator({
    multiCurrency: true,
    currencies: ["USD", "EUR", "GBP"],
    customFields: { Order: [{ name: "Magento_Sync_Hash__c", length: 64 }] },
    ...options,
  });
  started.sims.push(sim);
  return sim;
}

export function salesforceSession(
  sim: SalesforceSimulator,
  loginUrl = sim.url,
  requestTimeoutMs?: number,
): SalesforceSession {
  const c = sim.credentials;
  const session = new SalesforceSession({
    loginUrl,
    apiVersion: "60.0",
    authMode: "password",
    ...(requestTimeoutMs ? { requestTimeoutMs } : {}),
    credentials: {
      clientId: c.clientId,
      clientSecret: c.clientSecret,
      username: c.username,
      password: c.password,
      securityToken: c.securityToken,
    },
  });
  started.sessions.push(session);
  return session;
}

export function salesforcePusher(sim: SalesforceSimulator, settings: PushSettingsInput = {}): OrderPusher {
  return new OrderPusher(salesforceSession(sim), {
    retry: { attempts: 5, baseDelayMs: 5, maxDelayMs: 50 },
    ...settings,
  });
}

export async function stopSalesforce(): Promise<void> {
  await Promise.allSettled(started.sessions.splice(0).map((s) => s.close()));
  await Promise.allSettled(started.sims.splice(0).map((s) => s.stop()));
}

type Rec = Record<string, unknown>;

/**
 * Each order against the simulated org: exactly one Order by key with Magento's name, reference,
 * total and items (quantity, unit price); no Account, Product or item key written twice.
 */
export function checkSalesforce(
  sim: SalesforceSimulator,
  orders: MagentoOrder[],
): TargetReport & { duplicateRecords: string[] } {
  const report: TargetReport & { duplicateRecords: string[] } = {
    orders: orders.length,
    present: 0,
    lost: [],
    duplicated: [],
    wrong: [],
    unexpected: [],
    duplicateRecords: [],
  };
  const byKey = new Map<string, Rec[]>();
  for (const o of sim.db.records("Order")) {
    const key = String(o.Magento_Order_Key__c);
    byKey.set(key, [...(byKey.get(key) ?? []), o]);
  }
  const itemsByOrder = new Map<string, Rec[]>();
  for (const item of sim.db.records("OrderItem")) {
    const id = String(item.OrderId);
    itemsByOrder.set(id, [...(itemsByOrder.get(id) ?? []), item]);
  }
  const accounts = new Map(sim.db.records("Account").map((a) => [String(a.Id), a]));
  for (const [type, field] of [
    ["Account", "Magento_Customer_Key__c"],
    ["Product2", "Magento_Sku__c"],
    ["OrderItem", "Magento_Item_Key__c"],
  ] as const) {
    const seen = new Map<string, number>();
    for (const r of sim.db.records(type)) {
      const key = String(r[field] ?? "");
      if (key) seen.set(key, (seen.get(key) ?? 0) + 1);
    }
    for (const [key, n] of seen) if (n > 1) report.duplicateRecords.push(`${type} ${key} × ${n}`);
  }
  for (const order of orders) {
    const label = `#${order.increment_id}`;
    const found = byKey.get(`magento-${order.entity_id}`) ?? [];
    if (found.length === 0) {
      report.lost.push(label);
      continue;
    }
    if (found.length > 1) {
      report.duplicated.push(`${label} × ${found.length}`);
      continue;
    }
    const sf = found[0]!;
    const wrong = (what: string) => report.wrong.push(`${label}: ${what}`);
    if (sf.Name !== `Magento #${order.increment_id}` || sf.OrderReferenceNumber !== order.increment_id) {
      wrong(`name ${String(sf.Name)}`);
      continue;
    }
    // Exactly grand_total at the currency's unit (docs/money.md).
    if (amount(Number(sf.TotalAmount)) !== payableOf(amount(order.grand_total), order.order_currency_code)) {
      wrong(`total ${String(sf.TotalAmount)}, grand_total ${order.grand_total}`);
      continue;
    }
    const account = accounts.get(String(sf.AccountId));
    if (account?.Magento_Customer_Key__c !== `email:${order.customer_email.trim().toLowerCase()}`) {
      wrong(`account ${String(account?.Magento_Customer_Key__c)}`);
      continue;
    }
    const items = new Map(
      (itemsByOrder.get(String(sf.Id)) ?? []).map((i) => [String(i.Magento_Item_Key__c), i]),
    );
    const bad = lineItems(order).find((line) => {
      const item = items.get(`magento-${order.entity_id}-${line.itemId}`);
      if (!item || item.Quantity !== line.qty) return true;
      // The unit price is Magento's price, or the row total over the quantity where the price does
      // not reproduce the row (docs/money.md), each rounded to the currency's unit (yen in the org).
      const unit = Number(item.UnitPrice);
      const half = Number(amountText(minorUnitStep(order.order_currency_code))) / 2 + 1e-9;
      return Math.abs(unit - line.price) > half && Math.abs(unit - line.rowTotal / line.qty) > half;
    });
    if (bad) {
      wrong(`item ${bad.itemId} (${bad.sku})`);
      continue;
    }
    report.present += 1;
  }
  return report;
}
