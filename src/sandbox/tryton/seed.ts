/**
 * The simulator's starting data: what trytond 6.0 has right after
 * `trytond-admin -u sale --activate-dependencies` (units, stock locations, groups,
 * languages, configuration singletons), then what `scripts/tryton-fixtures.ts` creates
 * on the real server, in the same order so that ids match, and the same `fixtures`
 * object it writes to fixtures.json.
 */
import { Dec } from "./decimal";
import type { Env } from "./orm";
import { PyDate } from "./values";

export interface ProductFixture {
  template: number;
  product: number;
  code: string;
}

export interface TrytonFixtures {
  database: string;
  company: number;
  companyParty: number;
  companyCurrency: number;
  currency: Record<string, number>;
  country: Record<string, number>;
  subdivision: Record<string, number>;
  unit: number;
  warehouse: number;
  accounts: { receivable: number; payable: number; tax: number; revenue: number; expense: number };
  accountTypes: { receivable: number; payable: number; tax: number; revenue: number; expense: number };
  paymentTerm: number;
  fiscalYears: Record<string, number>;
  accountCategory: number;
  tax: Record<string, number>;
  products: { shipping: ProductFixture; sampleGoods: ProductFixture };
  customer: { party: number; address: number };
  users: { admin: number; clerk: { id: number; login: string; password: string } };
}

const D = (text: string): Dec => Dec.parse(text) as Dec;

const GROUPS = [
  "Administration",
  "Currency Administration",
  "Party Administration",
  "Company Administration",
  "Employee Administration",
  "Account",
  "Account Administration",
  "Product Administration",
  "Stock",
  "Stock Administration",
  "Stock Force Assignment",
  "Sales",
  "Sales Administrator",
];
/** The admin's groups, in the order trytond returns them. */
const ADMIN_GROUPS = [6, 7, 1, 4, 2, 5, 3, 8, 12, 13, 9, 10, 11];

const LANGUAGES: Array<[string, string]> = [
  ["en", "English"],
  ["bg", "Bulgarian"],
  ["ca", "Català"],
  ["cs", "Czech"],
  ["de", "German"],
  ["es", "Spanish"],
  ["es_419", "Spanish (Latin American)"],
  ["et", "Estonian"],
  ["fa", "Persian"],
  ["fi", "Finnish"],
  ["fr", "French"],
  ["hu", "Hungarian"],
  ["id", "Indonesian"],
  ["it", "Italian"],
  ["lo", "Lao"],
  ["lt", "Lithuanian"],
  ["nl", "Dutch"],
  ["pl", "Polish"],
  ["pt", "Portuguese"],
  ["ro", "Romanian"],
  ["ru", "Russian"],
  ["sl", "Slovenian"],
  ["tr", "Turkish"],
  ["zh_CN", "Chinese Simplified"],
];

const UOM_CATEGORIES = ["Units", "Weight", "Time", "Length", "Volume", "Surface"];

/** product/uom.xml: name, symbol, category, rate, factor, rounding, digits. */
const UOMS: Array<[string, string, number, number, number, number, number]> = [
  ["Unit", "u", 1, 1, 1, 1, 0],
  ["Kilogram", "kg", 2, 1, 1, 0.01, 2],
  ["Gram", "g", 2, 1000, 0.001, 0.01, 2],
  ["Carat", "c", 2, 5000, 0.0002, 0.01, 2],
  ["Pound", "lb", 2, 2.204622621849, 0.45359237, 0.01, 2],
  ["Ounce", "oz", 2, 35.27396194958, 0.028349523125, 0.01, 2],
  ["Second", "s", 3, 3600, 0.000277777778, 0.01, 2],
  ["Minute", "min", 3, 60, 0.016666666667, 0.01, 2],
  ["Hour", "h", 3, 1, 1, 0.01, 2],
  ["Work Day", "wd", 3, 0.125, 8, 0.01, 2],
  ["Day", "d", 3, 0.041666666667, 24, 0.01, 2],
  ["Meter", "m", 4, 1, 1, 0.01, 2],
  ["Kilometer", "km", 4, 0.001, 1000, 0.01, 2],
  ["centimeter", "cm", 4, 100, 0.01, 0.01, 2],
  ["Millimeter", "mm", 4, 1000, 0.001, 0.01, 2],
  ["Foot", "ft", 4, 3.280839895013, 0.3048, 0.01, 2],
  ["Yard", "yd", 4, 1.093613298338, 0.9144, 0.01, 2],
  ["Inch", "in", 4, 39.370078740157, 0.0254, 0.01, 2],
  ["Mile", "mi", 4, 0.000621371192, 1609.344, 0.01, 2],
  ["Cubic meter", "m³", 5, 0.001, 1000, 0.01, 2],
  ["Liter", "l", 5, 1, 1, 0.01, 2],
  ["Cubic centimeter", "cm³", 5, 1000, 0.001, 0.01, 2],
  ["Cubic inch", "in³", 5, 61.023744094732, 0.016387064, 0.01, 2],
  ["Cubic foot", "ft³", 5, 0.035314666721, 28.316846592, 0.01, 2],
  ["Gallon", "gal", 5, 0.264172052358, 3.785411784, 0.01, 2],
  ["Square meter", "m²", 6, 1, 1, 0.01, 2],
  ["Square centimeter", "cm²", 6, 10000, 0.0001, 0.01, 2],
  ["Are", "a", 6, 0.01, 100, 0.01, 2],
  ["Hectare", "ha", 6, 0.0001, 10000, 0.01, 2],
  ["Square inch", "in²", 6, 1550.0031000062, 0.00064516, 0.01, 2],
  ["Square foot", "ft²", 6, 10.76391041671, 0.09290304, 0.01, 2],
  ["Square yard", "yd²", 6, 1.195990046301, 0.83612736, 0.01, 2],
];

