/**
 * What the reliability suite checks in the targets, independently of the mapping code:
 * every Magento order present exactly once with the right content, no duplicate party or
 * product. The checks count (lost, duplicated, wrong) instead of stopping at the first
 * problem, so a failing run says how bad it was.
 */
import { lineItems, shippingAddress, validateOrder, type MagentoOrder } from "../../src/magento/schema";
import { settleServerAt } from "./tryton-server";
import { minorUnitStep, payableOf } from "../../src/magento/order-amounts";
import { amount, amountText, roundHalfEven } from "../../src/sync/amounts";
import { type TrytonClient, type TrytonRecord } from "../../src/tryton/rpc";
import type { ImportSettings } from "../../src/tryton/sale-import";
import { parseMarker } from "../../src/tryton/sale-mapping";
import type { TrytonFixtures } from "./tryton-server";
import { shopImportSettings } from "../../src/sandbox/tryton/shop-settings";

export type RawOrder = Record<string, unknown> & {
  entity_id: number;
  increment_id: string;
  items: unknown[];
};

export const REFERENCE_PREFIX = "MAG-";

export function valid(raw: unknown): MagentoOrder {
  const checked = validateOrder(raw);
  if (!checked.ok) throw new Error(checked.error.message);
  return checked.order;
}

/** Orders moved into their own entity-id range (and increment ids), so that suites sharing a server never read each other's sales. */
export function inRange<T extends RawOrder>(orders: T[], range: number): T[] {
  return orders.map((o) => {
    const copy = structuredClone(o);
    copy.entity_id = range * 1_000_000 + o.entity_id;
    copy.increment_id = `${range}-${o.increment_id}`;
    return copy;
  });
}

export function pages<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Countries and tax rates the simulated shop's customers need beyond the shared fixtures
 * (created once per server), and the import settings that map Magento's rates to them.
 */
export async function shopSettings(client: TrytonClient, f: TrytonFixtures): Promise<ImportSettings> {
  return shopImportSettings(client, f, { taxLabel: "Reliability VAT", referencePrefix: REFERENCE_PREFIX });
}

/** The Tryton state each Magento state lands in with the default state map (null: never imported). */
export const defaultTrytonState: Record<string, string | null> = {
  new: "quotation",
  holded: "quotation",
  pending_payment: "draft",
  payment_review: "draft",
  processing: "processing",
  complete: "processing",
  closed: "processing",
  canceled: null,
};

export interface TargetReport {
  /** Orders checked. */
  orders: number;
  /** Orders expected in the target and found exactly once with the right content. */
  present: number;
  /** Orders expected but absent. */
  lost: string[];
  /** Orders found more than once. */
  duplicated: string[];
  /** Orders present once but with content that differs from Magento (first difference each). */
  wrong: string[];
  /** Orders correctly absent (not to be imported), found anyway. */
  unexpected: string[];
}

function emptyReport(orders: number): TargetReport {
  return { orders, present: 0, lost: [], duplicated: [], wrong: [], unexpected: [] };
}

export function reportProblems(r: TargetReport): string[] {
  const show = (what: string, list: string[]) =>
    list.length
      ? [`${list.length} ${what}: ${list.slice(0, 8).join("; ")}${list.length > 8 ? " …" : ""}`]
      : [];
  return [
    ...show("lost", r.lost),
    ...show("duplicated", r.duplicated),
    ...show("wrong", r.wrong),
    ...show("unexpected", r.unexpected),
  ];
}

interface SaleRow extends TrytonRecord {
  comment: string;
  reference: string;
  state: string;
  total_amount: unknown;
  untaxed_amount: unknown;
  currency: number;
  party: number;
  invoice_address: number;
  shipment_address: number;
  lines: number[];
}

function chunked<T>(list: T[], size: number): T[][] {
  return pages(list, size);
}

/** Every sale carrying an OrderBridge marker, by Magento entity id. */
export async function trytonSalesByOrder(client: TrytonClient): Promise<Map<number, SaleRow[]>> {
  const rows = (await client.searchRead(
    "sale.sale",
    [["comment", "ilike", "%OrderBridge magento-order:%"]],
    [
      "comment",
      "reference",
      "state",
      "total_amount",
      "untaxed_amount",
      "currency",
      "party",
      "invoice_address",
      "shipment_address",
      "lines",
    ],
    { order: [["id", "ASC"]] },
  )) as SaleRow[];
  const byOrder = new Map<number, SaleRow[]>();
  for (const s of rows) {
    const id = parseMarker(s.comment)?.orderId;
    if (id !== undefined) byOrder.set(id, [...(byOrder.get(id) ?? []), s]);
  }
  return byOrder;
}

