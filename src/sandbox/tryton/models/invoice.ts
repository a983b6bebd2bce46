/**
 * `account.invoice` and `account.invoice.line` (trytond 6.0 account_invoice + sale's
 * invoice.py): the draft customer invoice a processed sale creates, `post` (number from
 * the fiscal year's sequence, `YYYY/N`; no fiscal year → the period error), `cancel`
 * (refused once posted), and the sale re-processing that follows. Paying needs the pay
 * wizard on a real server; the simulator offers `payInvoice()` on its handle instead.
 */
import { Dec, sumDec } from "../decimal";
import { UserError } from "../errors";
import type { Env, Rec } from "../orm";
import { defineModel } from "../registry";
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
import type { PyDate } from "../values";
import { companyDefault } from "./base";
import { currencyOf, floatToDec, queueSaleProcess, roundCurrency, taxAmount } from "./sale";

const INVOICE_TRANSITIONS = new Set([
  "draft>validated",
  "validated>posted",
  "draft>posted",
  "posted>posted",
  "posted>paid",
  "validated>draft",
  "paid>posted",
  "draft>cancelled",
  "validated>cancelled",
  "posted>cancelled",
  "cancelled>draft",
]);

function invoiceLineAmount(line: Rec): Dec {
  if (line.get("type") !== "line") return Dec.parse("0.0") as Dec;
  const invoice = line.ref("invoice");
  const currency = invoice && invoice.exists() ? currencyOf(invoice.ref("currency")) : null;
  const amount = floatToDec(line.num("quantity")).mul(line.dec("unit_price") ?? (Dec.parse("0.0") as Dec));
  return currency ? roundCurrency(currency, amount) : amount;
}

function amounts(rec: Rec): { untaxed: Dec; tax: Dec; total: Dec } {
  const lines = rec.refs("lines").filter((l) => l.get("type") === "line");
  const untaxed = sumDec(lines.map(invoiceLineAmount));
  const tax = taxAmount(
    rec.env,
    currencyOf(rec.ref("currency")),
    lines.map((l) => ({
      taxes: l.get("taxes") as number[],
      unitPrice: l.dec("unit_price"),
      quantity: l.num("quantity"),
    })),
  );
  return { untaxed, tax, total: untaxed.add(tax) };
}

function salesOf(rec: Rec): number[] {
  const ids = new Set<number>();
  for (const line of rec.refs("lines")) {
    const origin = line.row.origin;
    if (typeof origin !== "string" || !origin.startsWith("sale.line,")) continue;
    const saleLine = rec.env.store.get("sale.line", Number(origin.split(",")[1]));
    if (typeof saleLine?.sale === "number") ids.add(saleLine.sale);
  }
  return [...ids].sort((a, b) => a - b);
}

const invoice = defineModel({
  name: "account.invoice",
  string: "Invoice",
  order: [
    ["number", "DESC NULLS FIRST"],
    ["id", "DESC"],
  ],
  restricted: true,
  company: (rec) => rec.num("company"),
  recName: (rec) => {
    const items: string[] = [];
    const number = rec.str("number");
    const ref = rec.str("reference");
    if (number) items.push(number);
    if (ref) items.push(`[${ref}]`);
    if (!items.length) items.push(`(${rec.id})`);
    return items.join(" ");
  },
  fields: {
    company: many2one("company.company", "Company", { required: true, default: companyDefault }),
    type: selection(
      "Type",
      [
        ["out", "Customer"],
        ["in", "Supplier"],
      ],
      { required: true },
    ),
    number: char("Number", { readonly: true }),
    reference: char("Reference"),
    description: char("Description"),
    state: selection(
      "State",
      [
        ["draft", "Draft"],
        ["validated", "Validated"],
        ["posted", "Posted"],
        ["paid", "Paid"],
        ["cancelled", "Cancelled"],
      ],
      { required: true, readonly: true, default: () => "draft" },
    ),
    invoice_date: date("Invoice Date"),
    accounting_date: date("Accounting Date"),
    party: many2one("party.party", "Party", { required: true }),
    invoice_address: many2one("party.address", "Invoice Address", { required: true }),
    currency: many2one("currency.currency", "Currency", { required: true }),
    account: many2one("account.account", "Account", { required: true }),
    payment_term: many2one("account.invoice.payment_term", "Payment Term"),
    comment: text("Comment"),
    move: fn(many2one("account.move", "Move"), () => null),
    lines: one2many("account.invoice.line", "invoice", "Lines"),
    untaxed_amount: fn(numeric("Untaxed"), (rec) => amounts(rec).untaxed),
    tax_amount: fn(numeric("Tax"), (rec) => amounts(rec).tax),
    total_amount: fn(numeric("Total"), (rec) => amounts(rec).total),
    amount_to_pay: fn(numeric("Amount to Pay"), (rec) =>
      rec.get("state") === "posted" ? amounts(rec).total : Dec.zero(),
    ),
    sales: fn(many2many("sale.sale", "Sales"), (rec) => salesOf(rec), true),
    origins: fn(char("Origins"), (rec) => {
      const names = salesOf(rec).map((id) => rec.env.rec("sale.sale", id).recName);
      return names.length ? names.join(", ") : null;
    }),
  },
  methods: {
    validate_invoice: (env, [ids]) => {
      invoiceTransition(env, ids, "validated");
      return null;
    },
    post: (env, [ids]) => {
      const posted = invoiceTransition(env, ids, "posted", (recs) => {
        for (const rec of recs) {
          if (rec.get("state") === "posted") continue;
          const invoiceDate = (rec.get("invoice_date") as PyDate | null) ?? env.today();
          const prefix = fiscalYearPrefix(env, rec, invoiceDate);
          const values: Record<string, unknown> = { invoice_date: invoiceDate };
          if (!rec.get("number"))
            values.number = `${prefix}${env.store.nextSequence(`account.invoice:${prefix}`)}`;
          env.write("account.invoice", [[rec.id], values]);
        }
      });
      queueSaleProcess(env, posted.flatMap(salesOf));
      return null;
    },
    cancel: (env, [ids]) => {
      const cancelled = invoiceTransition(env, ids, "cancelled", (recs) => {
        for (const rec of recs) {
          if (rec.get("state") === "posted" && rec.get("type") === "out") {
            throw new UserError(
              `You cannot cancel customer invoice "${rec.recName}" because it is posted and company setup does not allow it.`,
            );
          }
        }
      });
      queueSaleProcess(env, cancelled.flatMap(salesOf));
      return null;
    },
    draft: (env, [ids]) => {
      invoiceTransition(env, ids, "draft");
      return null;
    },
  },
});