/** stock/location.xml, ids 1–8 (the warehouse is 5, the customer location 7). */
const LOCATIONS: Array<Record<string, unknown>> = [
  { name: "Input Zone", code: "IN", type: "storage", parent: 5 },
  { name: "Output Zone", code: "OUT", type: "storage", parent: 5 },
  { name: "Storage Zone", code: "STO", type: "storage", parent: 5 },
  { name: "Lost and Found", type: "lost_found" },
  {
    name: "Warehouse",
    code: "WH",
    type: "warehouse",
    input_location: 1,
    output_location: 2,
    storage_location: 3,
  },
  { name: "Supplier", code: "SUP", type: "supplier" },
  { name: "Customer", code: "CUS", type: "customer" },
  { name: "Transit", type: "storage" },
];

const CURRENCIES = [
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
];

const COUNTRIES = [
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
];

const TAXES = [
  { key: "us_ca_sales_8_25", name: "CA Sales Tax 8.25%", rate: "0.0825" },
  { key: "de_vat_19", name: "DE VAT 19%", rate: "0.19" },
  { key: "de_vat_7", name: "DE VAT 7%", rate: "0.07" },
  { key: "gb_vat_20", name: "GB VAT 20%", rate: "0.20" },
];

export interface SeedOptions {
  database: string;
  username: string;
  password: string;
  clerkPassword: string;
  year: number;
}

/** What trytond-admin leaves in a new database with `sale` activated (runs as root, no company). */
export function seedModules(env: Env, opts: SeedOptions): void {
  env.create(
    "res.group",
    GROUPS.map((name) => ({ name })),
  );
  env.create(
    "ir.lang",
    LANGUAGES.map(([code, name]) => ({ code, name, translatable: code === "en" })),
  );
  const [admin] = env.create("res.user", [
    {
      name: "Administrator",
      login: opts.username,
      email: "admin@example.com",
      groups: [["add", ADMIN_GROUPS]],
    },
  ]);
  // Set as trytond-admin does (TRYTONPASSFILE), without the rules an RPC write checks:
  // the simulator's default "admin"/"admin" would fail "same as login".
  env.store.update("res.user", admin!, { password_hash: opts.password });
  env.create(
    "product.uom.category",
    UOM_CATEGORIES.map((name) => ({ name })),
  );
  env.create(
    "product.uom",
    UOMS.map(([name, symbol, category, rate, factor, rounding, digits]) => ({
      name,
      symbol,
      category,
      rate,
      factor,
      rounding,
      digits,
    })),
  );
  env.create("stock.location", LOCATIONS);
  env.create("account.configuration", [{}]);
  env.create("sale.configuration", [{ sale_sequence: 10 }]);
}

