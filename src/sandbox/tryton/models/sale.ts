/**
 * `sale.sale` and `sale.line` with trytond 6.0's sale workflow (tryton/sale 6.0
 * `sale.py`):
 *
 * - states draft → quotation → confirmed → processing → done, cancel from draft or
 *   quotation, draft from quotation/confirmed/cancelled; a button skips records whose
 *   transition is not allowed **without any error** (`Workflow.transition`);
 * - `quote` checks both addresses (and a warehouse for goods) and takes a number;
 * - `confirm` sets the sale date, caches the amounts, and queues `process`, which with
 *   `[queue] worker = False` runs after the commit inside the same request: a failure
 *   there leaves the sale `confirmed` and the button still answers null;
 * - `process` creates the draft customer invoice (invoice method `order`) and the
 *   waiting customer shipment (shipment method `order`), then moves the sale to
 *   `processing`, or `done` when nothing is left to ship or pay;
 * - amounts: line amount = currency.round(Decimal(str(quantity)) × unit_price); taxes
 *   rounded per document (account configuration `tax_rounding`); cached from confirm on.
 */
import { Dec, sumDec } from "../decimal";
import { PythonError, UserError } from "../errors";
import type { Env, Rec } from "../orm";
import { defineModel, recNameDomain } from "../registry";
import type { ModelDef } from "../schema";
import {
  char,
  date,
  float,
  fn,
  integer,
  many2many,
  many2one,
  numeric,
  one2many,
  reference,
  selection,
  text,
} from "../schema";
import { PyDate, pyFloatRepr } from "../values";
import { companyDefault, configValue } from "./base";

const SALE_STATES = [
  ["draft", "Draft"],
  ["quotation", "Quotation"],
  ["confirmed", "Confirmed"],
  ["processing", "Processing"],
  ["done", "Done"],
  ["cancelled", "Cancelled"],
] as const;

const INVOICE_METHODS = [
  ["manual", "Manual"],
  ["order", "On Order Processed"],
  ["shipment", "On Shipment Sent"],
] as const;

const SHIPMENT_METHODS = [
  ["manual", "Manual"],
  ["order", "On Order Processed"],
  ["invoice", "On Invoice Paid"],
] as const;

const TRANSITIONS = new Set([
  "draft>quotation",
  "quotation>confirmed",
  "confirmed>processing",
  "confirmed>draft",
  "processing>processing",
  "processing>done",
  "done>processing",
  "draft>cancelled",
  "quotation>cancelled",
  "quotation>draft",
  "cancelled>draft",
]);

const CACHED_STATES = new Set(["confirmed", "processing", "done", "cancelled"]);
const PRODUCT_TYPES_SHIPPED = new Set(["goods", "assets"]);

const notDraftLike = (rec: Rec): boolean =>
  !["draft", "quotation", "cancelled"].includes(String(rec.get("state")));

