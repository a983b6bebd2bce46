/**
 * Salesforce for the reliability suite: the strict simulator with the fields the pack needs
 * (several currencies, so that an unknown currency is refused per order), and a pusher that
 * talks to it. Everything started here is stopped by `stopSalesforce()`.
 */
import { OrderPusher } from "../../src/salesforce/order-pusher";
import { SalesforceSession } from "../../src/salesforce/session";
import type { PushSettingsInput } from "../../src/salesforce/settings";
import {
  startSalesforceSimulator,
  type SalesforceSimulator,
  type SalesforceSimulatorOptions,
} from "../../src/sandbox/salesforce";

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