/** scripts/tryton-fixtures.ts, call for call. */
export function seedFixtures(env: Env, opts: SeedOptions): TrytonFixtures {
  const currencyIds = env.create(
    "currency.currency",
    CURRENCIES.map((c) => ({
      name: c.name,
      code: c.code,
      symbol: c.symbol,
      numeric_code: c.numeric_code,
      digits: c.digits,
      rounding: D(c.rounding),
      rates: [["create", [{ date: new PyDate(2000, 1, 1), rate: D(c.rate) }]]],
    })),
  );
  const currency = Object.fromEntries(CURRENCIES.map((c, i) => [c.code, currencyIds[i]!]));

  const countryIds = env.create(
    "country.country",
    COUNTRIES.map((c) => ({
      code: c.code,
      code3: c.code3,
      code_numeric: c.code_numeric,
      name: c.name,
      subdivisions: [["create", c.subdivisions.map((s) => ({ ...s }))]],
    })),
  );
  const country = Object.fromEntries(COUNTRIES.map((c, i) => [c.code, countryIds[i]!]));
  const subdivision = Object.fromEntries(
    env
      .searchRead("country.subdivision", [], 0, null, null, ["code"])
      .map((r) => [String(r.code), r.id as number]),
  );

  const [companyParty] = env.create("party.party", [
    {
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
    },
  ]);
  const [company] = env.create("company.company", [
    { party: companyParty, currency: currency.USD, timezone: "UTC" },
  ]);
  const [admin] = env.search("res.user", [["login", "=", opts.username]], 0, null, null);
  env.write("res.user", [[admin], { companies: [["add", [company]]], company }]);
  env.context.company = company;

  const [unit] = env.search("product.uom", [["symbol", "=", "u"]], 0, 1, null);
  const [warehouse] = env.search("stock.location", [["type", "=", "warehouse"]], 0, 1, null);

  const [receivableType, payableType, taxType, revenueType, expenseType] = env.create(
    "account.account.type",
    [
      { name: "Receivable", statement: "balance", assets: true, receivable: true, sequence: 10 },
      { name: "Payable", statement: "balance", payable: true, sequence: 20 },
      { name: "Tax", statement: "balance", sequence: 30 },
      { name: "Revenue", statement: "income", revenue: true, sequence: 40 },
      { name: "Expense", statement: "income", expense: true, sequence: 50 },
    ].map((t) => ({ ...t, company })),
  );
  const [receivable, payable, taxAccount, revenue, expense] = env.create(
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
  const [paymentTerm] = env.create("account.invoice.payment_term", [
    { name: "Due on receipt", lines: [["create", [{ type: "remainder" }]]] },
  ]);
  env.write("account.configuration", [
    [1],
    {
      default_account_receivable: receivable,
      default_account_payable: payable,
      default_category_account_revenue: revenue,
      default_category_account_expense: expense,
      default_customer_payment_term: paymentTerm,
    },
  ]);

  const years = Array.from({ length: opts.year + 2 - 2020 }, (_, i) => 2020 + i);
  const fiscalYearIds = env.create(
    "account.fiscalyear",
    years.map((y) => ({
      name: String(y),
      start_date: new PyDate(y, 1, 1),
      end_date: new PyDate(y, 12, 31),
      company,
    })),
  );
  const fiscalYears = Object.fromEntries(years.map((y, i) => [String(y), fiscalYearIds[i]!]));

  const taxIds = env.create(
    "account.tax",
    TAXES.map((t) => ({
      name: t.name,
      description: t.name,
      type: "percentage",
      rate: D(t.rate),
      company,
      invoice_account: taxAccount,
      credit_note_account: taxAccount,
    })),
  );
  const tax = Object.fromEntries(TAXES.map((t, i) => [t.key, taxIds[i]!]));

  const [accountCategory] = env.create("product.category", [
    { name: "Magento products", accounting: true, account_revenue: revenue, account_expense: expense },
  ]);
  const product = (name: string, code: string, type: string, price: string): ProductFixture => {
    const [template] = env.create("product.template", [
      {
        name,
        type,
        default_uom: unit,
        salable: true,
        sale_uom: unit,
        list_price: D(price),
        account_category: accountCategory,
        products: [["create", [{ suffix_code: code }]]],
      },
    ]);
    const [variant] = env.search("product.product", [["template", "=", template]], 0, null, null);
    return { template: template!, product: variant!, code };
  };
  const shipping = product("Shipping", "SHIPPING", "service", "0");
  const sampleGoods = product("Test Mug", "TEST-MUG", "goods", "12.50");

  const [customer] = env.create("party.party", [
    {
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
    },
  ]);
  const customerAddress = (env.read("party.party", [customer], ["addresses"])[0]!.addresses as number[])[0]!;

  const [clerk] = env.create("res.user", [
    {
      name: "Clerk Without Groups",
      login: "clerk",
      password: opts.clerkPassword,
      companies: [["add", [company]]],
      company,
    },
  ]);

  return {
    database: opts.database,
    company: company!,
    companyParty: companyParty!,
    companyCurrency: currency.USD!,
    currency,
    country,
    subdivision,
    unit: unit!,
    warehouse: warehouse!,
    accounts: {
      receivable: receivable!,
      payable: payable!,
      tax: taxAccount!,
      revenue: revenue!,
      expense: expense!,
    },
    accountTypes: {
      receivable: receivableType!,
      payable: payableType!,
      tax: taxType!,
      revenue: revenueType!,
      expense: expenseType!,
    },
    paymentTerm: paymentTerm!,
    fiscalYears,
    accountCategory: accountCategory!,
    tax,
    products: { shipping, sampleGoods },
    customer: { party: customer!, address: customerAddress },
    users: { admin: admin!, clerk: { id: clerk!, login: "clerk", password: opts.clerkPassword } },
  };
}