async function readMany(
  client: TrytonClient,
  model: string,
  ids: number[],
  fields: string[],
): Promise<TrytonRecord[]> {
  const out: TrytonRecord[] = [];
  for (const part of chunked([...new Set(ids)], 500)) out.push(...(await client.read(model, part, fields)));
  return out;
}

/**
 * Each order against Tryton: present exactly once (or absent when `expectedState` says it
 * is not imported), reference, state, currency, total, untaxed amount, item lines (SKU,
 * quantity, row total, name), shipping, addresses and the customer's e-mail as in Magento.
 */
export async function checkTryton(
  client: TrytonClient,
  orders: MagentoOrder[],
  expectedState: (o: MagentoOrder) => string | null = (o) => defaultTrytonState[o.state] ?? null,
): Promise<TargetReport & { roundingGaps: number }> {
  const report = { ...emptyReport(orders.length), roundingGaps: 0 };
  await settleServerAt(client.url); // the sales as Tryton's worker leaves them
  const byOrder = await trytonSalesByOrder(client);
  const sales = orders.flatMap((o) => byOrder.get(o.entity_id) ?? []);
  const lineRows = await readMany(
    client,
    "sale.line",
    sales.flatMap((s) => s.lines),
    ["product", "quantity", "amount", "unit_price", "description"],
  );
  const lines = new Map(lineRows.map((l) => [l.id, l]));
  const productCode = new Map(
    (
      await readMany(
        client,
        "product.product",
        [...new Set(lineRows.map((l) => l.product as number))],
        ["code"],
      )
    ).map((p) => [p.id, String(p.code)]),
  );
  const addressRows = await readMany(
    client,
    "party.address",
    sales.flatMap((s) => [s.invoice_address, s.shipment_address]),
    ["party", "street", "city", "postal_code", "country"],
  );
  const address = new Map(addressRows.map((a) => [a.id, a]));
  const countryCode = new Map(
    (await client.searchRead("country.country", [], ["code"])).map((c) => [c.id, String(c.code)]),
  );
  const currencyCode = new Map(
    (await client.searchRead("currency.currency", [], ["code"])).map((c) => [c.id, String(c.code)]),
  );
  const emails = new Map<number, string[]>();
  for (const part of chunked([...new Set(sales.map((s) => s.party))], 500)) {
    const rows = await client.searchRead(
      "party.contact_mechanism",
      [
        ["type", "=", "email"],
        ["party", "in", part],
      ],
      ["party", "value"],
    );
    for (const m of rows) {
      const party = m.party as number;
      emails.set(party, [...(emails.get(party) ?? []), String(m.value).toLowerCase()]);
    }
  }

  for (const order of orders) {
    const label = `#${order.increment_id}`;
    const found = byOrder.get(order.entity_id) ?? [];
    const state = expectedState(order);
    if (state === null) {
      if (found.length) report.unexpected.push(`${label}: not to be imported, found sale ${found[0]!.id}`);
      continue;
    }
    if (found.length === 0) {
      report.lost.push(label);
      continue;
    }
    if (found.length > 1) {
      report.duplicated.push(`${label}: sales ${found.map((s) => `${s.id} (${s.state})`).join(", ")}`);
      continue;
    }
    const sale = found[0]!;
    const wrong = (what: string) => report.wrong.push(`${label}: ${what}`);
    if (sale.reference !== `${REFERENCE_PREFIX}${order.increment_id}`) {
      wrong(`reference ${sale.reference}`);
      continue;
    }
    if (sale.state !== state) {
      wrong(`state ${sale.state}, expected ${state} for Magento "${order.state}"`);
      continue;
    }
    if (currencyCode.get(sale.currency) !== order.order_currency_code) {
      wrong(`currency ${currencyCode.get(sale.currency)}`);
      continue;
    }
    // Exactly what the customer paid: grand_total at the currency's unit (docs/money.md); a tax
    // rounding difference is an explicit rounding line, counted here.
    if (
      amount(String(sale.total_amount)) !== payableOf(amount(order.grand_total), order.order_currency_code)
    ) {
      wrong(`total ${String(sale.total_amount)}, grand_total ${order.grand_total}`);
      continue;
    }
    const saleLines = sale.lines.map((id) => lines.get(id)!).filter(Boolean);
    if (saleLines.some(isRoundingLine)) report.roundingGaps += 1;
    const unit = minorUnitStep(order.order_currency_code);
    const untaxed = untaxedMismatch(order, String(sale.untaxed_amount), saleLines);
    if (untaxed !== undefined) {
      wrong(`untaxed ${String(sale.untaxed_amount)}, expected ${untaxed}`);
      continue;
    }
    const items = saleLines.filter(
      (l) => !["SHIPPING", "DISCOUNT", "ROUNDING"].includes(productCode.get(l.product as number) ?? ""),
    );
    const want = lineItems(order)
      .map((l) => `${l.sku}|${l.qty}|${amountText(roundHalfEven(amount(l.rowTotal), unit))}|${l.name}`)
      .sort();
    const got = items
      .map(
        (l) =>
          `${productCode.get(l.product as number)}|${String(l.quantity)}|${amountText(amount(String(l.amount)))}|${String(l.description)}`,
      )
      .sort();
    if (JSON.stringify(want) !== JSON.stringify(got)) {
      wrong(`item lines ${got.join(", ")}; expected ${want.join(", ")}`);
      continue;
    }
    const shipping = saleLines.filter((l) => productCode.get(l.product as number) === "SHIPPING");
    if (
      order.shipping_amount &&
      (shipping.length !== 1 ||
        amount(String(shipping[0]!.amount)) !== roundHalfEven(amount(order.shipping_amount), unit))
    ) {
      wrong(`shipping lines ${shipping.map((l) => String(l.amount)).join(", ")}`);
      continue;
    }
    const billing = order.billing_address!;
    const delivery = shippingAddress(order) ?? billing;
    const badAddress = (
      [
        [sale.invoice_address, billing, "invoice"],
        [sale.shipment_address, delivery, "shipment"],
      ] as const
    ).find(([id, a]) => {
      const stored = address.get(id);
      return (
        !stored ||
        stored.party !== sale.party ||
        stored.street !==
          (a.street ?? [])
            .map((s) => s.trim())
            .filter(Boolean)
            .join("\n") ||
        stored.city !== (a.city ?? "").trim() ||
        stored.postal_code !== (a.postcode ?? "").trim() ||
        countryCode.get(stored.country as number) !== a.country_id
      );
    });
    if (badAddress) {
      wrong(`${badAddress[2]} address ${JSON.stringify(address.get(badAddress[0]))}`);
      continue;
    }
    if (!(emails.get(sale.party) ?? []).includes(order.customer_email.trim().toLowerCase())) {
      wrong(`party ${sale.party} lacks the e-mail ${order.customer_email}`);
      continue;
    }
    report.present += 1;
  }
  return report;
}

