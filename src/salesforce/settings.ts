/**
 * The options of `salesforce-order-out` (seed 004 plus what a real org needs), with defaults,
 * read from loose input (a node's settings, JSON text) into `PushSettings`. A setting that
 * cannot work throws a `SalesforceError` naming it; nothing here talks to Salesforce.
 */
import { defaultRetryPolicy, type RetryPolicy } from "../sync/retry";
import { SalesforceError } from "./errors";
import { COLLECTION_LIMIT } from "./composite";
import { isApiName } from "./soql";

export interface FieldNames {
  /** Order external-ID field holding `<instance>-<entity_id>`. */
  orderKey: string;
  /** OrderItem external-ID field holding `<order key>-<item_id>` (or `-shipping`, `-discount`, `-tax`, `-rounding`). */
  itemKey: string;
  /** Account external-ID field holding the customer key (see `accountMatch`). */
  accountKey: string;
  /** Contact external-ID field holding the same customer key. */
  contactKey: string;
  /** Product2 external-ID field holding the Magento SKU. */
  sku: string;
  /** Order text field (≥ 40 characters) holding the content hash of what was last written. */
  hash: string;
}

export interface PushSettings {
  /** Status of new orders and of orders being changed; must be in the Draft status group. */
  defaultStatus: string;
  /** Magento status → Salesforce Order status (API name or label). Unmapped statuses use `defaultStatus`. */
  statusMap: Record<string, string>;
  /** An order already activated in Salesforce whose Magento data changed: report it, or reopen it (back to Default Status), update and re-activate. */
  activatedOrders: "report" | "reopen";
  /** Seed 004 "Update Order Info": changed orders are rewritten; off = existing orders are left alone. */
  updateOrders: boolean;
  /** Seed 004 "Synchronize Order Notes": Magento status-history comments become Notes on the Order. */
  syncNotes: boolean;
  /** Price book name or Id; empty = the standard price book. */
  pricebook: string;
  /** `email`: one Account per e-mail address (guests included); `customer`: registered customers by customer id, guests by e-mail. */
  accountMatch: "email" | "customer";
  /** Also keep a Contact per customer (e-mail, phone, mailing address) and set it as the order's bill-to/ship-to contact. */
  contacts: boolean;
  /** Names this Magento installation in every key (several shops can feed one org). */
  instanceKey: string;
  fields: FieldNames;
  /** Product SKUs of the fee lines; empty = no such line. */
  shippingSku: string;
  discountSku: string;
  taxSku: string;
  /**
   * Product SKU of the rounding line: what the lines, rounded to the decimals the org holds, miss
   * of Magento's grand total (order-amounts.ts); empty = no such line (the Order total may then
   * differ from the grand total by that rounding).
   */
  roundingSku: string;
  /** Dynamic bundles: one line for the bundle (`parent`) or one per component (`children`). */
  bundle: "parent" | "children";
  /** Which Magento amounts to write: the order currency (default) or the base currency. */
  amounts: "order" | "base";
  /** Time zone for the Order Start Date (Magento dates are UTC). */
  timeZone: string;
  /** Orders per lookup/write round (≤ 200, one collection call per object). */
  batchSize: number;
  retry: RetryPolicy;
}

export const DEFAULT_FIELDS: Readonly<FieldNames> = Object.freeze({
  orderKey: "Magento_Order_Key__c",
  itemKey: "Magento_Item_Key__c",
  accountKey: "Magento_Customer_Key__c",
  contactKey: "Magento_Customer_Key__c",
  sku: "Magento_Sku__c",
  hash: "Magento_Sync_Hash__c",
});

export const defaultPushSettings: Readonly<PushSettings> = Object.freeze({
  defaultStatus: "Draft",
  statusMap: {},
  activatedOrders: "report",
  updateOrders: true,
  syncNotes: true,
  pricebook: "",
  accountMatch: "email",
  contacts: true,
  instanceKey: "magento",
  fields: DEFAULT_FIELDS,
  shippingSku: "MAGENTO-SHIPPING",
  discountSku: "MAGENTO-DISCOUNT",
  taxSku: "MAGENTO-TAX",
  roundingSku: "MAGENTO-ROUNDING",
  bundle: "parent",
  amounts: "order",
  timeZone: "UTC",
  batchSize: COLLECTION_LIMIT,
  retry: defaultRetryPolicy,
});

