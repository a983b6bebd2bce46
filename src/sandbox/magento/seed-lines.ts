/**
 * Seed order lines and their money: each line priced in the order currency and in the base
 * currency (USD) with the same rules — unit price, row, coupon discount, tax after discount.
 * Configurable children cost 0; bundle children keep their own prices and share the parent's
 * discount and tax, so parent rows and child rows each add up to the same totals.
 */
import {
  bundles,
  configurables,
  downloadableProducts,
  simpleProducts,
  virtualProducts,
  type Product,
} from "./catalog";
import { round } from "./order-math";
import type { Prng } from "./prng";
import type { MagentoOrderItem } from "./types";

export type LineKind = "simple" | "virtual" | "downloadable" | "configurable" | "bundle";

export interface Coupon {
  code: string;
  percent: number;
  ruleId: string;
}

export interface PriceContext {
  rate: number;
  decimals: number;
  discountPercent: number;
  taxPercent: number;
}

export interface Priced {
  unit: number;
  row: number;
  discount: number;
  tax: number;
  taxBeforeDiscount: number;
}

function price(ctx: PriceContext, unitBase: number, qty: number): Priced {
  const unit = round(unitBase * ctx.rate, ctx.decimals);
  const row = round(unit * qty, ctx.decimals);
  const discount = round((row * ctx.discountPercent) / 100, ctx.decimals);
  return {
    unit,
    row,
    discount,
    tax: round(((row - discount) * ctx.taxPercent) / 100, ctx.decimals),
    taxBeforeDiscount: round((row * ctx.taxPercent) / 100, ctx.decimals),
  };
}

/** Splits a parent amount over children by row, the last child taking the rounding rest. */
function split(total: number, weights: number[], decimals: number): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  let left = total;
  return weights.map((w, i) => {
    if (i === weights.length - 1) return round(left, decimals);
    const part = sum === 0 ? 0 : round((total * w) / sum, decimals);
    left -= part;
    return part;
  });
}

export interface ItemDraft {
  product: Product & { type: string; isVirtual: boolean; rowWeight: number };
  qty: number;
  priced: Priced;
  basePriced: Priced;
  children?: ItemDraft[];
}

export function itemRecord(
  draft: ItemDraft,
  ids: {
    itemId: number;
    orderId: number;
    storeId: number;
    createdAt: string;
    taxPercent: number;
    decimals: number;
    coupon?: Coupon;
  },
): MagentoOrderItem {
  const { product, priced, basePriced, qty } = draft;
  const item: MagentoOrderItem = {
    amount_refunded: 0,
    ...(ids.coupon && priced.discount > 0 ? { applied_rule_ids: ids.coupon.ruleId } : {}),
    base_amount_refunded: 0,
    base_discount_amount: basePriced.discount,
    base_discount_invoiced: 0,
    base_discount_tax_compensation_amount: 0,
    base_original_price: basePriced.unit,
    base_price: basePriced.unit,
    base_price_incl_tax: round(basePriced.unit * (1 + ids.taxPercent / 100), 2),
    base_row_invoiced: 0,
    base_row_total: basePriced.row,
    base_row_total_incl_tax: round(basePriced.row + basePriced.taxBeforeDiscount, 2),
    base_tax_amount: basePriced.tax,
    base_tax_invoiced: 0,
    created_at: ids.createdAt,
    discount_amount: priced.discount,
    discount_invoiced: 0,
    discount_percent: ids.coupon && priced.discount > 0 ? ids.coupon.percent : 0,
    free_shipping: 0,
    discount_tax_compensation_amount: 0,
    is_qty_decimal: 0,
    is_virtual: product.isVirtual ? 1 : 0,
    item_id: ids.itemId,
    name: product.name,
    no_discount: 0,
    order_id: ids.orderId,
    original_price: priced.unit,
    price: priced.unit,
    price_incl_tax: round(priced.unit * (1 + ids.taxPercent / 100), ids.decimals),
    product_id: product.id,
    product_type: product.type,
    qty_canceled: 0,
    qty_invoiced: 0,
    qty_ordered: qty,
    qty_refunded: 0,
    qty_shipped: 0,
    quote_item_id: ids.itemId + 3,
    row_invoiced: 0,
    row_total: priced.row,
    row_total_incl_tax: round(priced.row + priced.taxBeforeDiscount, ids.decimals),
    row_weight: product.rowWeight,
    sku: product.sku,
    store_id: ids.storeId,
    tax_amount: priced.tax,
    tax_invoiced: 0,
    tax_percent: ids.taxPercent,
    updated_at: ids.createdAt,
  };
  if (product.weight !== undefined) item.weight = product.weight;
  return item;
}

export function draftLines(
  rng: Prng,
  lineKinds: LineKind[],
  ctx: PriceContext,
  baseCtx: PriceContext,
): ItemDraft[] {
  return lineKinds.map((kind): ItemDraft => {
    const qty = rng.weighted([
      [1, 70],
      [2, 22],
      [3, 8],
    ]);
    const plain = (p: Product, type: string, isVirtual: boolean): ItemDraft => ({
      product: { ...p, type, isVirtual, rowWeight: isVirtual ? 0 : (p.weight ?? 0) * qty },
      qty,
      priced: price(ctx, p.price, qty),
      basePriced: price(baseCtx, p.price, qty),
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
      const zero: Priced = { unit: 0, row: 0, discount: 0, tax: 0, taxBeforeDiscount: 0 };
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
          priced: zero,
          basePriced: zero,
        },
      ];
      return parent;
    }
    const b = rng.pick(bundles);
    const children = b.children.map((p) => plain(p, "simple", false));
    const sumOf = (pick: (d: ItemDraft) => number, decimals: number) =>
      round(
        children.reduce((s, d) => s + pick(d), 0),
        decimals,
      );
    const bundlePriced = (c: PriceContext, of: (d: ItemDraft) => Priced): Priced => {
      const row = sumOf((d) => of(d).row, c.decimals);
      const discount = round((row * c.discountPercent) / 100, c.decimals);
      const parent: Priced = {
        unit: round(row / qty, c.decimals),
        row,
        discount,
        tax: round(((row - discount) * c.taxPercent) / 100, c.decimals),
        taxBeforeDiscount: round((row * c.taxPercent) / 100, c.decimals),
      };
      const rows = children.map((d) => of(d).row);
      const discounts = split(parent.discount, rows, c.decimals);
      const taxes = split(parent.tax, rows, c.decimals);
      children.forEach((d, i) => Object.assign(of(d), { discount: discounts[i], tax: taxes[i] }));
      return parent;
    };
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
      priced: bundlePriced(ctx, (d) => d.priced),
      basePriced: bundlePriced(baseCtx, (d) => d.basePriced),
      children,
    };
  });
}
