/**
 * The setup check: before any order is sent (and from the editor), read what the org has and
 * refuse settings that cannot work, telling the admin exactly what to create or change.
 *
 * One composite request (one API call): describe of every object written, the OrderStatus
 * picklist with status categories, and the price books. Checks:
 * - the API version is served by the org;
 * - every external-ID field exists, is Text, is marked External ID and is long enough
 *   (Unique is recommended: a warning when it is not), and the hash field exists when
 *   "Update Order Info" is on; the integration user can write them;
 * - Default Status exists and is in the **Draft** status group (seed 004: an Activated-group
 *   default status makes every order fail with "Choose a valid status…");
 * - every status in the status map exists;
 * - the chosen price book exists and is active.
 * It also reads whether the org has State and Country/Territory Picklists (Account has
 * BillingCountryCode): then addresses are written as codes (`addressCodes`, a warning says so);
 * and the decimals amounts are held with (order-amounts.ts): the scale of OrderItem.UnitPrice
 * from its describe and, in multi-currency orgs, each active currency's DecimalPlaces
 * (CurrencyType, queried in the same composite; single-currency orgs have no such object and
 * answer that subrequest with an error, which is expected).
 */
import type { Connection } from "jsforce";
import { SalesforceError, SetupError, messageOf } from "./errors";
import type { OrgPrecision } from "./order-amounts";
import type { AddressCodes } from "./order-mapping";
import type { OrderStatusInfo } from "./session";
import type { PushSettings } from "./settings";
import { retryTransient } from "./retry";
import { quote } from "./soql";

export interface OrgSetup extends OrgPrecision {
  statuses: OrderStatusInfo[];
  defaultStatus: OrderStatusInfo;
  /** Magento status → Salesforce status, resolved to API names. */
  statusMap: Map<string, OrderStatusInfo>;
  standardPricebookId: string;
  pricebookId: string;
  pricebookName: string;
  /** The org has multiple currencies enabled (CurrencyIsoCode on Order). */
  multiCurrency: boolean;
  /** Active currency codes (multi-currency orgs only). */
  currencies: string[];
  /** The Order has the sync-hash field (required with Update Order Info, used when present otherwise). */
  hasHashField: boolean;
  /**
   * State and Country/Territory Picklists are on: the country and state codes the org accepts
   * (addresses are then written as `<prefix>CountryCode` / `<prefix>StateCode`).
   */
  addressCodes?: AddressCodes;
  /** Things that work but deserve the admin's attention. */
  warnings: string[];
}

interface DescribeField {
  name: string;
  type: string;
  length: number;
  /** Decimal places of a number or currency field. */
  scale?: number;
  externalId: boolean;
  unique: boolean;
  createable: boolean;
  updateable: boolean;
  picklistValues?: { value: string; label?: string; active: boolean; validFor?: string | null }[];
  controllerName?: string | null;
}

interface Describe {
  name: string;
  createable: boolean;
  fields: DescribeField[];
}

interface FieldRequirement {
  object: string;
  field: string;
  label: string;
  /** What to create, e.g. "Text(80), External ID, Unique". */
  spec: string;
  externalId: boolean;
  minLength: number;
}

/** The custom fields the pack writes with the current settings: what the admin must create. */
export function requiredFields(settings: PushSettings): FieldRequirement[] {
  const f = settings.fields;
  const key = (object: string, field: string, label: string, length: number): FieldRequirement => ({
    object,
    field,
    label,
    spec: `Text(${length}), External ID, Unique (case insensitive)`,
    externalId: true,
    minLength: Math.min(length, 80),
  });
  const list = [
    key("Order", f.orderKey, "Magento Order Key", 80),
    key("OrderItem", f.itemKey, "Magento Item Key", 100),
    key("Account", f.accountKey, "Magento Customer Key", 255),
    key("Product2", f.sku, "Magento SKU", 255),
  ];
  if (settings.contacts) list.push(key("Contact", f.contactKey, "Magento Customer Key", 255));
  if (settings.updateOrders) {
    list.push({
      object: "Order",
      field: f.hash,
      label: "Magento Sync Hash",
      spec: "Text(64) (not External ID)",
      externalId: false,
      minLength: 40,
    });
  }
  return list;
}

const where = (object: string): string =>
  `Setup → Object Manager → ${object === "OrderItem" ? "Order Product" : object} → Fields & Relationships → New`;