const sale = defineModel({
  name: "sale.sale",
  string: "Sale",
  order: [
    ["sale_date", "DESC NULLS FIRST"],
    ["id", "DESC"],
  ],
  restricted: true,
  company: (rec) => rec.num("company"),
  recNameField: "number",
  fields: {
    company: many2one("company.company", "Company", { required: true, default: companyDefault }),
    number: char("Number", { readonly: true }),
    reference: char("Reference"),
    description: char("Description"),
    sale_date: date("Sale Date", { requiredWhen: notDraftLike }),
    payment_term: many2one("account.invoice.payment_term", "Payment Term", {
      default: (env) => configValue(env, "account.configuration", "default_customer_payment_term"),
    }),
    party: many2one("party.party", "Party", { required: true }),
    contact: many2one("party.contact_mechanism", "Contact"),
    invoice_party: many2one("party.party", "Invoice Party"),
    invoice_address: many2one("party.address", "Invoice Address", {
      requiredWhen: notDraftLike,
      domain: (rec) => [["party", "=", rec.get("invoice_party") ?? rec.get("party")]],
    }),
    shipment_party: many2one("party.party", "Shipment Party"),
    shipment_address: many2one("party.address", "Shipment Address", {
      requiredWhen: notDraftLike,
      domain: (rec) => [["party", "=", rec.get("shipment_party") ?? rec.get("party")]],
    }),
    warehouse: many2one("stock.location", "Warehouse", {
      default: (env) => defaultWarehouse(env),
      domain: () => [["type", "=", "warehouse"]],
    }),
    currency: many2one("currency.currency", "Currency", {
      required: true,
      default: (env) => {
        const company = env.context.company;
        return typeof company === "number"
          ? (env.store.get("company.company", company)?.currency ?? null)
          : null;
      },
    }),
    currency_digits: fn(integer("Currency Digits"), (rec) => {
      const c = rec.ref("currency");
      return c && c.exists() ? c.get("digits") : 2;
    }),
    lines: one2many("sale.line", "sale", "Lines"),
    comment: text("Comment"),
    untaxed_amount: fn(numeric("Untaxed"), (rec) => saleAmounts(rec).untaxed),
    untaxed_amount_cache: numeric("Untaxed Cache", { readonly: true }),
    tax_amount: fn(numeric("Tax"), (rec) => saleAmounts(rec).tax),
    tax_amount_cache: numeric("Tax Cache", { readonly: true }),
    total_amount: fn(numeric("Total"), (rec) => saleAmounts(rec).total),
    total_amount_cache: numeric("Total Cache", { readonly: true }),
    invoice_method: selection("Invoice Method", INVOICE_METHODS, {
      required: true,
      default: (env) => configValue(env, "sale.configuration", "sale_invoice_method") ?? "order",
    }),
    invoice_state: selection(
      "Invoice State",
      [
        ["none", "None"],
        ["waiting", "Waiting"],
        ["paid", "Paid"],
        ["exception", "Exception"],
      ],
      { required: true, readonly: true, default: () => "none" },
    ),
    invoices: fn(many2many("account.invoice", "Invoices"), (rec) => saleInvoices(rec), true),
    invoices_ignored: many2many("account.invoice", "Ignored Invoices", { readonly: true }),
    invoices_recreated: many2many("account.invoice", "Recreated Invoices", { readonly: true }),
    shipment_method: selection("Shipment Method", SHIPMENT_METHODS, {
      required: true,
      default: (env) => configValue(env, "sale.configuration", "sale_shipment_method") ?? "order",
    }),
    shipment_state: selection(
      "Shipment State",
      [
        ["none", "None"],
        ["waiting", "Waiting"],
        ["sent", "Sent"],
        ["exception", "Exception"],
      ],
      { required: true, readonly: true, default: () => "none" },
    ),
    shipments: fn(many2many("stock.shipment.out", "Shipments"), (rec) => saleShipments(rec), true),
    shipment_returns: fn(many2many("stock.shipment.out.return", "Shipment Returns"), () => [], true),
    moves: fn(one2many("stock.move", "sale", "Moves"), (rec) => saleMoves(rec).map((m) => m.id)),
    origin: reference("Origin"),
    shipping_date: date("Shipping Date"),
    state: selection("State", SALE_STATES, { required: true, readonly: true, default: () => "draft" }),
    party_lang: fn(char("Party Language"), () => "en"),
  },
  recName: (rec) => {
    const items: string[] = [];
    const number = rec.str("number");
    const ref = rec.str("reference");
    if (number) items.push(number);
    if (ref) items.push(`[${ref}]`);
    if (!items.length) items.push(`(${rec.id})`);
    return items.join(" ");
  },
  searchRecName: (operator, value) =>
    recNameDomain(operator, [
      ["number", operator, value],
      ["reference", operator, value],
    ]),
  copyDefaults: { sale_date: null },
  validate: (_env, recs) => {
    for (const rec of recs) checkMethod(rec);
  },
  beforeDelete: (env, recs) => {
    // Sale.delete cancels first; what cannot be cancelled cannot be deleted.
    transition(env, recs, "cancelled", (ok) => storeCache(env, ok));
    for (const rec of recs) {
      if (rec.get("state") !== "cancelled") {
        throw new UserError(`To delete sale "${rec.recName}" you must cancel it.`);
      }
    }
  },
  methods: {
    quote: (env, [ids]) => {
      transition(env, browse(env, ids), "quotation", (recs) => {
        for (const rec of recs) checkForQuotation(rec);
        for (const rec of recs) {
          if (!rec.get("number")) {
            env.write("sale.sale", [[rec.id], { number: String(env.store.nextSequence("sale.sale")) }]);
          }
        }
      });
      return null;
    },
    confirm: (env, [ids]) => {
      const confirmed = transition(env, browse(env, ids), "confirmed", (recs) => {
        for (const rec of recs) {
          if (!rec.get("sale_date")) env.write("sale.sale", [[rec.id], { sale_date: env.today() }]);
        }
        storeCache(env, recs);
      });
      queueSaleProcess(
        env,
        confirmed.map((r) => r.id),
      );
      return null;
    },
    process: (env, [ids]) => {
      processSales(env, browse(env, ids));
      return null;
    },
    cancel: (env, [ids]) => {
      transition(env, browse(env, ids), "cancelled", (recs) => storeCache(env, recs));
      return null;
    },
    draft: (env, [ids]) => {
      transition(env, browse(env, ids), "draft");
      return null;
    },
    handle_invoice_exception: () => null,
    handle_shipment_exception: () => null,
    modify_header: () => null,
  },
});

