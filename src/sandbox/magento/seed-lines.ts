/**
 * Seed order lines: the products and quantities drawn for an order, the cart the tax calculator
 * prices them from (docs/magento-tax-calculation.md), and the seed's own item fields (product
 * ids, weights, quantity counters). Configurable children carry no price (the parent does);
 * bundle children keep their own prices and the parent is their sum.
 */
import {
  bundles,
  configurables,
  downloadableProducts,
  simpleProducts,
  virtualProducts,
  type Product,
} from "./catalog";
import type { Prng } from "./prng";
import type { CartLine, CartProductType } from "./tax-calculator";
import type { MagentoOrderItem } from "./types";

export type LineKind = CartProductType;

export type { Coupon } from "./catalog";

export interface ItemDraft {
  product: Product & { type: LineKind; isVirtual: boolean; rowWeight: number };
  qty: number;
  children?: ItemDraft[];
}

/** The calculator's line for a draft: catalog prices in the base currency, one tax percent. */
export function cartLine(draft: ItemDraft, taxPercent: number): CartLine {
  const { product, qty } = draft;
  return {
    sku: product.sku,
    name: product.name,
    productType: product.type,
    price: product.price,
    qty,
    taxPercent,
    ...(draft.children
      ? {
          children: draft.children.map((c) => ({
            sku: c.product.sku,
            name: c.product.name,
            price: c.product.price,
            qty: c.qty / qty,
            taxPercent,
          })),
        }
      : {}),
  };
}

/** Drafts and their children in item order: each parent, then its children. */
export function flatDrafts(drafts: ItemDraft[]): ItemDraft[] {
  return drafts.flatMap((d) => [d, ...(d.children ?? [])]);
}

/** The seed's item fields besides money: product, weights, store, counters of a fresh order. */
export function itemExtras(draft: ItemDraft, itemId: number, storeId: number): Partial<MagentoOrderItem> {
  const { product } = draft;
  return {
    amount_refunded: 0,
    base_amount_refunded: 0,
    base_discount_invoiced: 0,
    base_row_invoiced: 0,
    base_tax_invoiced: 0,
    discount_invoiced: 0,
    free_shipping: 0,
    is_qty_decimal: 0,
    is_virtual: product.isVirtual ? 1 : 0,
    no_discount: 0,
    product_id: product.id,
    product_type: product.type,
    qty_canceled: 0,
    qty_invoiced: 0,
    qty_refunded: 0,
    qty_shipped: 0,
    quote_item_id: itemId + 3,
    row_invoiced: 0,
    row_weight: product.rowWeight,
    store_id: storeId,
    tax_invoiced: 0,
    ...(product.weight === undefined ? {} : { weight: product.weight }),
  };
}

export function draftLines(rng: Prng, lineKinds: LineKind[]): ItemDraft[] {
  return lineKinds.map((kind): ItemDraft => {
    const qty = rng.weighted([
      [1, 70],
      [2, 22],
      [3, 8],
    ]);
    const plain = (p: Product, type: LineKind, isVirtual: boolean): ItemDraft => ({
      product: { ...p, type, isVirtual, rowWeight: isVirtual ? 0 : (p.weight ?? 0) * qty },
      qty,
    });
    if (kind === "simple") return plain(rng.pick(simpleProducts), "simple", false);
    if (kind === "virtual") return plain(rng.pick(virtualProducts), "virtual", true);
    if (kind === "downloadable") return plain(rng.pick(downloadableProducts), "downloadable", true);
    if (kind === "configurable") {
      const c = rng.pick(configurables);
      const parent = plain(
        { id: c.parentId, sku: c.sku, name: c.name, price: c.price, weight: c.weight },
        "configurable",
        false,
      );
      parent.children = [
        {
          product: {
            id: c.childId,
            sku: c.sku,
            name: c.childName,
            price: 0,
            weight: c.weight,
            type: "simple",
            isVirtual: false,
            rowWeight: 0,
          },
          qty,
        },
      ];
      return parent;
    }
    const b = rng.pick(bundles);
    return {
      product: {
        id: b.id,
        sku: [b.skuPrefix, ...b.children.map((c) => c.sku)].join("-"),
        name: b.name,
        price: 0,
        weight: 0,
        type: "bundle",
        isVirtual: false,
        rowWeight: 0,
      },
      qty,
      children: b.children.map((p) => plain(p, "simple", false)),
    };
  });
}
