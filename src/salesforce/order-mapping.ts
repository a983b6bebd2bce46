/**
 * A Magento order → the Salesforce records that represent it, and the keys that make every
 * write idempotent (DESIGN.md "Idempotent by key"):
 *
 * | Salesforce | Key (external-ID field) | From Magento |
 * |---|---|---|
 * | Account | customer key: `email:<lower-case e-mail>` (default, guests included — one Account per address), or `<instance>-customer-<customer_id>` for registered customers with `accountMatch: "customer"` | company or customer name, phone, billing/shipping address |
 * | Contact (optional) | the same customer key | first/last name, e-mail, phone, billing address; linked to the Account |
 * | Order | `<instance>-<entity_id>` | Start Date (created_at in the chosen time zone), Name `Magento #<increment_id>`, Order Reference Number = increment id, addresses, price book, currency, status |
 * | OrderItem | `<order key>-<item_id>` | one per sellable line (`lineItems`: configurable once with the child's SKU, bundle once or per component): quantity, unit price excl. tax, name |
 * | OrderItem (fees) | `<order key>-shipping` / `-discount` / `-tax` | shipping amount, discount (negative, less Magento's discount tax compensation), tax — each a line on its own product (SKUs in the settings), when non-zero |
 * | OrderItem (rounding) | `<order key>-rounding` | what the lines, rounded to the decimals the org holds, miss of `grand_total` (order-amounts.ts) |
 * | Note | title starts with `Magento note <history entity_id>:` | status-history entries with a comment |
 *
 * The content hash covers what is written to the Order and its items (not Account/Contact
 * details, not notes): an order whose hash matches the one stored on the Salesforce Order is
 * unchanged and costs no call. Notes are compared with the Order's existing notes instead, so a
 * new comment on an activated order adds a note without editing the locked order.
 */
import { createHash } from "node:crypto";
import {
  isGuest,
  lineItems,
  shippingAddress,
  type MagentoAddress,
  type MagentoOrder,
} from "../magento/schema";
import { orderAmounts, payableOf } from "../magento/order-amounts";
import { abs, amount, amountText, divide, sum, type Amount } from "../sync/amounts";
import type { PushSettings } from "./settings";

export type LineKind = "item" | "shipping" | "discount" | "tax" | "rounding";

export interface WantedLine {
  key: string;
  kind: LineKind;
  sku: string;
  /** Product name for a new Product2. */
  productName: string;
  quantity: number;
  /** Magento's amount as `mapOrder` reads it; rounded to what the org holds by `fitLines` (order-amounts.ts). */
  unitPrice: number;
  description: string;
}

export interface WantedNote {
  /** `Magento note <id>:` — how an existing Note is recognised. */
  marker: string;
  title: string;
  body: string;
}

export interface WantedCustomer {
  key: string;
  account: Record<string, unknown>;
  contact: Record<string, unknown>;
}

/**
 * Orgs with State and Country/Territory Picklists (setup-check.ts reads them): addresses are
 * written as codes (`<prefix>CountryCode`, `<prefix>StateCode`), never as the text fields,
 * which Salesforce fills from the codes.
 */
export interface AddressCodes {
  /** Active country/territory codes. */
  countries: Set<string>;
  /** Country code → its active states (code → label); `*` when the org's describe gave no `validFor` (any country). */
  states: Map<string, Map<string, string>>;
}

export interface WantedOrder {
  key: string;
  customer: WantedCustomer;
  /** ISO code of the amounts written (CurrencyIsoCode in multi-currency orgs). */
  currency: string;
  /** Order fields besides the key, status, hash and parent references. */
  fields: Record<string, unknown>;
  /** Magento status, for the status map. */
  magentoStatus: string;
  lines: WantedLine[];
  /**
   * What the lines add up to in Magento, exact decimal text: `grand_total` less the fees whose
   * line is switched off (empty SKU). The Salesforce Order total must equal it.
   */
  total: string;
  /** Why Magento's own amounts do not add up, when they do not (the order is held, not written). */
  amountProblem?: string;
  /** Items not read as price × quantity (`src/magento/order-amounts.ts`), for the result. */
  readings?: string[];
  /** How `total` was taken at the currency's minor unit, when it differs from `grand_total`. */
  payableNote?: string;
  notes: WantedNote[];
}

