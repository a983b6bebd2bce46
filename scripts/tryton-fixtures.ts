/**
 * Base data on a freshly activated Tryton 6.0 `sale` database, so that sales can be
 * created, quoted, confirmed and processed with `invoice_method = order`, in several
 * currencies, with taxes available for a tax map. Run by `scripts/tryton.sh fixtures`:
 *
 *   tsx scripts/tryton-fixtures.ts --url http://127.0.0.1:PORT --database DB \
 *       --username admin --password-file FILE --out fixtures.json
 *
 * After activation the currency and country tables are empty, there is no company and no
 * chart of accounts (only templates). Without a receivable account and a revenue account
 * reachable from each product's account category, `sale.process` fails with
 * `There is no "Account Category" defined for "…"`; without a fiscal year and invoice
 * sequences an invoice cannot be posted later. (tryton/sale 6.0 `sale.py`
 * `get_invoice_line`; tryton/account_invoice 6.0 `account.py` `FiscalYear`.)
 */
import { readFileSync, writeFileSync } from "node:fs";

import { date, decimal, TrytonClient } from "../src/tryton/rpc";

interface Args {
  url: string;
  database: string;
  username: string;
  passwordFile: string;
  out: string;
}

function parseArgs(argv: string[]): Args {
  const get = (name: string): string => {
    const i = argv.indexOf(`--${name}`);
    const value = i >= 0 ? argv[i + 1] : undefined;
    if (!value) throw new Error(`missing --${name}`);
    return value;
  };
  return {
    url: get("url"),
    database: get("database"),
    username: get("username"),
    passwordFile: get("password-file"),
    out: get("out"),
  };
}

const currencies = [
  // ISO 4217 minor units: JPY has none.
  {
    name: "US Dollar",
    code: "USD",
    symbol: "$",
    numeric_code: "840",
    digits: 2,
    rounding: "0.01",
    rate: "1",
  },
  { name: "Euro", code: "EUR", symbol: "€", numeric_code: "978", digits: 2, rounding: "0.01", rate: "0.92" },
  {
    name: "Pound Sterling",
    code: "GBP",
    symbol: "£",
    numeric_code: "826",
    digits: 2,
    rounding: "0.01",
    rate: "0.79",
  },
  { name: "Yen", code: "JPY", symbol: "¥", numeric_code: "392", digits: 0, rounding: "1", rate: "150" },
] as const;

const countries = [
  {
    code: "US",
    code3: "USA",
    code_numeric: "840",
    name: "United States",
    subdivisions: [
      { code: "US-CA", name: "California", type: "state" },
      { code: "US-NY", name: "New York", type: "state" },
      { code: "US-TX", name: "Texas", type: "state" },
    ],
  },
  {
    code: "DE",
    code3: "DEU",
    code_numeric: "276",
    name: "Germany",
    subdivisions: [
      { code: "DE-BE", name: "Berlin", type: "land" },
      { code: "DE-BY", name: "Bayern", type: "land" },
    ],
  },
  {
    code: "GB",
    code3: "GBR",
    code_numeric: "826",
    name: "United Kingdom",
    subdivisions: [{ code: "GB-ENG", name: "England", type: "nation" }],
  },
  { code: "FR", code3: "FRA", code_numeric: "250", name: "France", subdivisions: [] },
  {
    code: "JP",
    code3: "JPN",
    code_numeric: "392",
    name: "Japan",
    subdivisions: [{ code: "JP-13", name: "Tokyo", type: "prefecture" }],
  },
] as const;

const taxes = [
  { key: "us_ca_sales_8_25", name: "CA Sales Tax 8.25%", rate: "0.0825" },
  { key: "de_vat_19", name: "DE VAT 19%", rate: "0.19" },
  { key: "de_vat_7", name: "DE VAT 7%", rate: "0.07" },
  { key: "gb_vat_20", name: "GB VAT 20%", rate: "0.20" },
] as const;