/** The fiscal year of the date decides the invoice sequence; none → trytond's period error. */
function fiscalYearPrefix(env: Env, rec: Rec, day: PyDate): string {
  const company = rec.get("company");
  for (const row of env.store.table("account.fiscalyear").values()) {
    const start = row.start_date as PyDate;
    const end = row.end_date as PyDate;
    if (row.company === company && start.key() <= day.key() && day.key() <= end.key()) {
      return `${start.year}/`;
    }
  }
  throw new UserError(`To continue, you must create a period for the date "${day.localeString()}".`);
}

function browseInvoices(env: Env, ids: unknown): Rec[] {
  const list = Array.isArray(ids) ? ids.map(Number) : [Number(ids)];
  env.read("account.invoice", list, ["state"]);
  return env.recs("account.invoice", list);
}

function invoiceTransition(env: Env, ids: unknown, to: string, body?: (recs: Rec[]) => void): Rec[] {
  const recs = browseInvoices(env, ids);
  const allowed = recs.filter((r) => INVOICE_TRANSITIONS.has(`${String(r.get("state"))}>${to}`));
  body?.(allowed);
  const moving = allowed.filter((r) => r.get("state") !== to);
  if (moving.length) env.write("account.invoice", [moving.map((r) => r.id), { state: to }]);
  return allowed;
}

/** What the real pay wizard ends with: a posted invoice becomes paid and its sales re-process. */
export function payInvoices(env: Env, ids: number[]): void {
  const paid = invoiceTransition(env, ids, "paid");
  queueSaleProcess(env, paid.flatMap(salesOf));
}

const invoiceLine = defineModel({
  name: "account.invoice.line",
  string: "Invoice Line",
  order: [
    ["sequence", "ASC NULLS FIRST"],
    ["id", "ASC"],
  ],
  restricted: true,
  company: (rec) => {
    const inv = rec.ref("invoice");
    return inv && inv.exists() ? inv.num("company") : null;
  },
  fields: {
    invoice: many2one("account.invoice", "Invoice", { ondelete: "CASCADE" }),
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
    product: many2one("product.product", "Product"),
    quantity: float("Quantity"),
    unit: many2one("product.uom", "Unit"),
    unit_price: numeric("Unit Price", { digits: [16, 4] }),
    description: text("Description"),
    note: text("Note"),
    account: many2one("account.account", "Account"),
    taxes: many2many("account.tax", "Taxes"),
    origin: reference("Origin"),
    amount: fn(numeric("Amount"), (rec) => invoiceLineAmount(rec)),
  },
  recName: (rec) => {
    const inv = rec.ref("invoice");
    const product = rec.ref("product");
    const head = product && product.exists() ? product.recName : (rec.str("description") ?? "");
    return inv && inv.exists() ? `${head} @ ${inv.recName}` : head;
  },
});

export const invoiceModels: ModelDef[] = [invoice, invoiceLine];
