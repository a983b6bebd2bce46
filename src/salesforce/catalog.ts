/**
 * Product2 and PricebookEntry for the SKUs of a page (reference §4.5): an OrderItem needs an
 * active entry of the order's price book (in the order's currency in a multi-currency org),
 * and a custom price book entry needs a standard one first.
 *
 * - Products are found by the SKU external-ID field, or adopted when a product has that
 *   ProductCode and no SKU key yet (the key is then set on it) — so products the merchant
 *   created by hand are not duplicated. Several candidates by ProductCode: the order fails
 *   with a message naming them.
 * - Missing products are upserted by SKU and their entries created (standard first, then the
 *   chosen price book), list price = the first Magento price seen; existing list prices are
 *   never changed (the order lines carry the actual prices).
 * - An inactive entry is not reactivated (someone deactivated it on purpose): orders using it
 *   fail with a message saying so.
 * - Entries found are cached for the life of the pusher; a write that says an entry is gone or
 *   unusable evicts it (`forget`).
 */
import type { Connection } from "jsforce";
import { runSteps, recordErrorText, type Rec, type RecordError, type Step } from "./composite";
import { readError } from "./errors";
import { childRows, inLists, queryAll } from "./soql";

export interface CatalogNeed {
  sku: string;
  currency: string;
  productName: string;
  listPrice: number;
}

export interface CatalogEntry {
  entryId: string;
  productId: string;
}

export interface CatalogSetup {
  skuField: string;
  standardPricebookId: string;
  pricebookId: string;
  pricebookName: string;
  multiCurrency: boolean;
}

export interface CatalogFailure {
  message: string;
  /** A lock conflict or server error: another attempt may succeed. */
  retryable: boolean;
}

export interface CatalogResult {
  entries: Map<string, CatalogEntry>;
  /** needKey → why the SKU cannot be used. */
  failures: Map<string, CatalogFailure>;
}

const TRANSIENT = new Set(["UNABLE_TO_LOCK_ROW", "UNKNOWN_EXCEPTION", "SERVER_UNAVAILABLE"]);

const failure = (message: string, error?: RecordError): CatalogFailure => ({
  message: error ? `${message}: ${recordErrorText(error)}` : message,
  retryable: error !== undefined && TRANSIENT.has(error.code),
});

interface ProductRow {
  Id: string;
  ProductCode?: string | null;
  PricebookEntries?: unknown;
  [field: string]: unknown;
}

interface EntryRow {
  Id: string;
  Pricebook2Id: string;
  IsActive: boolean;
  CurrencyIsoCode?: string;
}

export function needKey(sku: string, currency: string): string {
  return `${currency.toUpperCase()}|${sku.toLowerCase()}`;
}

export class Catalog {
  private readonly cache = new Map<string, CatalogEntry>();

  constructor(private readonly setup: CatalogSetup) {}

  forget(entryId: string): void {
    for (const [k, v] of this.cache) if (v.entryId === entryId) this.cache.delete(k);
  }