async function modelDataId(client: TrytonClient, module: string, fsId: string): Promise<number> {
  const rows = await client.searchRead(
    "ir.model.data",
    [
      ["module", "=", module],
      ["fs_id", "=", fsId],
    ],
    ["db_id"],
  );
  const id = rows[0]?.db_id;
  if (typeof id !== "number") throw new Error(`no ir.model.data ${module}.${fsId}`);
  return id;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const password = readFileSync(args.passwordFile, "utf8").split("\n")[0] ?? "";
  const client = new TrytonClient({
    url: args.url,
    database: args.database,
    username: args.username,
    password,
  });
  await client.login();
  const one = async (model: string, values: Record<string, unknown>): Promise<number> =>
    (await client.create(model, [values]))[0] as number;

  // Currencies (+ rates against USD, needed only when posting foreign-currency invoices).
  const currencyIds = await client.create(
    "currency.currency",
    currencies.map((c) => ({
      name: c.name,
      code: c.code,
      symbol: c.symbol,
      numeric_code: c.numeric_code,
      digits: c.digits,
      rounding: decimal(c.rounding),
      rates: [["create", [{ date: date("2000-01-01"), rate: decimal(c.rate) }]]],
    })),
  );
  const currency = Object.fromEntries(currencies.map((c, i) => [c.code, currencyIds[i] as number]));

  // Countries and a few subdivisions.
  const countryIds = await client.create(
    "country.country",
    countries.map((c) => ({
      code: c.code,
      code3: c.code3,
      code_numeric: c.code_numeric,
      name: c.name,
      subdivisions: [["create", c.subdivisions.map((s) => ({ ...s }))]],
    })),
  );
  const country = Object.fromEntries(countries.map((c, i) => [c.code, countryIds[i] as number]));
  const subdivisionRows = await client.searchRead("country.subdivision", [], ["code"]);
  const subdivision = Object.fromEntries(subdivisionRows.map((r) => [String(r.code), r.id]));

  // Company, and the admin user working in it.
  const companyParty = await one("party.party", {
    name: "OrderBridge Test Shop",
    addresses: [
      [
        "create",
        [
          {
            street: "1 Market Street",
            city: "San Francisco",
            postal_code: "94105",
            country: country.US,
            subdivision: subdivision["US-CA"],
          },
        ],
      ],
    ],
  });
  const company = await one("company.company", { party: companyParty, currency: currency.USD });
  const [admin] = await client.search("res.user", [["login", "=", args.username]]);
  await client.write("res.user", [admin as number], { companies: [["add", [company]]], company });
  // The context must carry the company from now on (record rules "User in companies").
  await client.refreshContext();
  if (client.context.company !== company) throw new Error("get_preferences did not return the company");

  const [unit] = await client.search("product.uom", [["symbol", "=", "u"]], { limit: 1 });
  const [warehouse] = await client.search("stock.location", [["type", "=", "warehouse"]], { limit: 1 });

  // Chart of accounts, minimal: the account types and accounts a sale/invoice touches.
  const [receivableType, payableType, taxType, revenueType, expenseType] = await client.create(
    "account.account.type",
    [
      { name: "Receivable", statement: "balance", assets: true, receivable: true, sequence: 10 },
      { name: "Payable", statement: "balance", payable: true, sequence: 20 },
      { name: "Tax", statement: "balance", sequence: 30 },
      { name: "Revenue", statement: "income", revenue: true, sequence: 40 },
      { name: "Expense", statement: "income", expense: true, sequence: 50 },
    ].map((t) => ({ ...t, company })),
  );
  const [receivable, payable, taxAccount, revenue, expense] = await client.create(
    "account.account",
    [
      {
        code: "1200",
        name: "Accounts Receivable",
        type: receivableType,
        reconcile: true,
        party_required: true,
      },
      { code: "2100", name: "Accounts Payable", type: payableType, reconcile: true, party_required: true },
      { code: "2300", name: "Sales Tax Payable", type: taxType },
      { code: "4000", name: "Sales", type: revenueType },
      { code: "5000", name: "Purchases", type: expenseType },
    ].map((a) => ({ ...a, company })),
  );
  const paymentTerm = await one("account.invoice.payment_term", {
    name: "Due on receipt",
    lines: [["create", [{ type: "remainder" }]]],
  });
  await client.write("account.configuration", [1], {
    default_account_receivable: receivable,
    default_account_payable: payable,
    default_category_account_revenue: revenue,
    default_category_account_expense: expense,
    default_customer_payment_term: paymentTerm,
  });

  // Fiscal years with monthly periods, move and invoice sequences: posting needs them.
  const moveSequenceType = await modelDataId(client, "account", "sequence_type_account_move");
  const invoiceSequenceType = await modelDataId(client, "account_invoice", "sequence_type_account_invoice");
  const thisYear = new Date().getUTCFullYear();
  const years = Array.from({ length: thisYear + 2 - 2020 }, (_, i) => 2020 + i);
  const moveSequences = await client.create(
    "ir.sequence",
    years.map((y) => ({ name: `Account Move ${y}`, sequence_type: moveSequenceType, company })),
  );
  const invoiceSequences = await client.create(
    "ir.sequence.strict",
    years.map((y) => ({
      name: `Invoice ${y}`,
      sequence_type: invoiceSequenceType,
      company,
      prefix: `${y}/`,
    })),
  );
  const fiscalYearIds = await client.create(
    "account.fiscalyear",
    years.map((y, i) => ({
      name: String(y),
      start_date: date(`${y}-01-01`),
      end_date: date(`${y}-12-31`),
      company,
      post_move_sequence: moveSequences[i],
      invoice_sequences: [
        [
          "create",
          [
            {
              company,
              in_invoice_sequence: invoiceSequences[i],
              in_credit_note_sequence: invoiceSequences[i],
              out_invoice_sequence: invoiceSequences[i],
              out_credit_note_sequence: invoiceSequences[i],
            },
          ],
        ],
      ],
    })),
  );
  await client.button("account.fiscalyear", "create_period", fiscalYearIds);
  const fiscalYears = Object.fromEntries(years.map((y, i) => [String(y), fiscalYearIds[i] as number]));

  // Taxes for tax-map tests (percentage; no tax codes: reports are out of scope).
  const taxIds = await client.create(
    "account.tax",
    taxes.map((t) => ({
      name: t.name,
      description: t.name,
      type: "percentage",
      rate: decimal(t.rate),
      company,
      invoice_account: taxAccount,
      credit_note_account: taxAccount,
    })),
  );
  const tax = Object.fromEntries(taxes.map((t, i) => [t.key, taxIds[i] as number]));

  // Product account category: every template needs one for process() to invoice it.
  const accountCategory = await one("product.category", {
    name: "Magento products",
    accounting: true,
    account_revenue: revenue,
    account_expense: expense,
  });
  const product = async (name: string, code: string, type: "goods" | "service", price: string) => {
    const template = await one("product.template", {
      name,
      type,
      default_uom: unit,
      salable: true,
      sale_uom: unit,
      list_price: decimal(price),
      account_category: accountCategory,
      products: [["create", [{ suffix_code: code }]]],
    });
    const [variant] = await client.search("product.product", [["template", "=", template]]);
    return { template, product: variant as number, code };
  };
  const shipping = await product("Shipping", "SHIPPING", "service", "0");
  const sampleGoods = await product("Test Mug", "TEST-MUG", "goods", "12.50");

  // A customer with one address, for tests that need a ready party.
  const customer = await one("party.party", {
    name: "Jane Roe",
    addresses: [
      [
        "create",
        [
          {
            party_name: "Jane Roe",
            street: "5 Elm St",
            city: "Austin",
            postal_code: "73301",
            country: country.US,
            subdivision: subdivision["US-TX"],
          },
        ],
      ],
    ],
    contact_mechanisms: [["create", [{ type: "email", value: "jane.roe@example.com" }]]],
  });
  const [customerRow] = await client.read("party.party", [customer], ["addresses"]);
  const customerAddress = (customerRow?.addresses as number[])[0] as number;

  // A user without any group: every sale call is an access error for it.
  const clerkPassword = "Kq7-Vx2!mZp9#Lt4"; // [password] entropy: few repeated characters
  const clerk = await one("res.user", {
    name: "Clerk Without Groups",
    login: "clerk",
    password: clerkPassword,
    companies: [["add", [company]]],
    company,
  });

  const fixtures = {
    database: args.database,
    company,
    companyParty,
    companyCurrency: currency.USD,
    currency,
    country,
    subdivision,
    unit,
    warehouse,
    accounts: { receivable, payable, tax: taxAccount, revenue, expense },
    accountTypes: {
      receivable: receivableType,
      payable: payableType,
      tax: taxType,
      revenue: revenueType,
      expense: expenseType,
    },
    paymentTerm,
    fiscalYears,
    accountCategory,
    tax,
    products: { shipping, sampleGoods },
    customer: { party: customer, address: customerAddress },
    users: { admin, clerk: { id: clerk, login: "clerk", password: clerkPassword } },
  };
  writeFileSync(args.out, JSON.stringify(fixtures, null, 2) + "\n");
  await client.logout();
}

main().catch((err: unknown) => {
  console.error(`[tryton-fixtures] ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
