/**
 * `product.template` and `product.product` (trytond 6.0 product, account_product, sale):
 * the variant's code is the template code plus `suffix_code`, unique among active
 * variants; a template created without `products` gets one variant; a salable template
 * needs a sale unit of the same category as its default unit.
 */
import { UserError } from "../errors";
import type { Env, Rec } from "../orm";
import { defineModel, lstripWildcard, recNameDomain } from "../registry";
import type { FieldDef, ModelDef } from "../schema";
import { boolean, char, fn, many2many, many2one, numeric, one2many, selection, text } from "../schema";

const PRICE_DIGITS = [16, 4] as const;

const templateFields: Record<string, FieldDef> = {
  name: char("Name", { required: true }),
  code: char("Code"),
  type: selection(
    "Type",
    [
      ["goods", "Goods"],
      ["assets", "Assets"],
      ["service", "Service"],
    ],
    { required: true, default: () => "goods" },
  ),
  consumable: boolean("Consumable"),
  list_price: numeric("List Price", { required: true, digits: PRICE_DIGITS }),
  default_uom: many2one("product.uom", "Default UOM", { required: true }),
  salable: boolean("Salable"),
  sale_uom: many2one("product.uom", "Sale UOM", {
    requiredWhen: (rec) => Boolean(rec.get("salable")),
    domain: (rec) => [["category", "=", uomCategory(rec.ref("default_uom"))]],
  }),
  purchasable: boolean("Purchasable"),
  account_category: many2one("product.category", "Account Category", {
    domain: () => [["accounting", "=", true]],
  }),
  categories: many2many("product.category", "Categories"),
  active: boolean("Active", { default: () => true }),
  // Template.default_products ([{}]) is a client default: a template created over RPC
  // without `products` has no variant.
  products: one2many("product.product", "template", "Variants"),
};

function uomCategory(uom: Rec | null): number {
  return uom && uom.exists() ? (uom.num("category") ?? -1) : -1;
}

const template = defineModel({
  name: "product.template",
  string: "Product Template",
  order: [
    ["name", "ASC"],
    ["id", "ASC"],
  ],
  deactivable: true,
  recNameSortable: true,
  fields: templateFields,
  recName: (rec) => {
    const code = rec.str("code");
    const name = rec.str("name") ?? "";
    return code ? `[${code}] ${name}` : name;
  },
  searchRecName: (operator, value) =>
    recNameDomain(operator, [
      ["name", operator, value],
      ["code", operator, lstripWildcard(value)],
      ["products.code", operator, lstripWildcard(value)],
    ]),
  afterWrite: (env, recs, values) => {
    if ("code" in values) for (const rec of recs) refreshCodes(env, rec.refs("products"));
  },
});

/** Variant fields that mirror the template (TemplateFunction fields). */
function fromTemplate(name: string): FieldDef {
  const field = templateFields[name]!;
  return {
    ...fn(
      { ...field, required: false, requiredWhen: undefined, domain: undefined },
      (rec) => {
        const t = rec.ref("template");
        const value = t && t.exists() ? t.get(name) : null;
        // The template's stored boolean comes back as SQLite's 0/1.
        return typeof value === "boolean" ? (value ? 1 : 0) : value;
      },
      true,
    ),
    sortable: true,
  };
}

const product = defineModel({
  name: "product.product",
  string: "Product Variant",
  order: [
    ["code", "ASC"],
    ["template", "ASC"],
    ["id", "ASC"],
  ],
  deactivable: true,
  recNameSortable: true,
  fields: {
    template: many2one("product.template", "Product Template", { required: true, ondelete: "CASCADE" }),
    suffix_code: char("Suffix Code"),
    code: char("Code", { readonly: true }),
    description: text("Description"),
    active: boolean("Active", { default: () => true }),
    prefix_code: fn(char("Prefix Code"), (rec) => {
      const t = rec.ref("template");
      return t && t.exists() ? t.get("code") : null;
    }),
    name: fromTemplate("name"),
    type: fromTemplate("type"),
    consumable: fromTemplate("consumable"),
    list_price: fromTemplate("list_price"),
    default_uom: fromTemplate("default_uom"),
    salable: fromTemplate("salable"),
    sale_uom: fromTemplate("sale_uom"),
    account_category: fromTemplate("account_category"),
    categories: fromTemplate("categories"),
  },
  recName: (rec) => {
    const code = rec.str("code");
    const name = String(rec.get("name") ?? "");
    return code ? `[${code}] ${name}` : name;
  },
  searchRecName: (operator, value) =>
    recNameDomain(operator, [
      ["code", operator, lstripWildcard(value)],
      ["template.name", operator, value],
      ["template.code", operator, lstripWildcard(value)],
    ]),
  beforeCreate: (env, row) => {
    row.code = variantCode(env, row.template, row.suffix_code);
  },
  afterWrite: (env, recs, values) => {
    if ("suffix_code" in values || "template" in values) refreshCodes(env, recs);
  },
  validate: (env, recs) => {
    for (const rec of recs) {
      const code = rec.get("code");
      if (!code || rec.row.active === false) continue;
      for (const row of env.store.table("product.product").values()) {
        if (row.id !== rec.id && row.code === code && row.active !== false) {
          throw new UserError("Code of active product must be unique.");
        }
      }
    }
  },
});

function variantCode(env: Env, templateId: unknown, suffix: unknown): string | null {
  const prefix = typeof templateId === "number" ? env.store.get("product.template", templateId)?.code : null;
  const code = `${typeof prefix === "string" ? prefix : ""}${typeof suffix === "string" ? suffix : ""}`;
  return code || null;
}

function refreshCodes(env: Env, recs: Rec[]): void {
  for (const rec of recs) {
    if (!rec.exists()) continue;
    const code = variantCode(env, rec.row.template, rec.row.suffix_code);
    if (code !== rec.row.code) env.store.update("product.product", rec.id, { code });
  }
}

export const productModels: ModelDef[] = [template, product];
