/**
 * Reference models: users, company, currencies, countries, units, stock locations and
 * the accounting records the sale workflow touches (trytond 6.0 modules res, company,
 * currency, country, product, stock, account, account_invoice).
 */
import { Dec } from "../decimal";
import { UserError } from "../errors";
import type { Env, Rec } from "../orm";
import { defineModel, lstripWildcard, recNameDomain } from "../registry";
import type { ModelDef } from "../schema";
import {
  boolean,
  char,
  date,
  float,
  fn,
  integer,
  many2many,
  many2one,
  numeric,
  one2many,
  selection,
  text,
} from "../schema";

export const companyDefault = (env: Env): unknown => env.context.company ?? null;

/** The stored row of a singleton configuration (`sale.configuration`, `account.configuration`). */
export function configValue(env: Env, model: string, field: string): unknown {
  return env.store.get(model, 1)?.[field] ?? null;
}

const user = defineModel({
  name: "res.user",
  string: "User",
  order: [
    ["name", "ASC"],
    ["id", "ASC"],
  ],
  deactivable: true,
  fields: {
    name: char("Name"),
    login: char("Login", { required: true }),
    password: fn(char("Password"), () => "x".repeat(10)),
    password_hash: char("Password Hash"),
    email: char("Email"),
    signature: text("Signature"),
    active: boolean("Active", { default: () => true }),
    company: many2one("company.company", "Current Company"),
    companies: many2many("company.company", "Companies"),
    groups: many2many("res.group", "Groups"),
    language: many2one("ir.lang", "Language"),
  },
  // The password is a write-only Function field; the simulator keeps it in clear text.
  beforeCreate: (env, row, values) => {
    if (typeof values.password !== "string") return;
    validatePassword(env, values.password, [{ ...row, ...values }]);
    row.password_hash = values.password;
  },
  beforeWrite: (env, recs, values) => {
    if (typeof values.password !== "string") return;
    validatePassword(
      env,
      values.password,
      recs.map((r) => ({ ...r.row, ...values })),
    );
    for (const rec of recs) env.store.update("res.user", rec.id, { password_hash: values.password });
  },
  // User.write clears the sessions of users whose password or active flag changes; in 6.0 that
  // search runs under the caller's access rules and, over RPC, finds nothing (series.ts).
  afterWrite: (env, recs, values) => {
    if (env.series.passwordChangeEndsSessions && ("password" in values || "active" in values))
      env.hooks.endSessions(recs.map((r) => r.id));
  },
});

/** User.validate_password with trytond's defaults: `[password] length = 8`, `entropy = 0.75` (6.0 only). */
function validatePassword(env: Env, password: string, users: Array<Record<string, unknown>>): void {
  const length = 8;
  if (Buffer.byteLength(password, "utf8") < length)
    throw new UserError(env.series.messages.passwordLength(length));
  const entropy = env.series.passwordEntropy;
  if (entropy !== null && new Set(password).size / password.length < entropy) {
    throw new UserError("The same characters appear in the password too many times.");
  }
  for (const user of users) {
    for (const [field, what] of [
      ["name", "name"],
      ["login", "login"],
      ["email", "email address"],
    ] as const) {
      const value = user[field];
      if (typeof value === "string" && value && value.toLowerCase() === password.toLowerCase()) {
        throw new UserError(`The password cannot be the same as user's ${what}.`);
      }
    }
  }
}

const group = defineModel({
  name: "res.group",
  string: "Group",
  order: [
    ["name", "ASC"],
    ["id", "ASC"],
  ],
  fields: { name: char("Name", { required: true }) },
});

const company = defineModel({
  name: "company.company",
  string: "Company",
  order: [["id", "ASC"]],
  fields: {
    party: many2one("party.party", "Party", { required: true, ondelete: "CASCADE" }),
    currency: many2one("currency.currency", "Currency", { required: true }),
    timezone: char("Timezone"),
    header: text("Header"),
    footer: text("Footer"),
  },
  recName: (rec) => rec.ref("party")?.recName ?? "",
  searchRecName: (operator, value) => [["party.rec_name", operator, value]],
});