function defaultWarehouse(env: Env): number | null {
  const warehouses = [...env.store.table("stock.location").values()].filter(
    (r) => r.type === "warehouse" && r.active !== false,
  );
  return warehouses.length === 1 ? warehouses[0]!.id : null;
}

function checkMethod(rec: Rec): void {
  const invoice = String(rec.get("invoice_method"));
  const shipment = String(rec.get("shipment_method"));
  if (
    (invoice === "shipment" && ["invoice", "manual"].includes(shipment)) ||
    (shipment === "invoice" && ["shipment", "manual"].includes(invoice))
  ) {
    const label = (list: ReadonlyArray<readonly [string, string]>, v: string) =>
      list.find(([k]) => k === v)?.[1] ?? v;
    throw new UserError(
      `You cannot use together invoice "${label(INVOICE_METHODS, invoice)}" and shipment "${label(SHIPMENT_METHODS, shipment)}" on sale "${rec.recName}".`,
    );
  }
}

/** Records for a button call: like `browse` + reading the state, so unknown ids fail the rule. */
export function browse(env: Env, ids: unknown): Rec[] {
  const list = Array.isArray(ids) ? ids.map(Number) : [Number(ids)];
  env.read("sale.sale", list, ["state"]);
  return env.recs("sale.sale", list);
}

/**
 * trytond `Workflow.transition(state)`: keep the records whose (state, target) pair is
 * allowed, run the body on them, then write the new state. The others are skipped silently.
 */
function transition(env: Env, recs: Rec[], to: string, body?: (recs: Rec[]) => void): Rec[] {
  const allowed = recs.filter((r) => TRANSITIONS.has(`${String(r.get("state"))}>${to}`));
  body?.(allowed);
  const moving = allowed.filter((r) => r.get("state") !== to);
  if (moving.length) env.write("sale.sale", [moving.map((r) => r.id), { state: to }]);
  return allowed;
}

function checkForQuotation(rec: Rec): void {
  if (!rec.get("invoice_address")) {
    throw new UserError(`To get a quote for sale "${rec.recName}" you must enter an invoice address.`);
  }
  // 7.0 asks for it only when a line ships goods (series.ts).
  const ships = (line: Rec) => {
    const product = line.ref("product");
    return (
      product !== null &&
      product.exists() &&
      product.get("type") !== "service" &&
      (line.num("quantity") ?? 0) >= 0
    );
  };
  if (
    !rec.get("shipment_address") &&
    (!rec.env.series.shipmentAddressOnlyForGoods || rec.refs("lines").some(ships))
  ) {
    throw new UserError(`To get a quote for sale "${rec.recName}" you must enter a shipment address.`);
  }
  for (const line of rec.refs("lines")) {
    const product = line.ref("product");
    if (
      product &&
      product.exists() &&
      PRODUCT_TYPES_SHIPPED.has(String(product.get("type"))) &&
      !rec.get("warehouse")
    ) {
      throw new UserError(`To get a quote for sale "${rec.recName}" you must enter a warehouse.`);
    }
  }
}

function storeCache(env: Env, recs: Rec[]): void {
  for (const rec of recs) {
    const amounts = computeAmounts(rec);
    env.write("sale.sale", [
      [rec.id],
      {
        untaxed_amount_cache: amounts.untaxed,
        tax_amount_cache: amounts.tax,
        total_amount_cache: amounts.total,
      },
    ]);
  }
}

// ---- amounts ------------------------------------------------------------------------

export function currencyOf(rec: Rec | null): Rec | null {
  return rec && rec.exists() ? rec : null;
}

export function roundCurrency(currency: Rec | null, amount: Dec): Dec {
  const factor = currency?.dec("rounding");
  return factor ? amount.roundTo(factor) : amount;
}

/** `Decimal(str(float))`, the way trytond turns a Float quantity into a Decimal. */
export function floatToDec(value: number | null): Dec {
  return Dec.parse(pyFloatRepr(value ?? 0)) as Dec;
}