  /** Entries for every need, creating what is missing; `onRequest` is told of each API call. */
  async resolve(conn: Connection, needs: CatalogNeed[], onRequest?: () => void): Promise<CatalogResult> {
    const entries = new Map<string, CatalogEntry>();
    const failures = new Map<string, CatalogFailure>();
    const todo = new Map<string, CatalogNeed>();
    for (const need of needs) {
      const k = needKey(need.sku, need.currency);
      const hit = this.cache.get(k);
      if (hit) entries.set(k, hit);
      else if (!todo.has(k)) todo.set(k, need);
    }
    if (todo.size === 0) return { entries, failures };

    const { skuField, standardPricebookId, pricebookId, multiCurrency } = this.setup;
    const custom = pricebookId !== standardPricebookId;
    const skus = [...new Set([...todo.values()].map((n) => n.sku))];
    const byKey = new Map<string, ProductRow>();
    const byCode = new Map<string, ProductRow[]>();
    const currencyField = multiCurrency ? ", CurrencyIsoCode" : "";
    for (const list of inLists(skus, 6000)) {
      onRequest?.();
      let rows: ProductRow[];
      try {
        rows = await queryAll<ProductRow>(
          conn,
          `SELECT Id, ProductCode, ${skuField}, (SELECT Id, Pricebook2Id, IsActive${currencyField} FROM PricebookEntries ` +
            `WHERE Pricebook2Id IN ('${standardPricebookId}'${custom ? `, '${pricebookId}'` : ""})) ` +
            `FROM Product2 WHERE ${skuField} IN (${list}) OR ProductCode IN (${list})`,
        );
      } catch (err) {
        throw readError(err, "lookup of products and price book entries");
      }
      for (const row of rows) {
        const key = row[skuField];
        if (typeof key === "string" && key !== "") byKey.set(key.toLowerCase(), row);
        else if (typeof row.ProductCode === "string") {
          const code = row.ProductCode.toLowerCase();
          byCode.set(code, [...(byCode.get(code) ?? []), row]);
        }
      }
    }

    const newProducts = new Map<string, CatalogNeed>();
    const adopt = new Map<string, { row: ProductRow; sku: string }>();
    const product = new Map<string, { id?: string; entries: EntryRow[] }>();
    for (const need of todo.values()) {
      const sku = need.sku.toLowerCase();
      if (product.has(sku)) continue;
      const found = byKey.get(sku);
      if (found) {
        product.set(sku, { id: found.Id, entries: childRows<EntryRow>(found.PricebookEntries) });
        continue;
      }
      const candidates = byCode.get(sku) ?? [];
      if (candidates.length > 1) {
        for (const n of todo.values()) {
          if (n.sku.toLowerCase() === sku) {
            failures.set(
              needKey(n.sku, n.currency),
              failure(
                `several Salesforce products have Product Code "${need.sku}" (${candidates.map((c) => c.Id).join(", ")}); set ${skuField} = "${need.sku}" on the right one`,
              ),
            );
          }
        }
        product.set(sku, { entries: [] });
        continue;
      }
      if (candidates.length === 1) {
        adopt.set(sku, { row: candidates[0], sku: need.sku });
        product.set(sku, {
          id: candidates[0].Id,
          entries: childRows<EntryRow>(candidates[0].PricebookEntries),
        });
        continue;
      }
      newProducts.set(sku, need);
      product.set(sku, { entries: [] });
    }

    // Which entries exist, which must be created (standard first), which are unusable.
    const entryOf = (sku: string, pricebook: string, currency: string): EntryRow | undefined =>
      product
        .get(sku)
        ?.entries.find(
          (e) => e.Pricebook2Id === pricebook && (!multiCurrency || e.CurrencyIsoCode === currency),
        );
    const createStandard: { need: CatalogNeed; k: string }[] = [];
    const createCustom: { need: CatalogNeed; k: string }[] = [];
    for (const [k, need] of todo) {
      if (failures.has(k)) continue;
      const sku = need.sku.toLowerCase();
      const target = entryOf(sku, pricebookId, need.currency);
      if (target) {
        if (!target.IsActive) {
          failures.set(
            k,
            failure(
              `the price book entry of SKU "${need.sku}" in "${this.setup.pricebookName}"${multiCurrency ? ` (${need.currency})` : ""} is inactive: activate it in Salesforce`,
            ),
          );
        } else {
          const entry = { entryId: target.Id, productId: product.get(sku)?.id as string };
          this.cache.set(k, entry);
          entries.set(k, entry);
        }
        continue;
      }
      if (!entryOf(sku, standardPricebookId, need.currency)) createStandard.push({ need, k });
      if (custom) createCustom.push({ need, k });
    }

    const productRef = (need: CatalogNeed): Rec => {
      const id = product.get(need.sku.toLowerCase())?.id;
      return id ? { Product2Id: id } : { Product2: { [skuField]: need.sku } };
    };
    const entryRecord = (need: CatalogNeed, pricebook: string): Rec => ({
      Pricebook2Id: pricebook,
      ...productRef(need),
      UnitPrice: need.listPrice,
      IsActive: true,
      UseStandardPrice: false,
      ...(multiCurrency ? { CurrencyIsoCode: need.currency } : {}),
    });
    const steps: Step[] = [
      {
        op: {
          kind: "upsert",
          sobject: "Product2",
          extField: skuField,
          records: [...newProducts.values()].map((n) => ({
            [skuField]: n.sku,
            Name: n.productName,
            ProductCode: n.sku,
            IsActive: true,
          })),
        },
        owners: [...newProducts.keys()],
      },
      {
        op: {
          kind: "update",
          sobject: "Product2",
          records: [...adopt.values()].map((a) => ({ id: a.row.Id, [skuField]: a.sku })),
        },
        owners: [...adopt.keys()],
      },
      {
        op: {
          kind: "create",
          sobject: "PricebookEntry",
          records: createStandard.map((c) => entryRecord(c.need, standardPricebookId)),
        },
        owners: createStandard.map((c) => c.k),
      },
      {
        op: {
          kind: "create",
          sobject: "PricebookEntry",
          records: createCustom.map((c) => entryRecord(c.need, pricebookId)),
        },
        owners: createCustom.map((c) => c.k),
      },
    ];
    if (steps.every((s) => s.owners.length === 0)) return { entries, failures };
    const [productOutcomes, adoptOutcomes, standardOutcomes, customOutcomes] = await runSteps(
      conn,
      steps,
      onRequest,
    );

    const productFailure = new Map<string, CatalogFailure>();
    steps[0].owners.forEach((sku, i) => {
      const o = productOutcomes[i];
      if (o.ok) (product.get(sku) as { id?: string }).id = o.id;
      else
        productFailure.set(
          sku,
          failure(`product SKU "${newProducts.get(sku)?.sku}" could not be created`, o.error),
        );
    });
    steps[1].owners.forEach((sku, i) => {
      const o = adoptOutcomes[i];
      if (!o.ok) {
        productFailure.set(
          sku,
          failure(`product ${adopt.get(sku)?.row.Id} could not be given its SKU key`, o.error),
        );
      }
    });
    const failedEntry = new Map<string, CatalogFailure>();
    const remember = (k: string, need: CatalogNeed, entryId: string) => {
      const entry = { entryId, productId: product.get(need.sku.toLowerCase())?.id as string };
      this.cache.set(k, entry);
      entries.set(k, entry);
    };
    createStandard.forEach((c, i) => {
      const o = standardOutcomes[i];
      if (!o.ok)
        failedEntry.set(
          c.k,
          failure(`the standard price of SKU "${c.need.sku}" could not be created`, o.error),
        );
      else if (!custom) remember(c.k, c.need, o.id);
    });
    createCustom.forEach((c, i) => {
      const o = customOutcomes[i];
      if (failedEntry.has(c.k)) return;
      if (o.ok) remember(c.k, c.need, o.id);
      else {
        failedEntry.set(
          c.k,
          failure(
            `the price of SKU "${c.need.sku}" in "${this.setup.pricebookName}" could not be created`,
            o.error,
          ),
        );
      }
    });
    for (const [k, need] of todo) {
      if (entries.has(k) || failures.has(k)) continue;
      failures.set(
        k,
        productFailure.get(need.sku.toLowerCase()) ??
          failedEntry.get(k) ??
          failure(`no price book entry for SKU "${need.sku}"`),
      );
    }
    return { entries, failures };
  }
}