const currency = defineModel({
  name: "currency.currency",
  string: "Currency",
  order: [
    ["code", "ASC"],
    ["id", "ASC"],
  ],
  deactivable: true,
  fields: {
    name: char("Name", { required: true }),
    symbol: char("Symbol"),
    code: char("Code", { required: true, size: 3 }),
    numeric_code: char("Numeric Code", { size: 3 }),
    rounding: numeric("Rounding factor", {
      required: true,
      digits: [12, 6],
      default: () => Dec.parse("0.01"),
    }),
    digits: integer("Digits", { required: true, default: () => 2 }),
    active: boolean("Active", { default: () => true }),
    rates: one2many("currency.currency.rate", "currency", "Rates"),
    rate: fn(numeric("Current rate", { digits: [12, 6] }), (rec) => currentRate(rec)),
  },
  searchRecName: (operator, value) =>
    recNameDomain(operator, [
      ["code", operator, value],
      ["name", operator, value],
    ]),
});

function currentRate(rec: Rec): Dec | null {
  const rates = rec.refs("rates").filter((r) => r.exists());
  return rates.length ? rates[0]!.dec("rate") : null;
}

const currencyRate = defineModel({
  name: "currency.currency.rate",
  string: "Currency Rate",
  order: [
    ["date", "DESC"],
    ["id", "ASC"],
  ],
  recNameField: "date",
  fields: {
    date: date("Date", { required: true, default: (env) => env.today() }),
    rate: numeric("Rate", { required: true, digits: [12, 6] }),
    currency: many2one("currency.currency", "Currency", { required: true, ondelete: "CASCADE" }),
  },
});

const country = defineModel({
  name: "country.country",
  string: "Country",
  order: [
    ["name", "ASC"],
    ["id", "ASC"],
  ],
  deactivable: true,
  fields: {
    name: char("Name", { required: true }),
    code: char("Code", { size: 2 }),
    code3: char("3-letters Code", { size: 3 }),
    code_numeric: char("Numeric Code"),
    subdivisions: one2many("country.subdivision", "country", "Subdivisions"),
    active: boolean("Active", { default: () => true }),
  },
  searchRecName: (operator, value) =>
    recNameDomain(operator, [
      ["name", operator, value],
      ["code", operator, lstripWildcard(value)],
    ]),
});

const subdivision = defineModel({
  name: "country.subdivision",
  string: "Subdivision",
  order: [
    ["code", "ASC"],
    ["id", "ASC"],
  ],
  deactivable: true,
  fields: {
    country: many2one("country.country", "Country", { required: true }),
    name: char("Name", { required: true }),
    code: char("Code"),
    type: char("Type"),
    parent: many2one("country.subdivision", "Parent"),
    active: boolean("Active", { default: () => true }),
  },
  searchRecName: (operator, value) =>
    recNameDomain(operator, [
      ["name", operator, value],
      ["code", operator, lstripWildcard(value)],
    ]),
});

const uomCategory = defineModel({
  name: "product.uom.category",
  string: "Unit of Measure Category",
  order: [
    ["name", "ASC"],
    ["id", "ASC"],
  ],
  fields: {
    name: char("Name", { required: true }),
    uoms: one2many("product.uom", "category", "Unit of Measures"),
  },
});

const uom = defineModel({
  name: "product.uom",
  string: "Unit of Measure",
  order: [
    ["name", "ASC"],
    ["id", "ASC"],
  ],
  deactivable: true,
  fields: {
    name: char("Name", { required: true }),
    symbol: char("Symbol", { required: true, size: 10 }),
    category: many2one("product.uom.category", "Category", { required: true, ondelete: "RESTRICT" }),
    rate: float("Rate", { required: true, default: () => 1 }),
    factor: float("Factor", { required: true, default: () => 1 }),
    rounding: float("Rounding Precision", { required: true, default: () => 0.01 }),
    digits: integer("Display Digits", { required: true, default: () => 2 }),
    active: boolean("Active", { default: () => true }),
  },
  searchRecName: (operator, value) =>
    recNameDomain(operator, [
      ["name", operator, value],
      ["symbol", operator, value],
    ]),
});

const lang = defineModel({
  name: "ir.lang",
  string: "Language",
  order: [
    ["name", "ASC"],
    ["id", "ASC"],
  ],
  deactivable: true,
  fields: {
    name: char("Name", { required: true }),
    code: char("Code", { required: true }),
    translatable: boolean("Translatable"),
    active: boolean("Active", { default: () => true }),
  },
});

const location = defineModel({
  name: "stock.location",
  string: "Stock Location",
  order: [
    ["name", "ASC"],
    ["id", "ASC"],
  ],
  deactivable: true,
  fields: {
    name: char("Name", { required: true }),
    code: char("Code"),
    active: boolean("Active", { default: () => true }),
    type: selection("Location type", [
      ["supplier", "Supplier"],
      ["customer", "Customer"],
      ["lost_found", "Lost and Found"],
      ["warehouse", "Warehouse"],
      ["storage", "Storage"],
      ["production", "Production"],
      ["drop", "Drop"],
      ["view", "View"],
    ]),
    parent: many2one("stock.location", "Parent"),
    input_location: many2one("stock.location", "Input"),
    output_location: many2one("stock.location", "Output"),
    storage_location: many2one("stock.location", "Storage"),
  },
});