export function lineAmount(line: Rec): Dec {
  const type = line.get("type");
  if (type === "line") {
    const sale = line.ref("sale");
    const currency = sale && sale.exists() ? currencyOf(sale.ref("currency")) : null;
    const price = line.dec("unit_price") ?? (Dec.parse("0.0") as Dec);
    const quantity = line.num("quantity");
    const amount = (quantity === null ? (Dec.parse("0.0") as Dec) : floatToDec(quantity)).mul(price);
    return currency ? roundCurrency(currency, amount) : amount;
  }
  const zero = Dec.parse(line.env.series.zeroAmount) as Dec;
  if (type === "subtotal") {
    const sale = line.ref("sale");
    let amount = zero;
    for (const other of sale ? sale.refs("lines") : []) {
      if (other.get("type") === "line") amount = amount.add(lineAmount(other));
      else if (other.get("type") === "subtotal") {
        if (other.id === line.id) break;
        amount = zero;
      }
    }
    return amount;
  }
  return zero;
}

interface Amounts {
  untaxed: Dec;
  tax: Dec;
  total: Dec;
}

function saleAmounts(rec: Rec): Amounts {
  if (CACHED_STATES.has(String(rec.get("state")))) {
    const untaxed = rec.dec("untaxed_amount_cache");
    const tax = rec.dec("tax_amount_cache");
    const total = rec.dec("total_amount_cache");
    if (untaxed && tax && total) return { untaxed, tax, total };
  }
  return computeAmounts(rec);
}

function computeAmounts(rec: Rec): Amounts {
  const lines = rec.refs("lines").filter((l) => l.get("type") === "line");
  const untaxed = sumDec(lines.map(lineAmount));
  const currency = currencyOf(rec.ref("currency"));
  const tax = taxAmount(
    rec.env,
    currency,
    lines.map((l) => ({
      taxes: l.get("taxes") as number[],
      unitPrice: l.dec("unit_price"),
      quantity: l.num("quantity"),
    })),
  );
  return { untaxed, tax, total: untaxed.add(tax) };
}

export interface TaxableLine {
  taxes: number[];
  unitPrice: Dec | null;
  quantity: number | null;
}

/** `TaxableMixin._get_taxes` summed: per-tax amounts, rounded per document (or per line). */
export function taxAmount(env: Env, currency: Rec | null, lines: TaxableLine[]): Dec {
  const perLine = configValue(env, "account.configuration", "tax_rounding") === "line";
  const totals = new Map<string, Dec>();
  const today = env.today();
  for (const line of lines) {
    const taxes = env
      .recs("account.tax", line.taxes)
      .filter((t) => t.exists())
      .sort((a, b) => {
        const sa = a.num("sequence");
        const sb = b.num("sequence");
        if (sa === null && sb !== null) return -1;
        if (sb === null && sa !== null) return 1;
        return (sa ?? 0) - (sb ?? 0) || a.id - b.id;
      });
    const price = line.unitPrice ?? Dec.zero();
    const quantity = floatToDec(line.quantity ?? 0);
    for (const tax of taxes) {
      const start = tax.get("start_date") as PyDate | null;
      const end = tax.get("end_date") as PyDate | null;
      if ((start && start.key() > today.key()) || (end && end.key() < today.key())) continue;
      let amount: Dec;
      if (tax.get("type") === "percentage") amount = price.mul(tax.dec("rate") ?? Dec.zero());
      else if (tax.get("type") === "fixed") amount = tax.dec("amount") ?? Dec.zero();
      else continue;
      amount = amount.mul(quantity);
      const base = price.mul(quantity);
      const key = `${tax.id}:${base.sign() >= 0}`;
      totals.set(key, (totals.get(key) ?? Dec.zero()).add(amount));
    }
    if (perLine) for (const [k, v] of totals) totals.set(k, roundCurrency(currency, v));
  }
  return sumDec([...totals.values()].map((v) => roundCurrency(currency, v)));
}

// ---- links to invoices, shipments, moves ---------------------------------------------

function linesOf(rec: Rec): Rec[] {
  return rec.refs("lines");
}

export function lineInvoiceLines(line: Rec): Rec[] {
  return line.env.recs(
    "account.invoice.line",
    line.env.referrers("account.invoice.line", "origin", `sale.line,${line.id}`),
  );
}

export function lineMoves(line: Rec): Rec[] {
  return line.env.recs("stock.move", line.env.referrers("stock.move", "origin", `sale.line,${line.id}`));
}

function saleInvoices(rec: Rec): number[] {
  const ids = new Set<number>();
  for (const line of linesOf(rec)) {
    for (const il of lineInvoiceLines(line)) {
      const invoice = il.row.invoice;
      if (typeof invoice === "number") ids.add(invoice);
    }
  }
  return [...ids].sort((a, b) => a - b);
}

function saleMoves(rec: Rec): Rec[] {
  return linesOf(rec).flatMap(lineMoves);
}