/** Lengths of the standard text fields written (Salesforce refuses longer values with STRING_TOO_LONG). */
const LENGTH = {
  accountName: 255,
  firstName: 40,
  lastName: 80,
  email: 80,
  phone: 40,
  street: 255,
  city: 40,
  state: 80,
  postalCode: 20,
  country: 80,
  orderName: 80,
  reference: 80,
  description: 32000,
  lineDescription: 255,
  productName: 255,
  noteTitle: 80,
  noteBody: 32000,
};

/** Cut to a field's length (counting UTF-16 units, as Salesforce counts characters). */
export function clip(value: string | undefined, max: number): string | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed === "") return undefined;
  return trimmed.length <= max ? trimmed : `${trimmed.slice(0, max - 1)}…`;
}

// Building an Intl.DateTimeFormat costs ~100 µs; one per zone is kept.
const dateFormats = new Map<string, Intl.DateTimeFormat>();

function dateFormat(timeZone: string): Intl.DateTimeFormat {
  let format = dateFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-CA", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
    });
    dateFormats.set(timeZone, format);
  }
  return format;
}

/** The calendar date of a Magento UTC date-time in `timeZone`, as Salesforce wants it (`YYYY-MM-DD`). */
export function dateIn(magentoUtc: string, timeZone: string): string {
  const instant = new Date(`${magentoUtc.replace(" ", "T").slice(0, 19)}Z`);
  const parts = dateFormat(timeZone)
    .formatToParts(instant)
    .reduce<Record<string, string>>((acc, p) => ({ ...acc, [p.type]: p.value }), {});
  return `${parts.year}-${parts.month}-${parts.day}`;
}

export function orderKey(order: MagentoOrder, settings: PushSettings): string {
  return `${settings.instanceKey}-${order.entity_id}`;
}

/** See the table above: one key per e-mail address, or per registered customer. */
export function customerKey(order: MagentoOrder, settings: PushSettings): string {
  if (settings.accountMatch === "customer" && !isGuest(order) && order.customer_id !== undefined) {
    return `${settings.instanceKey}-customer-${order.customer_id}`;
  }
  return `email:${order.customer_email.trim().toLowerCase()}`;
}

/**
 * The state code to write: Magento's `region_code` when it is a state of that country in the
 * org, else the state whose name is Magento's `region` (case-insensitive), else none.
 */
export function stateCodeOf(
  a: Pick<MagentoAddress, "region" | "region_code">,
  country: string | undefined,
  codes: AddressCodes,
): string | undefined {
  if (!country) return undefined;
  const states = codes.states.get(country) ?? codes.states.get("*");
  if (!states) return undefined;
  const code = a.region_code?.trim();
  if (code) {
    if (states.has(code)) return code;
    const upper = code.toUpperCase();
    if (states.has(upper)) return upper;
  }
  const name = a.region?.trim().toLowerCase();
  if (name) for (const [c, label] of states) if (label.toLowerCase() === name) return c;
  return undefined;
}

function address(
  prefix: string,
  a: MagentoAddress | undefined,
  codes?: AddressCodes,
  lengths = LENGTH,
): Record<string, unknown> {
  if (!a) return {};
  if (codes) {
    const country = a.country_id?.trim().toUpperCase() || undefined;
    return {
      [`${prefix}Street`]: clip((a.street ?? []).join("\n"), lengths.street) ?? null,
      [`${prefix}City`]: clip(a.city, lengths.city) ?? null,
      [`${prefix}PostalCode`]: clip(a.postcode, lengths.postalCode) ?? null,
      [`${prefix}CountryCode`]: country ?? null,
      [`${prefix}StateCode`]: stateCodeOf(a, country, codes) ?? null,
    };
  }
  return {
    [`${prefix}Street`]: clip((a.street ?? []).join("\n"), lengths.street) ?? null,
    [`${prefix}City`]: clip(a.city, lengths.city) ?? null,
    [`${prefix}State`]: clip(a.region ?? a.region_code, lengths.state) ?? null,
    [`${prefix}PostalCode`]: clip(a.postcode, lengths.postalCode) ?? null,
    [`${prefix}Country`]: clip(a.country_id, lengths.country) ?? null,
  };
}

