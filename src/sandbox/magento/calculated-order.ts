/**
 * The money part of an order record built from the tax calculator's result
 * (docs/magento-tax-calculation.md): the item rows and the order's money, currency and coupon
 * fields. The seed generator and the totals corpus both write their records through it.
 */
import type { TaxCart, TaxTotals } from "./tax-calculator";
import type { MagentoOrderItem } from "./types";

export interface CalculatedItemIds {
  orderId: number;
  /** item_id of row `index` of the calculator's result. */
  itemId: (index: number) => number;
  createdAt: string;
  /** applied_rule_ids of an item the coupon discounted. */
  ruleIds?: string;
  /** More fields of row `index` (built into the record, not added after: items stay fast objects). */
  extra?: (index: number, itemId: number) => Record<string, unknown>;
}

/** One item record per calculated row, children pointing at their parent's item_id. */
export function calculatedItems(totals: TaxTotals, ids: CalculatedItemIds): MagentoOrderItem[] {
  return totals.items.map((money, i) => {
    const { sku, name, productType, qty, parentIndex, ...amounts } = money;
    const isVirtual = productType === "virtual" || productType === "downloadable";
    return {
      item_id: ids.itemId(i),
      order_id: ids.orderId,
      sku,
      name,
      product_type: productType,
      qty_ordered: qty,
      ...(parentIndex === undefined ? {} : { parent_item_id: ids.itemId(parentIndex) }),
      is_virtual: isVirtual ? 1 : 0,
      ...amounts,
      ...(ids.ruleIds && money.discount_amount > 0 ? { applied_rule_ids: ids.ruleIds } : {}),
      created_at: ids.createdAt,
      updated_at: ids.createdAt,
      ...ids.extra?.(i, ids.itemId(i)),
    };
  });
}

export interface CalculatedOrderOptions {
  /** Order currency code (the base currency is USD). */
  currency: string;
  coupon?: { code: string; ruleIds: string };
}

/** Order fields from the calculator's result: money, currencies, coupon, counts. */
export function calculatedOrderFields(
  cart: TaxCart,
  totals: TaxTotals,
  options: CalculatedOrderOptions,
): Record<string, unknown> {
  const { coupon } = options;
  return {
    base_currency_code: "USD",
    global_currency_code: "USD",
    store_currency_code: "USD",
    order_currency_code: options.currency,
    base_to_order_rate: cart.baseToOrderRate ?? 1,
    base_to_global_rate: 1,
    ...(coupon
      ? { coupon_code: coupon.code, discount_description: coupon.code, applied_rule_ids: coupon.ruleIds }
      : {}),
    ...totals.order,
    total_due: totals.order.grand_total,
    base_total_due: totals.order.base_grand_total,
    total_item_count: cart.lines.length,
    total_qty_ordered: cart.lines.reduce((s, l) => s + l.qty, 0),
    is_virtual: cart.lines.every((l) => l.productType === "virtual" || l.productType === "downloadable")
      ? 1
      : 0,
  };
}