export type PushSettingsInput = Partial<Omit<PushSettings, "statusMap" | "fields" | "retry">> & {
  statusMap?: Record<string, string> | string;
  fields?: Partial<FieldNames>;
  retry?: Partial<RetryPolicy>;
};

function problem(message: string): SalesforceError {
  return new SalesforceError("config", message);
}

/** `{"complete": "Activated"}` as an object or JSON text; blank text = no map. */
export function statusMapFrom(value: Record<string, string> | string | undefined): Record<string, string> {
  if (value === undefined) return {};
  let raw: unknown = value;
  if (typeof value === "string") {
    if (value.trim() === "") return {};
    try {
      raw = JSON.parse(value);
    } catch (err) {
      throw problem(
        `The status map is not valid JSON (${(err as Error).message}); expected {"complete": "Activated", …}.`,
      );
    }
  }
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) {
    throw problem('The status map must be an object like {"complete": "Activated"}.');
  }
  const out: Record<string, string> = {};
  for (const [magento, salesforce] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof salesforce !== "string" || salesforce.trim() === "") {
      throw problem(`The status map entry "${magento}" needs a Salesforce status name.`);
    }
    out[magento.trim()] = salesforce.trim();
  }
  return out;
}

export function checkTimeZone(zone: string): string {
  try {
    new Intl.DateTimeFormat("en-CA", { timeZone: zone });
    return zone;
  } catch {
    throw problem(`Unknown time zone "${zone}" (use an IANA name such as Europe/Paris or UTC).`);
  }
}

const text = (v: unknown, fallback: string): string =>
  typeof v === "string" && v.trim() !== "" ? v.trim() : fallback;

export function pushSettings(input: PushSettingsInput = {}): PushSettings {
  const d = defaultPushSettings;
  const fields: FieldNames = { ...DEFAULT_FIELDS };
  for (const [k, v] of Object.entries(input.fields ?? {})) {
    if (typeof v === "string" && v.trim() !== "") fields[k as keyof FieldNames] = v.trim();
  }
  for (const [k, name] of Object.entries(fields)) {
    if (!isApiName(name))
      throw problem(`The ${k} field "${name}" is not a Salesforce API name (e.g. Magento_Order_Key__c).`);
  }
  const instanceKey = text(input.instanceKey, d.instanceKey);
  if (!/^[A-Za-z0-9_.:-]{1,20}$/.test(instanceKey)) {
    throw problem(
      `The Magento instance key "${instanceKey}" must be 1–20 letters, digits, "-", "_", "." or ":".`,
    );
  }
  const batchSize = Math.floor(Number(input.batchSize ?? d.batchSize));
  const sku = (v: unknown, fallback: string): string => (typeof v === "string" ? v.trim() : fallback);
  return {
    defaultStatus: text(input.defaultStatus, d.defaultStatus),
    statusMap: statusMapFrom(input.statusMap),
    activatedOrders: input.activatedOrders === "reopen" ? "reopen" : "report",
    updateOrders: input.updateOrders ?? d.updateOrders,
    syncNotes: input.syncNotes ?? d.syncNotes,
    pricebook: typeof input.pricebook === "string" ? input.pricebook.trim() : "",
    accountMatch: input.accountMatch === "customer" ? "customer" : "email",
    contacts: input.contacts ?? d.contacts,
    instanceKey,
    fields,
    shippingSku: sku(input.shippingSku, d.shippingSku),
    discountSku: sku(input.discountSku, d.discountSku),
    taxSku: sku(input.taxSku, d.taxSku),
    roundingSku: sku(input.roundingSku, d.roundingSku),
    bundle: input.bundle === "children" ? "children" : "parent",
    amounts: input.amounts === "base" ? "base" : "order",
    timeZone: checkTimeZone(text(input.timeZone, d.timeZone)),
    batchSize:
      Number.isFinite(batchSize) && batchSize > 0 ? Math.min(COLLECTION_LIMIT, batchSize) : d.batchSize,
    retry: { ...d.retry, ...(input.retry ?? {}) },
  };
}
