/**
 * The total Tryton will compute for a sale's lines, computed here before the sale is written,
 * so that a sale whose total would differ from Magento's `grand_total` by tax rounding gets an
 * explicit rounding line instead of a silent difference (docs/money.md).
 *
 * Tryton's rules, as docs/money.md §3 records them from the 6.0 and 7.0 sources:
 * - a line's amount is `quantity × unit_price` rounded to the currency, half to even;
 * - each tax on a line computes `unit_price × rate × quantity` unrounded (a fixed tax:
 *   `amount × quantity`);
 * - `tax_rounding` of the account configuration: `line` rounds each line's tax, `document`
 *   sums the unrounded taxes of the document per tax and sign of the base and rounds the
 *   sums; Tryton 7.0 groups the lines by their set of taxes first and rounds per group,
 *   spreading the rounding remainder of a group's taxes one unit at a time;
 * - taxes apply in sequence order; taxes with children, taxes that update the unit price
 *   and taxes outside their dates are not foreseen here (the total check still holds the sale).
 */
import { amount, roundHalfEven, sum, times, type Amount } from "../sync/amounts";

export interface TrytonTax {
  id: number;
  type: string;
  /** A fraction (`0.0825`), for percentage taxes. */
  rate: Amount;
  /** Per unit, for fixed taxes. */
  fixed: Amount;
  /** Why OrderBridge cannot foresee what this tax computes, when it cannot. */
  unforeseeable?: string;
}

export interface TaxSetup {
  rounding: "document" | "line";
  /** 7.0 rounds per group of lines with the same taxes and gives a group's remainder back; 6.0 does neither. */
  series: "6.0" | "7.0";
  taxes: ReadonlyMap<number, TrytonTax>;
}

export interface PricedLine {
  taxes: readonly number[];
  unitPrice: Amount;
  quantity: Amount;
}

export type Prediction =
  { ok: true; untaxed: Amount; tax: Amount; total: Amount } | { ok: false; reason: string };

/** What Tryton's `untaxed_amount`, `tax_amount` and `total_amount` will be for these lines. */
export function predictTotal(lines: readonly PricedLine[], setup: TaxSetup, step: Amount): Prediction {
  for (const line of lines) {
    for (const id of line.taxes) {
      const tax = setup.taxes.get(id);
      if (!tax) return { ok: false, reason: `Tryton tax ${id} could not be read` };
      if (tax.unforeseeable) return { ok: false, reason: `Tryton tax ${id} ${tax.unforeseeable}` };
    }
  }
  const untaxed = sum(lines.map((l) => roundHalfEven(times(l.unitPrice, l.quantity), step)));
  const tax = taxTotal(lines, setup, step);
  return { ok: true, untaxed, tax, total: untaxed + tax };
}

function taxTotal(lines: readonly PricedLine[], setup: TaxSetup, step: Amount): Amount {
  if (setup.rounding === "line") {
    return sum(lines.map((line) => sum(roundGroup(lineTaxes(line, setup), step, setup).values())));
  }
  const groups = new Map<string, PricedLine[]>();
  for (const line of lines) {
    const key = setup.series === "7.0" ? `${line.taxes.join(",")}|${baseSign(line)}` : "";
    groups.set(key, [...(groups.get(key) ?? []), line]);
  }
  let total = 0n;
  for (const group of groups.values()) {
    const perTax = new Map<string, Amount>();
    for (const line of group) {
      for (const [key, value] of lineTaxes(line, setup)) perTax.set(key, (perTax.get(key) ?? 0n) + value);
    }
    total += sum(roundGroup(perTax, step, setup).values());
  }
  return total;
}

const baseSign = (line: PricedLine): string => (times(line.unitPrice, line.quantity) >= 0n ? "+" : "-");

/** Unrounded tax per (tax, sign of the base) for one line — Tryton's `_TaxKey`. */
function lineTaxes(line: PricedLine, setup: TaxSetup): Map<string, Amount> {
  const out = new Map<string, Amount>();
  for (const id of line.taxes) {
    const tax = setup.taxes.get(id) as TrytonTax;
    const perUnit = tax.type === "percentage" ? times(line.unitPrice, tax.rate) : tax.fixed;
    const key = `${id}|${baseSign(line)}`;
    out.set(key, (out.get(key) ?? 0n) + times(perUnit, line.quantity));
  }
  return out;
}

/** `_round_taxes`: each amount rounded; on 7.0 the group's remainder given back one unit at a time. */
function roundGroup(taxes: Map<string, Amount>, step: Amount, setup: TaxSetup): Map<string, Amount> {
  const rounded = new Map<string, Amount>();
  let remainder = 0n;
  for (const [key, value] of taxes) {
    const r = roundHalfEven(value, step);
    remainder += r - value;
    rounded.set(key, r);
  }
  if (setup.series !== "7.0") return rounded;
  remainder = roundHalfEven(remainder, step);
  const keys = [...rounded.keys()];
  for (let i = 0; keys.length && (remainder >= step || remainder <= -step); i += 1) {
    const offset = remainder > 0n ? step : -step;
    const key = keys[i % keys.length] as string;
    rounded.set(key, (rounded.get(key) as Amount) - offset);
    remainder -= offset;
  }
  return rounded;
}

/** A tax as read from `account.tax` (values decoded by `src/tryton/values.ts`). */
export function trytonTax(row: Record<string, unknown>, today: string): TrytonTax {
  const id = Number(row.id);
  const type = String(row.type ?? "");
  const base = { id, type, rate: amount(String(row.rate ?? "0")), fixed: amount(String(row.amount ?? "0")) };
  const children = Array.isArray(row.childs) ? row.childs.length : 0;
  const start = typeof row.start_date === "string" ? row.start_date : undefined;
  const end = typeof row.end_date === "string" ? row.end_date : undefined;
  const unforeseeable =
    type !== "percentage" && type !== "fixed"
      ? `is of type "${type}"`
      : children
        ? "has child taxes"
        : row.update_unit_price
          ? "updates the unit price"
          : (start && start > today) || (end && end < today)
            ? "is outside its validity dates"
            : undefined;
  return unforeseeable ? { ...base, unforeseeable } : base;
}
