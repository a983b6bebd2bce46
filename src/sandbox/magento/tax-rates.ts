/**
 * Magento's per-line tax calculators (unit, row and total based), ported rule by rule as
 * docs/magento-tax-calculation.md §2-§4 lists them. One calculator state lives for one
 * "calculate tax" call: its rounding deltas carry from one line to the next only in the total
 * based method (row and unit keep one delta per line).
 */
import { phpRound } from "./php-round";

export type TaxMethod = "UNIT_BASE_CALCULATION" | "ROW_BASE_CALCULATION" | "TOTAL_BASE_CALCULATION";

/** One line handed to the calculator (a product row, a bundle child or the shipping). */
export interface TaxLine {
  /** Unique per calculation; "shipping" for the shipping line. */
  code: string;
  unitPrice: number;
  qty: number;
  taxPercent: number;
  /** Applied tax rate id (delta rounding key for prices excluding tax); defaults to the percent. */
  rateId?: string;
  priceIncludesTax: boolean;
  /** Row discount already taken from this line (0 when none). */
  discount: number;
}

/** What Magento's TaxDetailsItem carries back for one line (unrounded where Magento leaves it so). */
export interface TaxLineResult {
  price: number;
  priceInclTax: number;
  rowTotal: number;
  rowTotalInclTax: number;
  rowTax: number;
  discountTaxCompensation: number;
  taxPercent: number;
}

export interface CalculatorOptions {
  method: TaxMethod;
  applyTaxAfterDiscount: boolean;
}

const REGULAR = "regular";
const TAX_BEFORE_DISCOUNT = "tax_before_discount";

/** PriceCurrency::round: always 2 decimals, whatever the currency. */
export const roundPrice = (amount: number): number => phpRound(amount, 2);

/** Calculation::calcTaxAmount. */
export function calcTaxAmount(
  price: number,
  percent: number,
  priceIncludesTax: boolean,
  round: boolean,
): number {
  const rate = percent / 100;
  const amount = priceIncludesTax ? price * (1 - 1 / (1 + rate)) : price * rate;
  return round ? roundPrice(amount) : amount;
}

/** AbstractCalculator::deltaRound, with the calculator's rounding deltas. */
export class DeltaRounder {
  private readonly deltas = new Map<string, number>();

  round(amount: number, rateKey: string, direction: boolean, type: string): number {
    if (!amount) return amount;
    const key = `${type}${direction ? "1" : ""}|${rateKey}`;
    const withDelta = amount + (this.deltas.get(key) ?? 0.000001);
    const rounded = roundPrice(withDelta);
    this.deltas.set(key, withDelta - rounded);
    return rounded;
  }
}

/** A fresh calculator for one "calculate tax" call. */
export class TaxLineCalculator {
  private readonly rounder = new DeltaRounder();

  constructor(private readonly options: CalculatorOptions) {}

  calculate(line: TaxLine): TaxLineResult {
    if (this.options.method === "UNIT_BASE_CALCULATION") {
      return line.priceIncludesTax ? this.unitInclTax(line) : this.unitExclTax(line);
    }
    return line.priceIncludesTax ? this.aggregateInclTax(line) : this.aggregateExclTax(line);
  }

  /** roundAmount: unit and row methods key the delta by line, the total method shares it. */
  private roundAmount(
    amount: number,
    rateKey: string,
    direction: boolean,
    type: string,
    line: TaxLine,
  ): number {
    const scoped = this.options.method === "TOTAL_BASE_CALCULATION" ? type : `${type}${line.code}`;
    return this.rounder.round(amount, rateKey, direction, scoped);
  }

  private beforeDiscountType(): string {
    return this.options.applyTaxAfterDiscount ? TAX_BEFORE_DISCOUNT : REGULAR;
  }

  /** UnitBaseCalculator::calculateWithTaxInPrice (store rate = customer rate). */
  private unitInclTax(line: TaxLine): TaxLineResult {
    const { qty, taxPercent } = line;
    const priceInclTax = roundPrice(line.unitPrice);
    let unitTax = calcTaxAmount(priceInclTax, taxPercent, true, true);
    const price = priceInclTax - unitTax;
    let discountTaxCompensation = 0;
    if (line.discount && this.options.applyTaxAfterDiscount) {
      const taxable = Math.max(priceInclTax - line.discount / qty, 0);
      const unitTaxAfterDiscount = calcTaxAmount(taxable, taxPercent, true, true);
      discountTaxCompensation = (unitTax - unitTaxAfterDiscount) * qty;
      unitTax = unitTaxAfterDiscount;
    }
    return {
      price,
      priceInclTax,
      rowTotal: price * qty,
      rowTotalInclTax: priceInclTax * qty,
      rowTax: unitTax * qty,
      discountTaxCompensation,
      taxPercent,
    };
  }