function checkField(
  req: FieldRequirement,
  describe: Describe | undefined,
  problems: string[],
  warnings: string[],
): void {
  if (!describe) return;
  const field = describe.fields.find((x) => x.name.toLowerCase() === req.field.toLowerCase());
  const name = `${req.object}.${req.field}`;
  if (!field) {
    problems.push(
      `On ${req.object}, create the custom field "${req.label}" with API name ${req.field}: ${req.spec} (${where(req.object)}), and give the integration user edit access to it.`,
    );
    return;
  }
  if (field.type !== "string") {
    problems.push(
      `${name} is a ${field.type} field; it must be a Text field (${req.spec}). Create it again as Text.`,
    );
    return;
  }
  if (req.externalId && !field.externalId) {
    problems.push(`${name} is not marked External ID: edit the field and tick "External ID" (and "Unique").`);
  }
  if (field.length < req.minLength) {
    problems.push(
      `${name} holds ${field.length} characters; it needs at least ${req.minLength}: edit its length.`,
    );
  }
  if (!field.createable || !field.updateable) {
    problems.push(`The integration user cannot edit ${name}: give it edit access (field-level security).`);
  }
  if (req.externalId && !field.unique) {
    warnings.push(
      `${name} is not marked Unique: duplicates cannot be ruled out by Salesforce; tick "Unique".`,
    );
  }
}

/**
 * The codes of an org with State and Country/Territory Picklists, from Account's
 * BillingCountryCode and BillingStateCode (same lists on every address); undefined without
 * picklists. A state's `validFor` bitmap says which countries (by index in the country
 * picklist, most significant bit first) it belongs to; without it the states count for any country.
 */
export function addressCodesOf(account: Describe | undefined): AddressCodes | undefined {
  const countryField = account?.fields.find((f) => f.name === "BillingCountryCode");
  if (!countryField) return undefined;
  const countryValues = countryField.picklistValues ?? [];
  const countries = new Set(countryValues.filter((v) => v.active).map((v) => v.value));
  const states = new Map<string, Map<string, string>>();
  const add = (country: string, code: string, label: string) => {
    const list = states.get(country) ?? new Map<string, string>();
    list.set(code, label);
    states.set(country, list);
  };
  const stateField = account?.fields.find((f) => f.name === "BillingStateCode");
  for (const v of stateField?.picklistValues ?? []) {
    if (!v.active) continue;
    const label = v.label ?? v.value;
    if (!v.validFor) {
      add("*", v.value, label);
      continue;
    }
    const bits = Buffer.from(v.validFor, "base64");
    countryValues.forEach((c, i) => {
      if (c.active && ((bits[i >> 3] ?? 0) & (0x80 >> (i & 7))) !== 0) add(c.value, v.value, label);
    });
  }
  return { countries, states };
}

function addressCodesWarning(codes: AddressCodes): string {
  const withStates = [...codes.states.keys()].filter((c) => c !== "*");
  return (
    `This org uses State and Country/Territory Picklists: addresses are written as ISO codes ` +
    `(BillingCountryCode, BillingStateCode, ShippingCountryCode, ShippingStateCode, MailingCountryCode, MailingStateCode) ` +
    `and Salesforce fills the country and state names. A Magento region that is not a state of its country in ` +
    `Salesforce (${withStates.length > 0 ? `states are set up for ${withStates.sort().join(", ")}` : "no states are set up"}) ` +
    `is left out of the address, the order is still written; an order whose country is not active in the ` +
    `picklist fails (activate the country: Setup → State and Country/Territory Picklists).`
  );
}

/** Finds a status by API name or label (case-insensitive), as an admin may type either. */
export function findStatus(statuses: OrderStatusInfo[], name: string): OrderStatusInfo | undefined {
  const lower = name.toLowerCase();
  return (
    statuses.find((s) => s.apiName === name) ??
    statuses.find((s) => s.apiName.toLowerCase() === lower || s.label.toLowerCase() === lower)
  );
}

export function statusList(statuses: OrderStatusInfo[]): string {
  return statuses.map((s) => `${s.apiName} (${s.statusCode})`).join(", ");
}

/** The Default Status rule of seed 004, as the problem text (or undefined when fine). */
export function defaultStatusProblem(statuses: OrderStatusInfo[], name: string): string | undefined {
  const status = findStatus(statuses, name);
  if (!status) {
    return `Default Status "${name}" is not an Order status of this org; it has: ${statusList(statuses)}.`;
  }
  if (status.statusCode !== "Draft") {
    const drafts = statuses.filter((s) => s.statusCode === "Draft").map((s) => s.apiName);
    return (
      `Default Status "${status.apiName}" is in Salesforce's ${status.statusCode} status group, but new and changed orders ` +
      `must be written in a Draft-group status (${drafts.join(", ")}); Salesforce would refuse every order with ` +
      `"Choose a valid status and save your changes. For a new or cloned order, choose Draft. An Activated order's status can't be edited." ` +
      `Choose a Draft-group Default Status; map Magento statuses to Activated statuses in the status map instead.`
    );
  }
  return undefined;
}

