/**
 * Magento's cart-rule discount amounts for one order, in the order currency and the base
 * currency at once (docs/magento-tax-calculation.md §5): by percent, by fixed amount per item,
 * fixed amount for the whole cart, and the shipping share of a rule applied to shipping.
 */
import { roundPrice } from "./tax-rates";

export type CouponKind = "none" | "percent" | "by_fixed" | "cart_fixed" | "free_shipping";

export interface Coupon {
  kind: CouponKind;
  /** Percent for "percent"; an amount in the base currency for "by_fixed" and "cart_fixed". */
  amount: number;
  /** The rule also discounts shipping ("percent" and "by_fixed" only). */
  applyToShipping?: boolean;
}

/** A line the discount rules see: its discount price (excl. or incl. tax) in both currencies. */
export interface DiscountTarget {
  qty: number;
  price: number;
  basePrice: number;
  /** A fixed amount per unit (base currency) taken by an item-only rule before the coupon. */
  fixedDiscount?: number;
}

export interface DiscountAmounts {
  amount: number;
  base: number;
  percent: number;
}

interface Pair {
  amount: number;
  base: number;
}

/** SalesRule Utility::deltaRoundingFix: percent rules carry their rounding rest line to line. */
class PercentRounding {
  private readonly deltas = new Map<number, Pair>();

  fix(raw: Pair, percent: number): Pair {
    if (!percent) return { amount: roundPrice(raw.amount), base: roundPrice(raw.base) };
    const key = Math.trunc(percent);
    const delta = this.deltas.get(key) ?? { amount: 0, base: 0 };
    const amount = raw.amount + delta.amount;
    const base = raw.base + delta.base;
    this.deltas.set(key, { amount: amount - roundPrice(amount), base: base - roundPrice(base) });
    return { amount: roundPrice(amount), base: roundPrice(base) };
  }
}

/** CartFixed + CartFixedDiscount + DeltaPriceRound for one rule. */
class CartFixedRule {
  private available: number;
  private itemsLeft: number;
  private delta: number | undefined;

  constructor(
    private readonly ruleAmount: number,
    private readonly baseRuleTotals: number,
    itemsCount: number,
    private readonly rate: number,
  ) {
    this.available = ruleAmount;
    this.itemsLeft = itemsCount;
  }

  private deltaRound(value: number): number {
    if (!value) return value;
    const withDelta = value + (this.delta ?? 0.000001);
    const rounded = roundPrice(withDelta);
    this.delta = withDelta - rounded;
    return rounded;
  }

  next(target: DiscountTarget): Pair {
    if (this.available <= 0) return { amount: 0, base: 0 };
    const ratio = (target.basePrice * target.qty) / this.baseRuleTotals;
    const maximumItemDiscount = this.deltaRound(this.ruleAmount * ratio);
    const quoteAmount = maximumItemDiscount * this.rate;
    let base = Math.min(target.basePrice * target.qty, maximumItemDiscount);
    if (this.itemsLeft <= 1) this.delta = undefined;
    else this.itemsLeft--;
    base = roundPrice(base);
    this.available -= base;
    if (this.available <= 0) this.delta = undefined;
    return { amount: roundPrice(Math.min(target.price * target.qty, quoteAmount)), base };
  }
}

/** Utility::minFix: the line's discount so far plus this rule, never above its row. */
function minFix(previous: Pair, added: Pair, target: DiscountTarget): Pair {
  return {
    amount: Math.min(previous.amount + added.amount, target.price * target.qty),
    base: Math.min(previous.base + added.base, target.basePrice * target.qty),
  };
}

function byPercent(target: DiscountTarget, previous: Pair, percent: number): Pair {
  const pct = Math.min(100, percent) / 100;
  return {
    amount: (target.qty * target.price - previous.amount) * pct,
    base: (target.qty * target.basePrice - previous.base) * pct,
  };
}

function byFixed(target: DiscountTarget, perUnitBase: number, rate: number): Pair {
  return { amount: target.qty * perUnitBase * rate, base: target.qty * perUnitBase };
}

export interface CartDiscountInput {
  targets: DiscountTarget[];
  /** Top-level rows' base discount prices × qty, the cart-fixed rule's totals (Validator::initTotals). */
  cartFixedBaseTotals: number;
  cartFixedItemsCount: number;
  coupon: Coupon;
  rate: number;
}

/** Every target's discount (RulesApplier::applyRule → getDiscountData), in cart order. */
export function lineDiscounts(input: CartDiscountInput): DiscountAmounts[] {
  const { coupon, rate } = input;
  const percentRounding = new PercentRounding();
  const cartFixed =
    coupon.kind === "cart_fixed"
      ? new CartFixedRule(coupon.amount, input.cartFixedBaseTotals, input.cartFixedItemsCount, rate)
      : undefined;
  return input.targets.map((target) => {
    let sum: Pair = { amount: 0, base: 0 };
    if (target.fixedDiscount) {
      const raw = byFixed(target, target.fixedDiscount, rate);
      sum = minFix(sum, percentRounding.fix(raw, 0), target);
    }
    let percent = 0;
    if (coupon.kind === "percent") {
      percent = Math.min(100, coupon.amount);
      sum = minFix(sum, percentRounding.fix(byPercent(target, sum, coupon.amount), percent), target);
    } else if (coupon.kind === "by_fixed") {
      sum = minFix(sum, percentRounding.fix(byFixed(target, coupon.amount, rate), 0), target);
    } else if (cartFixed) {
      sum = minFix(sum, percentRounding.fix(cartFixed.next(target), 0), target);
    }
    return { ...sum, percent };
  });
}

/** Validator::processShippingAmount for a rule applied to shipping: not rounded. */
export function shippingDiscount(coupon: Coupon, shipping: Pair, rate: number): Pair {
  if (!coupon.applyToShipping) return { amount: 0, base: 0 };
  let raw: Pair = { amount: 0, base: 0 };
  if (coupon.kind === "percent") {
    const pct = Math.min(100, coupon.amount) / 100;
    raw = { amount: shipping.amount * pct, base: shipping.base * pct };
  } else if (coupon.kind === "by_fixed") {
    raw = { amount: coupon.amount * rate, base: coupon.amount };
  }
  return { amount: Math.min(raw.amount, shipping.amount), base: Math.min(raw.base, shipping.base) };
}
