/**
 * The flow a shop runs, for the real-Node-RED parts of the reliability suite: Magento orders
 * pulled on a timer, through sync-filter, into Tryton and Salesforce, every result and failure
 * to a debug node. Credentials are given separately (Node-RED stores them encrypted).
 */
import type { SalesforceSimulator } from "../../src/sandbox/salesforce";
import type { ImportSettings } from "../../src/tryton/sale-import";
import type { SalesforceCredentials } from "../../src/salesforce/session";
import type { RetryDef } from "../../src/nodes/shared/node-queue";

export interface FlowTargets {
  magentoUrl: string;
  magentoToken: string;
  tryton?: { url: string; database: string; username: string; password: string; settings: ImportSettings };
  salesforce?: { url: string; credentials: SalesforceCredentials };
  /** Seconds between pulls (default 1). */
  pollSeconds?: number;
  pageSize?: number;
  /** Distinguishes the node ids of two flows (default "rel"). */
  prefix?: string;
  /** Settings of salesforce-order-out over the defaults below (e.g. defaultStatus). */
  salesforceSettings?: Record<string, unknown>;
  /** Sync queue retry settings of both target nodes (dialog units: seconds, minutes). */
  retry?: RetryDef;
  /** Client timeouts in seconds (defaults: Magento 30, Tryton 120). */
  magentoTimeout?: number;
  trytonTimeout?: number;
  /** A node put between the intake and the filter (e.g. a function node), without id and wires. */
  between?: Record<string, unknown>;
}

/** Quick retries for tests: first after 0.5 s, at most every 3 s, 3 s after a daily limit. */
export const FAST_QUEUE: RetryDef = { retryFirst: 0.5, retryMax: 0.05, limitWait: 0.05 };

export function salesforceCredentials(sim: SalesforceSimulator): SalesforceCredentials {
  const c = sim.credentials;
  return {
    clientId: c.clientId,
    clientSecret: c.clientSecret,
    username: c.username,
    password: c.password,
    securityToken: c.securityToken,
  };
}

/** Nodes and credentials (by node id) of the shop's flow. */
export function shopFlow(t: FlowTargets): {
  flows: object[];
  credentials: Record<string, object>;
  ids: Record<string, string>;
} {
  const p = t.prefix ?? "rel";
  const ids = {
    tab: `${p}-tab`,
    magento: `${p}-magento-cfg`,
    intake: `${p}-intake`,
    filter: `${p}-filter`,
    trytonCfg: `${p}-tryton-cfg`,
    tryton: `${p}-tryton-out`,
    salesforceCfg: `${p}-salesforce-cfg`,
    salesforce: `${p}-salesforce-out`,
    debug: `${p}-debug`,
    between: `${p}-between`,
  };
  const writers = [...(t.tryton ? [ids.tryton] : []), ...(t.salesforce ? [ids.salesforce] : [])];
  const flows: object[] = [
    { id: ids.tab, type: "tab", label: "reliability" },
    {
      id: ids.magento,
      type: "magento-config",
      name: "shop",
      baseUrl: t.magentoUrl,
      storeCode: "default",
      authMode: "bearer",
      timeout: t.magentoTimeout ?? 30,
      pageSize: t.pageSize ?? 50,
      rejectUnauthorized: true,
      ca: "",
    },
    {
      id: ids.intake,
      type: "magento-order-in",
      z: ids.tab,
      name: "orders",
      magento: ids.magento,
      autoSync: true,
      interval: t.pollSeconds ?? 1,
      intervalUnit: "s",
      x: 150,
      y: 100,
      wires: [[t.between ? ids.between : ids.filter], [ids.debug]],
    },
    ...(t.between
      ? [{ ...t.between, id: ids.between, z: ids.tab, x: 250, y: 160, wires: [[ids.filter]] }]
      : []),
    {
      id: ids.filter,
      type: "sync-filter",
      z: ids.tab,
      zeroGrandTotal: "synchronize",
      syncAllOrders: "yes",
      statuses: [],
      storeViews: "all",
      storeIds: [],
      customerGroups: "all",
      customerGroupIds: [],
      paidOnly: false,
      x: 350,
      y: 100,
      wires: [writers, [ids.debug]],
    },
    {
      id: ids.debug,
      type: "debug",
      z: ids.tab,
      name: "results",
      active: true,
      tosidebar: true,
      console: false,
      tostatus: false,
      complete: "payload",
      targetType: "msg",
      x: 800,
      y: 200,
      wires: [],
    },
  ];
  const credentials: Record<string, object> = { [ids.magento]: { token: t.magentoToken } };
  if (t.tryton) {
    flows.push(
      {
        id: ids.trytonCfg,
        type: "tryton-config",
        name: "erp",
        url: t.tryton.url,
        database: t.tryton.database,
        language: "en",
        company: "",
        timeout: t.trytonTimeout ?? 120,
      },
      {
        id: ids.tryton,
        type: "tryton-sale-out",
        z: ids.tab,
        name: "sales",
        tryton: ids.trytonCfg,
        shippingProduct: "SHIPPING",
        discountProduct: "DISCOUNT",
        taxMap: JSON.stringify(t.tryton.settings.taxMap ?? {}),
        bundle: "parent",
        referencePrefix: t.tryton.settings.referencePrefix ?? "",
        timeZone: "UTC",
        stateMap: typeof t.tryton.settings.stateMap === "string" ? t.tryton.settings.stateMap : "",
        mismatch: "hold",
        accountCategory: "",
        productType: "auto",
        ...t.retry,
        x: 600,
        y: 60,
        wires: [[], [ids.debug]],
      },
    );
    credentials[ids.trytonCfg] = { username: t.tryton.username, password: t.tryton.password };
  }
  if (t.salesforce) {
    flows.push(
      {
        id: ids.salesforceCfg,
        type: "salesforce-config",
        name: "crm",
        loginUrl: "custom",
        customUrl: t.salesforce.url,
        apiVersion: "60.0",
        authMode: "password",
      },
      {
        id: ids.salesforce,
        type: "salesforce-order-out",
        z: ids.tab,
        name: "crm orders",
        salesforce: ids.salesforceCfg,
        defaultStatus: "Draft",
        statusMap: "",
        activatedOrders: "report",
        updateOrders: true,
        syncNotes: true,
        pricebook: "",
        accountMatch: "email",
        contacts: true,
        instanceKey: "magento",
        orderKeyField: "Magento_Order_Key__c",
        itemKeyField: "Magento_Item_Key__c",
        accountKeyField: "Magento_Customer_Key__c",
        contactKeyField: "Magento_Customer_Key__c",
        skuField: "Magento_Sku__c",
        hashField: "Magento_Sync_Hash__c",
        shippingSku: "MAGENTO-SHIPPING",
        discountSku: "MAGENTO-DISCOUNT",
        taxSku: "MAGENTO-TAX",
        roundingSku: "MAGENTO-ROUNDING",
        bundle: "parent",
        amounts: "order",
        timeZone: "UTC",
        ...t.retry,
        ...t.salesforceSettings,
        x: 600,
        y: 140,
        wires: [[], [ids.debug]],
      },
    );
    credentials[ids.salesforceCfg] = t.salesforce.credentials;
  }
  return { flows, credentials, ids };
}