const accountType = defineModel({
  name: "account.account.type",
  string: "Account Type",
  order: [
    ["sequence", "ASC NULLS FIRST"],
    ["id", "ASC"],
  ],
  fields: {
    name: char("Name", { required: true }),
    statement: selection("Statement", [
      [null, ""],
      ["balance", "Balance"],
      ["income", "Income"],
      ["off-balance", "Off-Balance"],
    ]),
    assets: boolean("Assets"),
    receivable: boolean("Receivable"),
    payable: boolean("Payable"),
    revenue: boolean("Revenue"),
    expense: boolean("Expense"),
    stock: boolean("Stock"),
    sequence: integer("Sequence"),
    parent: many2one("account.account.type", "Parent"),
    company: many2one("company.company", "Company", { required: true, default: companyDefault }),
  },
});

const account = defineModel({
  name: "account.account",
  string: "Account",
  order: [
    ["code", "ASC"],
    ["id", "ASC"],
  ],
  deactivable: true,
  fields: {
    name: char("Name", { required: true }),
    code: char("Code"),
    type: many2one("account.account.type", "Type"),
    reconcile: boolean("Reconcile"),
    party_required: boolean("Party Required"),
    closed: boolean("Closed"),
    active: boolean("Active", { default: () => true }),
    company: many2one("company.company", "Company", { required: true, default: companyDefault }),
    parent: many2one("account.account", "Parent"),
  },
  recName: (rec) => {
    const code = rec.str("code");
    const name = rec.str("name") ?? "";
    return code ? `${code} - ${name}` : name;
  },
  searchRecName: (operator, value) =>
    recNameDomain(operator, [
      ["code", operator, lstripWildcard(value)],
      ["name", operator, value],
    ]),
});

const accountConfiguration = defineModel({
  name: "account.configuration",
  string: "Account Configuration",
  order: [["id", "ASC"]],
  fields: {
    default_account_receivable: many2one("account.account", "Default Account Receivable"),
    default_account_payable: many2one("account.account", "Default Account Payable"),
    default_category_account_revenue: many2one("account.account", "Default Account Revenue"),
    default_category_account_expense: many2one("account.account", "Default Account Expense"),
    default_customer_payment_term: many2one("account.invoice.payment_term", "Default Customer Payment Term"),
    tax_rounding: selection(
      "Tax Rounding",
      [
        ["document", "Per Document"],
        ["line", "Per Line"],
      ],
      { default: () => "document" },
    ),
  },
  recName: () => "Account Configuration",
});

const saleConfiguration = defineModel({
  name: "sale.configuration",
  string: "Sale Configuration",
  order: [["id", "ASC"]],
  fields: {
    sale_invoice_method: selection(
      "Sale Invoice Method",
      [
        ["manual", "Manual"],
        ["order", "On Order Processed"],
        ["shipment", "On Shipment Sent"],
      ],
      { default: () => "order" },
    ),
    sale_shipment_method: selection(
      "Sale Shipment Method",
      [
        ["manual", "Manual"],
        ["order", "On Order Processed"],
        ["invoice", "On Invoice Paid"],
      ],
      { default: () => "order" },
    ),
    sale_sequence: integer("Sale Sequence"),
  },
  recName: () => "Sale Configuration",
});

const paymentTerm = defineModel({
  name: "account.invoice.payment_term",
  string: "Payment Term",
  order: [
    ["name", "ASC"],
    ["id", "ASC"],
  ],
  deactivable: true,
  fields: {
    name: char("Name", { required: true }),
    description: text("Description"),
    active: boolean("Active", { default: () => true }),
    lines: one2many("account.invoice.payment_term.line", "payment", "Lines"),
  },
});

const paymentTermLine = defineModel({
  name: "account.invoice.payment_term.line",
  string: "Payment Term Line",
  order: [
    ["sequence", "ASC NULLS FIRST"],
    ["id", "ASC"],
  ],
  fields: {
    payment: many2one("account.invoice.payment_term", "Payment Term", {
      required: true,
      ondelete: "CASCADE",
    }),
    sequence: integer("Sequence"),
    type: selection(
      "Type",
      [
        ["fixed", "Fixed"],
        ["percent", "Percentage on Remainder"],
        ["percent_on_total", "Percentage on Total"],
        ["remainder", "Remainder"],
      ],
      { required: true },
    ),
  },
  recName: (rec) => String(rec.get("type")),
});