/** Parties sharing an e-mail, and products sharing a code (archived ones included). */
export async function trytonDuplicates(
  client: TrytonClient,
): Promise<{ parties: string[]; products: string[] }> {
  const mechanisms = await client.searchRead(
    "party.contact_mechanism",
    [["type", "=", "email"]],
    ["party", "value"],
  );
  const partiesByEmail = new Map<string, Set<number>>();
  for (const m of mechanisms) {
    const key = String(m.value).trim().toLowerCase();
    partiesByEmail.set(key, (partiesByEmail.get(key) ?? new Set()).add(m.party as number));
  }
  const products = await client.searchRead("product.product", [["active", "in", [true, false]]], ["code"]);
  const byCode = new Map<string, number[]>();
  for (const p of products) {
    const code = String(p.code ?? "");
    if (code) byCode.set(code, [...(byCode.get(code) ?? []), p.id]);
  }
  return {
    parties: [...partiesByEmail]
      .filter(([, ids]) => ids.size > 1)
      .map(([email, ids]) => `${email}: parties ${[...ids].join(", ")}`),
    products: [...byCode]
      .filter(([, ids]) => ids.length > 1)
      .map(([code, ids]) => `${code}: ${ids.join(", ")}`),
  };
}

export const isRoundingLine = (line: TrytonRecord): boolean =>
  String(line.description).startsWith("Tax rounding");

/**
 * A Tryton sale's untaxed amount against Magento's: goods + shipping − discount without the tax
 * it holds, plus the tax rounding line (docs/money.md). Tryton rounds each line to the currency,
 * so in yen each line may move it by half a yen. The expected amount when it differs, else undefined.
 */
export function untaxedMismatch(
  order: MagentoOrder,
  untaxedAmount: string,
  saleLines: TrytonRecord[],
): string | undefined {
  const rounding = saleLines.find(isRoundingLine);
  const untaxed =
    amount(order.subtotal ?? 0) +
    amount(order.shipping_amount ?? 0) +
    amount(order.discount_amount ?? 0) +
    amount(order.discount_tax_compensation_amount ?? 0) +
    amount(order.shipping_discount_tax_compensation_amount ?? 0) +
    (rounding ? amount(String(rounding.unit_price)) : 0n);
  const unit = minorUnitStep(order.order_currency_code);
  const drift = amount(untaxedAmount) - untaxed;
  const allowed = unit > amount("0.01") ? unit * BigInt(saleLines.length) : 0n;
  return (drift < 0n ? -drift : drift) * 2n > allowed ? amountText(untaxed) : undefined;
}