function saleShipments(rec: Rec): number[] {
  const ids = new Set<number>();
  for (const move of saleMoves(rec)) {
    const shipment = move.row.shipment_out;
    if (typeof shipment === "number") ids.add(shipment);
  }
  return [...ids].sort((a, b) => a - b);
}

// ---- process --------------------------------------------------------------------------

/** `Sale.__queue__.process(sales)`: with worker = False it runs after the commit, errors only logged. */
export function queueSaleProcess(env: Env, saleIds: number[]): void {
  if (saleIds.length === 0) return;
  env.afterCommit.push((next: Env) => {
    const recs = next.recs("sale.sale", saleIds).filter((r) => r.exists());
    processSales(next, recs);
  });
}

function processSales(env: Env, sales: Rec[]): void {
  const toProcessing: Rec[] = [];
  const toDone: Rec[] = [];
  for (const rec of sales) {
    const state = String(rec.get("state"));
    if (!["confirmed", "processing", "done"].includes(state)) continue;
    createInvoice(env, rec);
    setInvoiceState(env, rec);
    createShipment(env, rec);
    setShipmentState(env, rec);
    for (const line of linesOf(rec)) setActualQuantity(env, line);
    if (isDone(rec)) {
      if (state !== "done") {
        if (state === "confirmed") toProcessing.push(rec);
        toDone.push(rec);
      }
    } else if (state !== "processing") toProcessing.push(rec);
  }
  if (toProcessing.length) transition(env, toProcessing, "processing");
  if (toDone.length) transition(env, toDone, "done");
}

/** SaleLine.set_actual_quantity: moved or invoiced so far (cancelled ones left out), the larger in size. */
function setActualQuantity(env: Env, line: Rec): void {
  if (line.get("type") !== "line") return;
  const unit = line.ref("unit");
  let moved = 0;
  for (const move of lineMoves(line))
    if (move.get("state") !== "cancelled" && unit) moved += move.num("quantity") ?? 0;
  if ((line.num("quantity") ?? 0) < 0) moved *= -1;
  let invoiced = 0;
  for (const il of lineInvoiceLines(line)) {
    const invoice = il.ref("invoice");
    if ((!invoice || invoice.get("state") !== "cancelled") && unit && il.get("unit"))
      invoiced += il.num("quantity") ?? 0;
  }
  let actual = Math.abs(invoiced) > Math.abs(moved) ? invoiced : moved;
  if (unit) actual = roundUnit(unit, actual);
  if (line.get("actual_quantity") !== actual)
    env.write("sale.line", [[line.id], { actual_quantity: actual }]);
}

function isDone(rec: Rec): boolean {
  const invoiceState = rec.get("invoice_state");
  const shipmentState = rec.get("shipment_state");
  const products = linesOf(rec)
    .map((l) => l.ref("product"))
    .filter((p): p is Rec => p !== null && p.exists());
  // 7.0: a state `none` means done only when the method is not manual (series.ts).
  const strict = rec.env.series.noneDoneOnlyIfNotManual;
  const none = (state: unknown, method: string) =>
    state === "none" && !(strict && rec.get(method) === "manual");
  return (
    (invoiceState === "paid" || none(invoiceState, "invoice_method")) &&
    (shipmentState === "sent" ||
      none(shipmentState, "shipment_method") ||
      products.every((p) => p.get("type") === "service"))
  );
}