const fiscalYear = defineModel({
  name: "account.fiscalyear",
  string: "Fiscal Year",
  order: [
    ["start_date", "ASC"],
    ["id", "ASC"],
  ],
  fields: {
    name: char("Name", { required: true }),
    start_date: date("Starting Date", { required: true }),
    end_date: date("Ending Date", { required: true }),
    state: selection(
      "State",
      [
        ["open", "Open"],
        ["close", "Close"],
        ["locked", "Locked"],
      ],
      { default: () => "open" },
    ),
    company: many2one("company.company", "Company", { required: true, default: companyDefault }),
  },
});

const tax = defineModel({
  name: "account.tax",
  string: "Account Tax",
  order: [
    ["sequence", "ASC NULLS FIRST"],
    ["id", "ASC"],
  ],
  deactivable: true,
  fields: {
    name: char("Name", { required: true }),
    description: char("Description", { required: true }),
    group: many2one("account.tax.group", "Group"),
    start_date: date("Starting Date"),
    end_date: date("Ending Date"),
    amount: numeric("Amount", {
      digits: [16, 8],
      requiredWhen: (rec) => rec.get("type") === "fixed",
    }),
    rate: numeric("Rate", {
      digits: [14, 10],
      requiredWhen: (rec) => rec.get("type") === "percentage",
    }),
    type: selection(
      "Type",
      [
        ["percentage", "Percentage"],
        ["fixed", "Fixed"],
        ["none", "None"],
      ],
      { required: true, default: () => "percentage" },
    ),
    update_unit_price: boolean("Update Unit Price"),
    parent: many2one("account.tax", "Parent", { ondelete: "CASCADE" }),
    childs: one2many("account.tax", "parent", "Children"),
    sequence: integer("Sequence"),
    company: many2one("company.company", "Company", { required: true, default: companyDefault }),
    invoice_account: many2one("account.account", "Invoice Account", {
      requiredWhen: (rec) => rec.get("type") !== "none" && rec.get("company") !== null,
    }),
    credit_note_account: many2one("account.account", "Credit Note Account", {
      requiredWhen: (rec) => rec.get("type") !== "none" && rec.get("company") !== null,
    }),
    legal_notice: text("Legal Notice"),
    active: boolean("Active", { default: () => true }),
  },
});

const taxGroup = defineModel({
  name: "account.tax.group",
  string: "Tax Group",
  order: [
    ["name", "ASC"],
    ["id", "ASC"],
  ],
  fields: {
    name: char("Name", { required: true }),
    code: char("Code", { required: true }),
    kind: selection(
      "Kind",
      [
        ["sale", "Sale"],
        ["purchase", "Purchase"],
        ["both", "Both"],
      ],
      { required: true, default: () => "both" },
    ),
  },
});

const productCategory = defineModel({
  name: "product.category",
  string: "Product Category",
  order: [
    ["name", "ASC"],
    ["id", "ASC"],
  ],
  fields: {
    name: char("Name", { required: true }),
    parent: many2one("product.category", "Parent"),
    childs: one2many("product.category", "parent", "Children"),
    accounting: boolean("Accounting"),
    account_revenue: many2one("account.account", "Account Revenue"),
    account_expense: many2one("account.account", "Account Expense"),
    customer_taxes: many2many("account.tax", "Customer Taxes"),
    supplier_taxes: many2many("account.tax", "Supplier Taxes"),
  },
  recName: (rec) => categoryName(rec),
});

function categoryName(rec: Rec): string {
  const parent = rec.ref("parent");
  const name = rec.str("name") ?? "";
  return parent && parent.exists() ? `${categoryName(parent)} / ${name}` : name;
}

/** `account.configuration` values must point at existing records. */
export function requireConfig(env: Env, field: string, message: string): number {
  const value = configValue(env, "account.configuration", field);
  if (typeof value !== "number") throw new UserError(message);
  return value;
}

export const baseModels: ModelDef[] = [
  user,
  group,
  company,
  currency,
  currencyRate,
  country,
  subdivision,
  uomCategory,
  uom,
  lang,
  location,
  accountType,
  account,
  accountConfiguration,
  saleConfiguration,
  paymentTerm,
  paymentTermLine,
  fiscalYear,
  tax,
  taxGroup,
  productCategory,
];