interface CompositeItem {
  body: unknown;
  httpStatusCode: number;
  referenceId: string;
}

function errorOf(item: CompositeItem | undefined): string {
  const first = Array.isArray(item?.body)
    ? (item?.body[0] as { errorCode?: string; message?: string })
    : undefined;
  return first ? `${first.errorCode}: ${first.message}` : `HTTP ${item?.httpStatusCode ?? "?"}`;
}

const looksLikeId = (value: string): boolean => /^01s[A-Za-z0-9]{12}([A-Za-z0-9]{3})?$/.test(value);

/** Runs the check; resolves with what the pusher needs, or rejects with a `SetupError` listing every problem. */
export async function checkSetup(conn: Connection, settings: PushSettings): Promise<OrgSetup> {
  const versions = (await conn.request({ method: "GET", url: "/services/data" })) as { version: string }[];
  if (!versions.some((v) => v.version === conn.version)) {
    throw new SetupError([
      `This org does not serve API version ${conn.version}; choose one of ${versions.map((v) => v.version).join(", ")} in the Salesforce configuration.`,
    ]);
  }
  const base = `/services/data/v${conn.version}`;
  const objects = ["Order", "OrderItem", "Account", "Product2"];
  if (settings.contacts) objects.push("Contact");
  if (settings.syncNotes) objects.push("Note");
  const pricebookFilter = settings.pricebook
    ? ` OR ${looksLikeId(settings.pricebook) ? "Id" : "Name"} = ${quote(settings.pricebook)}`
    : "";
  const queries = {
    statuses:
      "SELECT ApiName, MasterLabel, StatusCode, IsDefault, SortOrder FROM OrderStatus ORDER BY SortOrder",
    pricebooks: `SELECT Id, Name, IsActive, IsStandard FROM Pricebook2 WHERE IsStandard = true${pricebookFilter}`,
    currencies: "SELECT IsoCode, DecimalPlaces FROM CurrencyType WHERE IsActive = true",
  };
  const compositeRequest = [
    ...objects.map((o) => ({ method: "GET", url: `${base}/sobjects/${o}/describe`, referenceId: `d_${o}` })),
    ...Object.entries(queries).map(([ref, soql]) => ({
      method: "GET",
      url: `${base}/query?q=${encodeURIComponent(soql)}`,
      referenceId: `q_${ref}`,
    })),
  ];
  // Only reads inside, so it is safe to repeat on a 5xx or network error.
  const response = (await retryTransient(
    () => conn.requestPost("/composite", { allOrNone: false, compositeRequest }),
    settings.retry,
  )) as { compositeResponse?: CompositeItem[] } | null;
  // jsforce hands back text or other JSON when the body is not what the API sends.
  if (!response || typeof response !== "object" || !Array.isArray(response.compositeResponse))
    throw new TypeError("the composite answer has no compositeResponse list");
  const byRef = new Map(response.compositeResponse.map((r) => [r?.referenceId, r]));
  const problems: string[] = [];
  const warnings: string[] = [];

  const describes = new Map<string, Describe>();
  for (const o of objects) {
    const item = byRef.get(`d_${o}`);
    if (item && item.httpStatusCode === 200) describes.set(o, item.body as Describe);
    else if (o === "Order" || o === "OrderItem") {
      problems.push(
        `The ${o} object is not available (${errorOf(item)}): enable Orders (Setup → Order Settings → Enable Orders) and give the integration user access to Orders.`,
      );
    } else problems.push(`The integration user cannot use ${o} (${errorOf(item)}).`);
  }
  for (const [o, d] of describes) {
    if (!d.createable)
      problems.push(`The integration user cannot create ${o} records: grant Create on ${o}.`);
  }
  for (const req of requiredFields(settings)) checkField(req, describes.get(req.object), problems, warnings);

  const statusItem = byRef.get("q_statuses");
  let statuses: OrderStatusInfo[] = [];
  if (statusItem?.httpStatusCode === 200) {
    const rows = (
      statusItem.body as {
        records: { ApiName: string; MasterLabel: string; StatusCode: string; IsDefault: boolean }[];
      }
    ).records;
    statuses = rows.map((r) => ({
      apiName: r.ApiName,
      label: r.MasterLabel,
      statusCode: r.StatusCode,
      isDefault: r.IsDefault === true,
    }));
  } else {
    problems.push(`The Order statuses could not be read (${errorOf(statusItem)}).`);
  }
  const statusMap = new Map<string, OrderStatusInfo>();
  let defaultStatus: OrderStatusInfo | undefined;
  if (statuses.length > 0) {
    const bad = defaultStatusProblem(statuses, settings.defaultStatus);
    if (bad) problems.push(bad);
    else defaultStatus = findStatus(statuses, settings.defaultStatus);
    for (const [magento, name] of Object.entries(settings.statusMap)) {
      const status = findStatus(statuses, name);
      if (!status) {
        problems.push(
          `The status map sends Magento "${magento}" to "${name}", which is not an Order status of this org (${statusList(statuses)}).`,
        );
      } else statusMap.set(magento, status);
    }
  }

  const pbItem = byRef.get("q_pricebooks");
  let standardPricebookId = "";
  let pricebookId = "";
  let pricebookName = "";
  if (pbItem?.httpStatusCode === 200) {
    const rows = (
      pbItem.body as { records: { Id: string; Name: string; IsActive: boolean; IsStandard: boolean }[] }
    ).records;
    const standard = rows.find((r) => r.IsStandard);
    if (!standard) problems.push("The org has no standard price book.");
    else standardPricebookId = standard.Id;
    const chosen = settings.pricebook
      ? rows.find(
          (r) =>
            r.Id === settings.pricebook ||
            r.Id.slice(0, 15) === settings.pricebook.slice(0, 15) ||
            r.Name === settings.pricebook,
        )
      : standard;
    if (settings.pricebook && !chosen) {
      problems.push(
        `The price book "${settings.pricebook}" does not exist (give its exact name or Id, or leave it empty for the standard price book).`,
      );
    } else if (chosen) {
      pricebookId = chosen.Id;
      pricebookName = chosen.Name;
      if (!chosen.IsActive)
        problems.push(
          `The price book "${chosen.Name}" is inactive: activate it in Salesforce or choose another one.`,
        );
    }
  } else {
    problems.push(`The price books could not be read (${errorOf(pbItem)}).`);
  }

  if (problems.length > 0) throw new SetupError(problems);
  const orderFields = describes.get("Order")?.fields ?? [];
  const currencyField = orderFields.find((f) => f.name === "CurrencyIsoCode");
  const hashName = settings.fields.hash.toLowerCase();
  const hashField = orderFields.find(
    (f) => f.name.toLowerCase() === hashName && f.type === "string" && f.length >= 40,
  );
  const addressCodes = addressCodesOf(describes.get("Account"));
  if (addressCodes) warnings.push(addressCodesWarning(addressCodes));
  const amountScale = describes.get("OrderItem")?.fields.find((f) => f.name === "UnitPrice")?.scale ?? 2;
  const currencyDecimals = new Map<string, number>();
  const currencyItem = byRef.get("q_currencies");
  if (currencyField && currencyItem?.httpStatusCode === 200) {
    const rows = (currencyItem.body as { records: { IsoCode: string; DecimalPlaces: number }[] }).records;
    for (const r of rows) currencyDecimals.set(r.IsoCode.toUpperCase(), r.DecimalPlaces);
  } else if (currencyField) {
    warnings.push(
      `The decimal places of this org's currencies could not be read (${errorOf(currencyItem)}): amounts are ` +
        `written with the ${amountScale} decimal places of the Order Product's Unit Price.`,
    );
  }
  return {
    statuses,
    defaultStatus: defaultStatus as OrderStatusInfo,
    statusMap,
    standardPricebookId,
    pricebookId,
    pricebookName,
    multiCurrency: currencyField !== undefined,
    currencies: (currencyField?.picklistValues ?? []).filter((v) => v.active).map((v) => v.value),
    hasHashField: hashField !== undefined && hashField.updateable,
    amountScale,
    currencyDecimals,
    ...(addressCodes ? { addressCodes } : {}),
    warnings,
  };
}

/** A setup check failure that is not about the org's setup (network, login) passes through as is. */
export function isSetupProblem(err: unknown): err is SetupError {
  return err instanceof SetupError;
}

export function setupMessage(err: unknown): string {
  return err instanceof SalesforceError ? err.message : messageOf(err);
}