function createInvoice(env: Env, rec: Rec): void {
  const method = rec.get("invoice_method");
  if (method === "manual") return;
  const invoiceLines: Array<Record<string, unknown>> = [];
  for (const line of linesOf(rec)) {
    const type = String(line.get("type"));
    const base = { type, description: line.get("description"), origin: `sale.line,${line.id}` };
    if (type !== "line") {
      if (method === "order" && lineInvoiceLines(line).length === 0) invoiceLines.push(base);
      continue;
    }
    const product = line.ref("product");
    const service = product && product.exists() && product.get("type") === "service";
    let quantity: number;
    if (method === "order" || !product || service) quantity = line.num("quantity") ?? 0;
    else {
      quantity = 0;
      for (const move of lineMoves(line))
        if (move.get("state") === "done") quantity += move.num("quantity") ?? 0;
      if ((line.num("quantity") ?? 0) < 0) quantity *= -1;
    }
    // Lines of recreated invoices no longer count as invoiced: process invoices them again.
    const recreated = new Set(rec.get("invoices_recreated") as number[]);
    for (const il of lineInvoiceLines(line)) {
      if (il.get("type") === "line" && !recreated.has(il.row.invoice as number))
        quantity -= il.num("quantity") ?? 0;
    }
    quantity = roundUnit(line.ref("unit"), quantity);
    if (!quantity) continue;
    let accountId: number;
    if (product && product.exists()) accountId = productRevenueAccount(rec, product);
    else {
      const fallback = configValue(env, "account.configuration", "default_category_account_revenue");
      if (typeof fallback !== "number") {
        throw new UserError(`To invoice sale "${rec.recName}" you must configure a default account revenue.`);
      }
      accountId = fallback;
    }
    invoiceLines.push({
      ...base,
      quantity,
      unit: line.get("unit"),
      product: line.get("product"),
      unit_price: line.get("unit_price"),
      taxes: [["add", line.get("taxes")]],
      account: accountId,
    });
  }
  if (!invoiceLines.length) return;
  const party = rec.ref("invoice_party") ?? rec.ref("party");
  const receivable = configValue(env, "account.configuration", "default_account_receivable");
  if (typeof receivable !== "number") {
    throw new UserError(
      `There is no "Account Receivable" defined for "${party?.exists() ? party.recName : ""}".`,
    );
  }
  env.create("account.invoice", [
    {
      company: rec.get("company"),
      type: "out",
      party: party?.id ?? null,
      invoice_address: rec.get("invoice_address"),
      currency: rec.get("currency"),
      account: receivable,
      payment_term: rec.get("payment_term"),
      lines: [["create", invoiceLines]],
    },
  ]);
}

/** Template.account_revenue_used, with account_product's messages when something is missing. */
function productRevenueAccount(sale: Rec, product: Rec): number {
  const template = product.ref("template");
  const name = template && template.exists() ? template.recName : product.recName;
  const category = template?.ref("account_category") ?? null;
  if (!category || !category.exists()) {
    throw new UserError(`There is no "Account Category" defined for "${name}".`);
  }
  const account = category.num("account_revenue");
  if (account === null) throw new UserError(`There is no "Account Revenue" defined for "${name}".`);
  void sale;
  return account;
}

export function roundUnit(unit: Rec | null, quantity: number): number {
  const rounding = unit && unit.exists() ? unit.num("rounding") : null;
  if (!rounding) return quantity;
  return Number((Math.round(quantity / rounding) * rounding).toFixed(12));
}

function setInvoiceState(env: Env, rec: Rec): void {
  // Invoices handled by the exception wizard (ignored or recreated) no longer count.
  const skip = new Set([
    ...(rec.get("invoices_ignored") as number[]),
    ...(rec.get("invoices_recreated") as number[]),
  ]);
  const invoices = env
    .recs(
      "account.invoice",
      saleInvoices(rec).filter((id) => !skip.has(id)),
    )
    .filter((i) => i.exists());
  const state = env.series.invoiceState(invoices.map((i) => String(i.get("state"))));
  if (rec.get("invoice_state") !== state) env.write("sale.sale", [[rec.id], { invoice_state: state }]);
}

function createShipment(env: Env, rec: Rec): void {
  const method = rec.get("shipment_method");
  if (method === "manual") return;
  const moves: Array<Record<string, unknown>> = [];
  const warehouse = rec.ref("warehouse");
  for (const line of linesOf(rec)) {
    if (line.get("type") !== "line") continue;
    const product = line.ref("product");
    if (!product || !product.exists() || !PRODUCT_TYPES_SHIPPED.has(String(product.get("type")))) continue;
    const lineQuantity = line.num("quantity") ?? 0;
    if (lineQuantity < 0) continue;
    let quantity: number;
    if (method === "order") quantity = Math.abs(lineQuantity);
    else {
      quantity = 0;
      for (const il of lineInvoiceLines(line)) {
        const invoice = il.ref("invoice");
        if (invoice && invoice.exists() && invoice.get("state") === "paid")
          quantity += il.num("quantity") ?? 0;
      }
    }
    // Recreated moves no longer count as shipped: process creates them again.
    const recreated = line.get("moves_recreated") as number[];
    for (const move of lineMoves(line))
      if (!recreated.includes(move.id)) quantity -= move.num("quantity") ?? 0;
    quantity = roundUnit(line.ref("unit"), quantity);
    if (quantity <= 0) continue;
    const party = rec.ref("shipment_party") ?? rec.ref("party");
    const customerLocation = party && party.exists() ? party.num("customer_location") : null;
    if (!customerLocation) {
      throw new UserError(
        `To process sale "${rec.recName}" you must set a customer location on party "${party?.exists() ? party.recName : ""}".`,
      );
    }
    const saleDate = rec.get("sale_date") as PyDate | null;
    const today = env.today();
    moves.push({
      product: product.id,
      quantity,
      uom: line.get("unit"),
      from_location: warehouse?.exists() ? warehouse.get("output_location") : null,
      to_location: customerLocation,
      state: "draft",
      company: rec.get("company"),
      unit_price: line.get("unit_price"),
      currency: rec.get("currency"),
      planned_date: saleDate && saleDate.key() > today.key() ? saleDate : today,
      origin: `sale.line,${line.id}`,
      sale: rec.id,
    });
  }
  if (!moves.length) return;
  const party = rec.ref("shipment_party") ?? rec.ref("party");
  const [shipment] = env.create("stock.shipment.out", [
    {
      customer: party?.id ?? null,
      delivery_address: rec.get("shipment_address"),
      company: rec.get("company"),
      warehouse: rec.get("warehouse"),
      planned_date: moves[0]!.planned_date,
      moves: [["create", moves]],
    },
  ]);
  env.callMethod("stock.shipment.out", "wait", [[shipment]]);
}