function personName(order: MagentoOrder): { first?: string; last?: string } {
  const b = order.billing_address;
  const first = order.customer_firstname ?? b?.firstname;
  const last = order.customer_lastname ?? b?.lastname;
  return { first: first?.trim() || undefined, last: last?.trim() || undefined };
}

function customerOf(order: MagentoOrder, settings: PushSettings, codes?: AddressCodes): WantedCustomer {
  const key = customerKey(order, settings);
  const billing = order.billing_address;
  const { first, last } = personName(order);
  const fullName = [first, last].filter(Boolean).join(" ");
  const email = order.customer_email.trim();
  const phone = clip(billing?.telephone, LENGTH.phone) ?? null;
  const account = {
    Name: clip(billing?.company || fullName || email, LENGTH.accountName),
    Phone: phone,
    ...address("Billing", billing, codes),
    ...address("Shipping", shippingAddress(order) ?? billing, codes),
  };
  const contact = {
    FirstName: clip(first, LENGTH.firstName) ?? null,
    LastName: clip(last ?? email.split("@")[0], LENGTH.lastName),
    Email: clip(email, LENGTH.email),
    Phone: phone,
    ...address("Mailing", billing, codes),
  };
  return { key, account, contact };
}

/**
 * An amount of the order in the chosen currency, exact (`base_*` when amounts are in the base
 * currency; `baseField` where Magento's column name differs).
 */
function pick(
  order: MagentoOrder,
  settings: PushSettings,
  field: string,
  baseField = `base_${field}`,
): Amount {
  const o = order as unknown as Record<string, unknown>;
  const value = settings.amounts === "base" ? (o[baseField] ?? o[field]) : o[field];
  return typeof value === "number" ? amount(value) : 0n;
}

/**
 * Magento's grand total is subtotal + shipping + discount (negative) + tax + the discount tax
 * compensations: in tax-inclusive catalogs a discount is taken off the price with tax, tax is
 * then computed on the discounted price, and the tax part of the discount comes back as
 * `discount_tax_compensation_amount` (items) and `shipping_discount_tax_compensation_amount`.
 * The discount line carries the discount without that tax part, so the lines add up.
 */
function discountOf(order: MagentoOrder, settings: PushSettings): Amount {
  return (
    -abs(pick(order, settings, "discount_amount")) +
    abs(pick(order, settings, "discount_tax_compensation_amount")) +
    abs(
      pick(
        order,
        settings,
        "shipping_discount_tax_compensation_amount",
        // Magento's column name is cut at 64 characters.
        "base_shipping_discount_tax_compensation_amnt",
      ),
    )
  );
}