  /** UnitBaseCalculator::calculateWithTaxNotInPrice (one applied rate per line). */
  private unitExclTax(line: TaxLine): TaxLineResult {
    const { qty, taxPercent } = line;
    const rateKey = line.rateId ?? String(taxPercent);
    const price = roundPrice(line.unitPrice);
    const raw = calcTaxAmount(price, taxPercent, false, false);
    const unitTax = this.roundAmount(raw, rateKey, false, this.beforeDiscountType(), line);
    let unitTaxAfterDiscount = unitTax;
    if (this.options.applyTaxAfterDiscount) {
      const taxable = Math.max(price - line.discount / qty, 0);
      const afterRaw = calcTaxAmount(taxable, taxPercent, false, false);
      unitTaxAfterDiscount = this.roundAmount(afterRaw, rateKey, false, REGULAR, line);
    }
    const priceInclTax = price + unitTax;
    return {
      price,
      priceInclTax,
      rowTotal: price * qty,
      rowTotalInclTax: priceInclTax * qty,
      rowTax: unitTaxAfterDiscount * qty,
      discountTaxCompensation: 0,
      taxPercent,
    };
  }

  /** AbstractAggregateCalculator::calculateWithTaxInPrice (row and total methods). */
  private aggregateInclTax(line: TaxLine): TaxLineResult {
    const { qty, taxPercent } = line;
    const rateKey = String(taxPercent);
    const priceInclTax = roundPrice(line.unitPrice);
    const rowTotalInclTax = priceInclTax * qty;
    const exact = calcTaxAmount(rowTotalInclTax, taxPercent, true, false);
    let rowTax = this.roundAmount(exact, rateKey, true, this.beforeDiscountType(), line);
    const rowTotal = rowTotalInclTax - rowTax;
    const price = roundPrice(rowTotal / qty);
    let discountTaxCompensation = 0;
    if (this.options.applyTaxAfterDiscount) {
      const taxable = Math.max(rowTotalInclTax - line.discount, 0);
      const afterRaw = calcTaxAmount(taxable, taxPercent, true, false);
      const rowTaxAfterDiscount = this.roundAmount(afterRaw, rateKey, true, REGULAR, line);
      discountTaxCompensation = rowTax - rowTaxAfterDiscount;
      rowTax = rowTaxAfterDiscount;
    }
    return { price, priceInclTax, rowTotal, rowTotalInclTax, rowTax, discountTaxCompensation, taxPercent };
  }

  /** AbstractAggregateCalculator::calculateWithTaxNotInPrice (one applied rate per line). */
  private aggregateExclTax(line: TaxLine): TaxLineResult {
    const { qty, taxPercent } = line;
    const rateKey = line.rateId ?? String(taxPercent);
    const price = roundPrice(line.unitPrice);
    const rowTotal = price * qty;
    const raw = calcTaxAmount(rowTotal, taxPercent, false, false);
    const rowTaxBeforeDiscount = this.roundAmount(raw, rateKey, false, this.beforeDiscountType(), line);
    let rowTax = rowTaxBeforeDiscount;
    if (this.options.applyTaxAfterDiscount) {
      const taxable = Math.max(rowTotal - line.discount, 0);
      const afterRaw = calcTaxAmount(taxable, taxPercent, false, false);
      rowTax = this.roundAmount(afterRaw, rateKey, false, REGULAR, line);
    }
    const rowTotalInclTax = rowTotal + rowTaxBeforeDiscount;
    const priceInclTax = roundPrice(rowTotalInclTax / qty);
    return { price, priceInclTax, rowTotal, rowTotalInclTax, rowTax, discountTaxCompensation: 0, taxPercent };
  }
}

/** TaxCalculation::calculateParent: a bundle row from its children's rows. */
export function parentFromChildren(children: TaxLineResult[], qty: number): TaxLineResult {
  const sum = (pick: (c: TaxLineResult) => number) => children.reduce((s, c) => s + pick(c), 0);
  const rowTotal = sum((c) => c.rowTotal);
  const rowTotalInclTax = sum((c) => c.rowTotalInclTax);
  return {
    price: roundPrice(rowTotal / qty),
    priceInclTax: roundPrice(rowTotalInclTax / qty),
    rowTotal,
    rowTotalInclTax,
    rowTax: sum((c) => c.rowTax),
    discountTaxCompensation: 0,
    taxPercent: 0,
  };
}