function setShipmentState(env: Env, rec: Rec): void {
  const moves = saleMoves(rec);
  let state = "none";
  if (moves.length) {
    const lines = linesOf(rec);
    const progress = lines.map(moveProgress).filter((p): p is number => p !== null);
    state = env.series.shipmentState(lines.some(moveException), progress);
  }
  if (rec.get("shipment_state") !== state) env.write("sale.sale", [[rec.id], { shipment_state: state }]);
}

function moveDone(line: Rec): boolean {
  const progress = moveProgress(line);
  return progress === null || progress >= 1;
}

/**
 * The shipped share of a goods line (done or ignored moves), 1 when nothing remains to ship
 * (after unit rounding); null for other lines (6.0 `move_done`, 7.0 `moves_progress`).
 */
function moveProgress(line: Rec): number | null {
  if (line.get("type") !== "line") return null;
  const product = line.ref("product");
  if (!product || !product.exists() || product.get("type") === "service") return null;
  const total = Math.abs(line.num("quantity") ?? 0);
  let quantity = total;
  const ignored = line.get("moves_ignored") as number[];
  for (const move of lineMoves(line)) {
    if (move.get("state") === "done" || ignored.includes(move.id)) quantity -= move.num("quantity") ?? 0;
  }
  quantity = roundUnit(line.ref("unit"), quantity);
  if (quantity <= 0) return 1;
  return Math.max(0, Math.round(((total - quantity) / total) * 10_000) / 10_000);
}

function moveException(line: Rec): boolean {
  const skip = new Set([
    ...(line.get("moves_ignored") as number[]),
    ...(line.get("moves_recreated") as number[]),
  ]);
  return lineMoves(line).some((m) => m.get("state") === "cancelled" && !skip.has(m.id));
}

/** Cancelled moves of the sale's lines the shipment exception wizard has not handled yet. */
export function pendingCancelledMoves(sale: Rec): number[] {
  const out: number[] = [];
  for (const line of linesOf(sale)) {
    const skip = new Set([
      ...(line.get("moves_ignored") as number[]),
      ...(line.get("moves_recreated") as number[]),
    ]);
    for (const move of lineMoves(line))
      if (move.get("state") === "cancelled" && !skip.has(move.id)) out.push(move.id);
  }
  return out;
}

/** Cancelled invoices of the sale the invoice exception wizard has not handled yet. */
export function pendingCancelledInvoices(sale: Rec): number[] {
  const skip = new Set([
    ...(sale.get("invoices_ignored") as number[]),
    ...(sale.get("invoices_recreated") as number[]),
  ]);
  return saleInvoices(sale).filter(
    (id) => !skip.has(id) && sale.env.store.get("account.invoice", id)?.state === "cancelled",
  );
}

// ---- sale.line --------------------------------------------------------------------------