function linesOf(
  order: MagentoOrder,
  key: string,
  settings: PushSettings,
  currency: string,
): Pick<WantedOrder, "lines" | "total" | "amountProblem" | "readings" | "payableNote"> {
  // Order-currency amounts are read so that they add up (src/magento/order-amounts.ts); Magento
  // gives no such detail for the base currency, whose prices are taken as they are.
  const read = settings.amounts === "base" ? undefined : orderAmounts(order, { bundle: settings.bundle });
  const readings = new Map(read?.items.map((it) => [it.line.itemId, it]));
  const lines: WantedLine[] = lineItems(order, { bundle: settings.bundle }).map((line) => {
    const it = readings.get(line.itemId);
    const price =
      settings.amounts === "base"
        ? (line.item.base_price ?? line.price)
        : it?.reading === "row_total"
          ? Number(amountText(divide(it.gross, amount(line.qty), 8)))
          : line.price;
    const name = line.name || line.sku;
    return {
      key: `${key}-${line.itemId}`,
      kind: "item",
      sku: line.sku,
      productName: clip(name, LENGTH.productName) ?? line.sku,
      quantity: line.qty,
      unitPrice: price,
      description: clip(name, LENGTH.lineDescription) ?? line.sku,
    };
  });
  const leftOut: Amount[] = [];
  const fee = (kind: LineKind, sku: string, value: Amount, name: string): void => {
    if (value === 0n) return;
    if (!sku) {
      leftOut.push(value);
      return;
    }
    lines.push({
      key: `${key}-${kind}`,
      kind,
      sku,
      productName: name,
      quantity: 1,
      unitPrice: Number(amountText(value)),
      description: clip(name, LENGTH.lineDescription) as string,
    });
  };
  const shippingName = order.shipping_description ? `Shipping: ${order.shipping_description}` : "Shipping";
  fee("shipping", settings.shippingSku, pick(order, settings, "shipping_amount"), shippingName);
  const discountName = order.discount_description ? `Discount: ${order.discount_description}` : "Discount";
  fee("discount", settings.discountSku, read ? -read.discount : discountOf(order, settings), discountName);
  fee("tax", settings.taxSku, pick(order, settings, "tax_amount"), "Tax");
  // What the customer can be charged: grand_total at the currency's minor unit (docs/money.md).
  const grandTotal = pick(order, settings, "grand_total");
  const payable = payableOf(grandTotal, currency);
  const total = payable - sum(leftOut);
  return {
    lines,
    total: amountText(total),
    ...(read?.unbalanced ? { amountProblem: read.unbalanced } : {}),
    ...(read?.readings.length ? { readings: read.readings } : {}),
    ...(payable === grandTotal
      ? {}
      : {
          payableNote: `grand_total ${amountText(grandTotal)} ${currency} taken as ${amountText(payable)}, the currency's smallest unit`,
        }),
  };
}

const NOTE_MARKER = /^Magento note ([A-Za-z0-9]+):/;

/** The marker of an existing Note title, if OrderBridge wrote it. */
export function noteMarkerOf(title: unknown): string | undefined {
  const m = typeof title === "string" ? NOTE_MARKER.exec(title) : null;
  return m ? `Magento note ${m[1]}:` : undefined;
}

function notesOf(order: MagentoOrder): WantedNote[] {
  const histories = [...(order.status_histories ?? [])].filter((h) => (h.comment ?? "").trim() !== "");
  histories.sort(
    (a, b) =>
      (a.created_at ?? "").localeCompare(b.created_at ?? "") || (a.entity_id ?? 0) - (b.entity_id ?? 0),
  );
  return histories.map((h) => {
    const comment = (h.comment ?? "").trim();
    const id =
      h.entity_id !== undefined
        ? String(h.entity_id)
        : `h${createHash("sha256")
            .update(`${h.created_at ?? ""}|${comment}`)
            .digest("hex")
            .slice(0, 10)}`;
    const marker = `Magento note ${id}:`;
    const details = [
      `Magento order #${order.increment_id}`,
      h.status ? `status ${h.status}` : undefined,
      h.created_at ? `${h.created_at} UTC` : undefined,
      h.is_customer_notified === 1 ? "customer notified" : undefined,
    ].filter(Boolean);
    return {
      marker,
      title: clip(`${marker} ${comment.replace(/\s+/g, " ")}`, LENGTH.noteTitle) as string,
      body: clip(`${comment}\n\n— ${details.join(" · ")}`, LENGTH.noteBody) as string,
    };
  });
}

function storeView(order: MagentoOrder): string | undefined {
  const lines = (order.store_name ?? "")
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  return lines[lines.length - 1];
}

