/**
 * Magento SKUs → Tryton products, for a whole page at once: found by `code` (= SKU),
 * created when missing as template + product (`suffix_code` = SKU, salable, sale unit,
 * list price, account category, type). One search, and for new SKUs one create of
 * templates (products nested) and one read of the new templates' products.
 *
 * No on_change runs on server-side create (reference trap 5): the sale line gets its
 * unit from here, never from the product.
 */
import { createEach } from "./batch";
import type { ReferenceData, UnitInfo } from "./reference-data";
import type { TrytonClient, TrytonError } from "./rpc";
import type { LineDraft, ProductType, ResolvedProduct } from "./sale-mapping";
import { decimal } from "./values";

export interface ProductSettings {
  /** `product.category` id with accounting set; without one `process` fails ("There is no Account Category"). */
  accountCategory: number | null;
  /** Unit of new products. */
  unit: UnitInfo;
}

export interface ProductWanted {
  code: string;
  name: string;
  type: ProductType;
  listPrice: string;
}

export class ProductMatcher {
  constructor(
    private readonly client: TrytonClient,
    private readonly reference: ReferenceData,
  ) {}

  /** What products a set of lines needs, one entry per code (the first line describes it). */
  static wanted(lines: Iterable<LineDraft>): ProductWanted[] {
    const byCode = new Map<string, ProductWanted>();
    for (const l of lines) {
      if (!byCode.has(l.productCode)) {
        byCode.set(l.productCode, {
          code: l.productCode,
          name: l.productName,
          type: l.productType,
          listPrice: l.kind === "item" && !l.unitPrice.startsWith("-") ? l.unitPrice : "0",
        });
      }
    }
    return [...byCode.values()];
  }

  /**
   * Ids and sale units for every code, creating what is missing. Looked up on every page,
   * never cached: SQLite does not enforce foreign keys (reference trap 13), so a stale id
   * of a product deleted meanwhile would leave a broken sale. Archived products count.
   */
  async resolve(
    wanted: ProductWanted[],
    settings: ProductSettings,
  ): Promise<{
    products: Map<string, ResolvedProduct>;
    units: Map<number, UnitInfo>;
    /** Codes Tryton refused to create, with its error. */
    refused: Map<string, TrytonError>;
  }> {
    const products = new Map<string, ResolvedProduct>();
    const refused = new Map<string, TrytonError>();
    const lookup = wanted;
    if (lookup.length)
      for (const [code, product] of await this.byCode(lookup.map((w) => w.code))) products.set(code, product);
    const missing = lookup.filter((w) => !products.has(w.code));
    if (missing.length) {
      const unit = settings.unit.id;
      const outcomes = await createEach(
        this.client,
        "product.template",
        missing.map((w) => ({
          name: w.name,
          type: w.type,
          default_uom: unit,
          salable: true,
          sale_uom: unit,
          list_price: decimal(w.listPrice),
          ...(settings.accountCategory ? { account_category: settings.accountCategory } : {}),
          products: [["create", [{ suffix_code: w.code }]]],
        })),
      );
      const templates = outcomes.flatMap((o) => (o.ok ? [o.value] : []));
      const rows = await this.client.read("product.template", templates, ["products"]);
      const byTemplate = new Map(rows.map((r) => [r.id, (r.products as number[])[0] as number]));
      missing.forEach((w, i) => {
        const outcome = outcomes[i];
        if (outcome?.ok) products.set(w.code, { id: byTemplate.get(outcome.value) as number, unit });
        else if (outcome) refused.set(w.code, outcome.error);
      });
      // Refused because another runtime created the code meanwhile ("Code of active product must be unique"): use that one.
      if (refused.size) {
        for (const [code, product] of await this.byCode([...refused.keys()])) {
          products.set(code, product);
          refused.delete(code);
        }
      }
    }
    const units = await this.reference.unitsFor([...products.values()].map((p) => p.unit));
    return { products, units, refused };
  }

  /** Existing products by code, the oldest per code. */
  private async byCode(codes: string[]): Promise<Map<string, ResolvedProduct>> {
    const found = new Map<string, ResolvedProduct>();
    const rows = await this.client.searchRead(
      "product.product",
      [
        ["code", "in", codes],
        // Mentioning `active` turns off the implicit active filter: re-using an archived
        // product beats creating a second one with the same code.
        ["active", "in", [true, false]],
      ],
      ["code", "sale_uom", "default_uom"],
      { order: [["id", "ASC"]] },
    );
    for (const r of rows) {
      const code = String(r.code);
      if (!found.has(code)) {
        found.set(code, { id: r.id, unit: (r.sale_uom as number | null) ?? (r.default_uom as number) });
      }
    }
    return found;
  }
}