const saleLine = defineModel({
  name: "sale.line",
  string: "Sale Line",
  order: [
    ["sequence", "ASC NULLS FIRST"],
    ["id", "ASC"],
  ],
  restricted: true,
  company: (rec) => {
    const s = rec.ref("sale");
    return s && s.exists() ? s.num("company") : null;
  },
  fields: {
    sale: many2one("sale.sale", "Sale", { required: true, ondelete: "CASCADE" }),
    sequence: integer("Sequence"),
    type: selection(
      "Type",
      [
        ["line", "Line"],
        ["subtotal", "Subtotal"],
        ["title", "Title"],
        ["comment", "Comment"],
      ],
      { required: true, default: () => "line" },
    ),
    quantity: float("Quantity", {
      digits: (rec) => [16, unitDigits(rec)],
      requiredWhen: (rec) => rec.get("type") === "line",
    }),
    actual_quantity: float("Actual Quantity", { readonly: true, digits: (rec) => [16, unitDigits(rec)] }),
    unit: many2one("product.uom", "Unit", {
      ondelete: "RESTRICT",
      requiredWhen: (rec) => Boolean(rec.get("product")),
      domain: (rec) => {
        const product = rec.ref("product");
        const uom = product && product.exists() ? product.ref("default_uom") : null;
        const category = uom && uom.exists() ? uom.num("category") : null;
        return category !== null ? [["category", "=", category]] : [["category", "!=", -1]];
      },
    }),
    unit_digits: fn(integer("Unit Digits"), (rec) => unitDigits(rec)),
    product: many2one("product.product", "Product", {
      ondelete: "RESTRICT",
      domain: (rec) =>
        ["draft", "quotation"].includes(String(saleState(rec))) ? [["salable", "=", true]] : [],
    }),
    unit_price: numeric("Unit Price", {
      digits: [16, 4],
      requiredWhen: (rec) => rec.get("type") === "line",
    }),
    amount: fn(numeric("Amount"), (rec) => lineAmount(rec)),
    currency: fn(many2one("currency.currency", "Currency"), (rec) => {
      const s = rec.ref("sale");
      return s && s.exists() ? s.get("currency") : null;
    }),
    description: text("Description"),
    summary: fn(char("Summary"), (rec) => (rec.str("description") ?? "").split(/\r?\n/)[0]),
    note: text("Note"),
    taxes: many2many("account.tax", "Taxes", {
      domain: (rec) => {
        const s = rec.ref("sale");
        return [
          ["parent", "=", null],
          ["company", "=", s && s.exists() ? s.get("company") : -1],
        ];
      },
    }),
    invoice_lines: fn(one2many("account.invoice.line", "origin", "Invoice Lines"), (rec) =>
      lineInvoiceLines(rec).map((r) => r.id),
    ),
    moves: fn(one2many("stock.move", "origin", "Moves"), (rec) => lineMoves(rec).map((r) => r.id)),
    moves_ignored: many2many("stock.move", "Ignored Moves", { readonly: true }),
    moves_recreated: many2many("stock.move", "Recreated Moves", { readonly: true }),
    move_done: fn({ type: "boolean", string: "Moves Done" }, (rec) => moveDone(rec)),
    move_exception: fn({ type: "boolean", string: "Moves Exception" }, (rec) => moveException(rec)),
    warehouse: fn(many2one("stock.location", "Warehouse"), (rec) => {
      const s = rec.ref("sale");
      return s && s.exists() ? s.get("warehouse") : null;
    }),
    sale_state: fn(selection("Sale State", SALE_STATES), (rec) => saleState(rec)),
    company: fn(many2one("company.company", "Company"), (rec) => {
      const s = rec.ref("sale");
      return s && s.exists() ? s.get("company") : null;
    }),
  },
  recName: (rec) => {
    const s = rec.ref("sale");
    const saleName = s && s.exists() ? s.recName : "";
    const product = rec.ref("product");
    const unit = rec.ref("unit");
    if (product && product.exists()) {
      // trytond reads `self.unit.digits`: a line without unit has no rec_name.
      if (!unit || !unit.exists()) throw new PythonError("'NoneType' object has no attribute 'digits'");
      const digits = unit.num("digits") ?? 2;
      const symbol = unit.str("symbol") ?? "";
      const separator = rec.env.series.quantitySymbolSeparator;
      return `${(rec.num("quantity") ?? 0).toFixed(digits)}${separator}${symbol} ${product.recName} @ ${saleName}`;
    }
    return saleName;
  },
  searchRecName: (operator, value) =>
    recNameDomain(operator, [
      ["sale.rec_name", operator, value],
      ["product.rec_name", operator, value],
    ]),
  beforeDelete: (_env, recs) => {
    for (const rec of recs) {
      const state = saleState(rec);
      if (state !== "draft" && state !== "cancelled") {
        const s = rec.ref("sale");
        throw new UserError(
          `To delete line "${rec.recName}" you must cancel or reset to draft sale "${s && s.exists() ? s.recName : ""}".`,
        );
      }
    }
  },
});

function unitDigits(rec: Rec): number {
  const unit = rec.ref("unit");
  return unit && unit.exists() ? (unit.num("digits") ?? 2) : 2;
}

function saleState(rec: Rec): unknown {
  const s = rec.ref("sale");
  return s && s.exists() ? s.get("state") : null;
}

export const saleModels: ModelDef[] = [sale, saleLine];