/** `codes`: the org has State and Country/Territory Picklists (addresses written as codes). */
export function mapOrder(
  order: MagentoOrder,
  settings: PushSettings,
  timeZone = settings.timeZone,
  codes?: AddressCodes,
): WantedOrder {
  const key = orderKey(order, settings);
  const currency =
    settings.amounts === "base"
      ? (order.base_currency_code ?? order.order_currency_code)
      : order.order_currency_code;
  const description = [
    `Magento order #${order.increment_id}`,
    storeView(order) ? `store view ${storeView(order)}` : undefined,
    order.payment?.method ? `payment ${order.payment.method}` : undefined,
    order.shipping_description ? `shipping ${order.shipping_description}` : undefined,
    isGuest(order) ? "guest checkout" : undefined,
  ]
    .filter(Boolean)
    .join(" · ");
  const billing = order.billing_address;
  const shipping = shippingAddress(order);
  return {
    key,
    customer: customerOf(order, settings, codes),
    currency: currency.toUpperCase(),
    fields: {
      EffectiveDate: dateIn(order.created_at, timeZone),
      Name: clip(`Magento #${order.increment_id}`, LENGTH.orderName),
      OrderReferenceNumber: clip(order.increment_id, LENGTH.reference),
      Description: clip(description, LENGTH.description),
      ...address("Billing", billing, codes),
      ...address("Shipping", shipping, codes),
    },
    magentoStatus: order.status,
    ...linesOf(order, key, settings, currency),
    notes: settings.syncNotes ? notesOf(order) : [],
  };
}

/**
 * The same order for an org with State and Country/Territory Picklists: the address fields of
 * the Account, Contact and Order as codes (the rest as `wanted`).
 */
export function withAddressCodes(order: MagentoOrder, wanted: WantedOrder, codes: AddressCodes): WantedOrder {
  const coded = (fields: Record<string, unknown>, prefixes: [string, MagentoAddress | undefined][]) => {
    const out = { ...fields };
    for (const [prefix] of prefixes)
      for (const part of ["Street", "City", "State", "PostalCode", "Country"]) delete out[`${prefix}${part}`];
    for (const [prefix, a] of prefixes) Object.assign(out, address(prefix, a, codes));
    return out;
  };
  const billing = order.billing_address;
  return {
    ...wanted,
    customer: {
      ...wanted.customer,
      account: coded(wanted.customer.account, [
        ["Billing", billing],
        ["Shipping", shippingAddress(order) ?? billing],
      ]),
      contact: coded(wanted.customer.contact, [["Mailing", billing]]),
    },
    fields: coded(wanted.fields, [
      ["Billing", billing],
      ["Shipping", shippingAddress(order)],
    ]),
  };
}

/** Country codes of an order's addresses that the org's picklist does not have, with the Magento field. */
export function unavailableCountries(
  order: MagentoOrder,
  codes: AddressCodes,
): { country: string; field: string }[] {
  const out: { country: string; field: string }[] = [];
  const check = (a: MagentoAddress | undefined, field: string) => {
    const country = a?.country_id?.trim().toUpperCase();
    if (country && !codes.countries.has(country)) out.push({ country, field: `${field}.country_id` });
  };
  check(order.billing_address, "billing_address");
  check(shippingAddress(order), "extension_attributes.shipping_assignments.0.shipping.address");
  return out;
}

/** What the content hash covers: every value written to the Order and its items, and the target status. */
export function contentHash(
  wanted: WantedOrder,
  extra: { status: string; pricebookId: string; currency?: string; customerKey: string; contacts: boolean },
): string {
  const canonical = JSON.stringify([
    1,
    wanted.key,
    extra,
    Object.keys(wanted.fields)
      .sort()
      .map((k) => [k, wanted.fields[k] ?? null]),
    wanted.lines.map((l) => [l.key, l.sku.toLowerCase(), l.quantity, l.unitPrice, l.description]),
  ]);
  return createHash("sha256").update(canonical).digest("hex").slice(0, 40);
}
