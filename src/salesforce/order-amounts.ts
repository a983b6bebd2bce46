/**
 * The amounts of an order as the org holds them (docs/salesforce-amounts.md has the sources).
 *
 * - Decimals: in a multi-currency org, the `DecimalPlaces` of the order's currency
 *   (CurrencyType) — Salesforce shows a currency amount with its currency's decimal places,
 *   whatever the field's own setting; in a single-currency org, the `scale` of
 *   OrderItem.UnitPrice (describe). The REST API does not round what it is sent: the pack rounds
 *   (half away from zero), so that what is stored is what users see and what a save from the
 *   page keeps.
 * - The Order total (the sum of UnitPrice × Quantity) must equal Magento's grand total
 *   (DESIGN.md "Totals are exact"): what the rounded lines miss goes on a rounding line,
 *   `<order key>-rounding`. A difference larger than rounding can explain (a Magento total the
 *   pack does not map, such as store credit) is not rounding and is not hidden in that line: the
 *   lines are written as they are.
 * - A grand total finer than the org's decimals (BHD 24.585 with 2 decimals) cannot be held at
 *   all: the order is held (`currency_precision`), never rounded silently.
 */
import { minorUnitStep } from "../magento/order-amounts";
import { abs, amount, amountText, roundTo, sum, times, type Amount } from "../sync/amounts";
import type { SyncError } from "../sync/result";
import type { WantedLine, WantedOrder } from "./order-mapping";

export interface OrgPrecision {
  /** Decimal places of OrderItem.UnitPrice (its describe `scale`). */
  amountScale: number;
  /** Multi-currency orgs: active currency ISO code → its `DecimalPlaces`. Empty otherwise. */
  currencyDecimals: ReadonlyMap<string, number>;
}

/** Decimal places the org holds for amounts in `currency` (see the module comment). */
export function decimalsFor(precision: OrgPrecision, currency: string): number {
  return precision.currencyDecimals.get(currency.toUpperCase()) ?? precision.amountScale;
}

const stepOf = (decimals: number): Amount => amount(`1e-${decimals}`);

const isMultipleOf = (value: Amount, step: Amount): boolean => value % step === 0n;

const MAGENTO_STEP = amount("0.01");

function mismatch(label: string, cause: string): SyncError {
  return { code: "mismatch", field: "grand_total", message: `Magento order ${label}: ${cause}` };
}

export type FittedLines = { ok: true; lines: WantedLine[] } | { ok: false; error: SyncError };

/**
 * The lines of `wanted` with their unit prices rounded to `decimals`, plus the rounding line
 * when they do not add up to `wanted.total` (none when `roundingSku` is empty). `label` names
 * the order in messages (`#000000042`).
 */
export function fitLines(
  wanted: WantedOrder,
  decimals: number,
  roundingSku: string,
  label: string,
): FittedLines {
  const step = stepOf(decimals);
  const currency = wanted.currency;
  const total = amount(wanted.total);
  const held = `${decimals} decimal place${decimals === 1 ? "" : "s"}`;
  if (!isMultipleOf(total, step)) {
    return {
      ok: false,
      error: {
        code: "currency_precision",
        field: "grand_total",
        message:
          `Magento order ${label} totals ${wanted.total} ${currency}, but this Salesforce org holds ${currency} amounts ` +
          `with ${held}, so no Salesforce Order can add up to it; it was not written. Give ${currency} the ` +
          `decimal places of its minor unit (multi-currency org: Setup → Manage Currencies; single-currency org: ` +
          `Salesforce Support's "More Decimals on Price"), or write base-currency amounts, and sync the order again.`,
      },
    };
  }
  if (wanted.amountProblem)
    return { ok: false, error: mismatch(label, `${wanted.amountProblem}; it was not written.`) };
  const lines: WantedLine[] = [];
  for (const line of wanted.lines) {
    const price = roundTo(amount(line.unitPrice), step);
    // A fee that rounds to nothing is left to the rounding line.
    if (line.kind !== "item" && price === 0n) continue;
    lines.push({ ...line, unitPrice: Number(amountText(price)) });
  }
  const written = sum(lines.map((l) => times(amount(l.unitPrice), amount(l.quantity))));
  const residual = total - written;
  if (residual === 0n || !roundingSku) return { ok: true, lines };
  // Each rounded unit price is off by at most half a step per unit, each fee by half a step; and
  // Magento rounds its amounts to 2 decimals whatever the currency (docs/money.md).
  const units = sum(wanted.lines.map((l) => abs(amount(l.quantity)))) + amount(wanted.lines.length);
  const unit = step > MAGENTO_STEP ? step : MAGENTO_STEP;
  // The total itself was taken at the currency's smallest unit (`payable`): up to half of it more.
  if (abs(residual) > times(unit, units) + minorUnitStep(currency)) {
    return {
      ok: false,
      error: mismatch(
        label,
        `its lines add up to ${amountText(written)} ${currency}, ${amountText(abs(residual))} ` +
          `${residual > 0n ? "less" : "more"} than ${wanted.total}: more than rounding explains (a Magento total ` +
          `OrderBridge does not map, such as store credit); it was not written.`,
      ),
    };
  }
  if (!isMultipleOf(residual, step)) {
    return {
      ok: false,
      error: {
        code: "currency_precision",
        field: "items",
        message:
          `Magento order ${label}: with ${currency} amounts held to ${held}, its lines of fractional quantity add up to ` +
          `${amountText(written)} ${currency}, which one rounding line cannot bring to the grand total ${wanted.total}; ` +
          `it was not written.`,
      },
    };
  }
  lines.push({
    key: `${wanted.key}-rounding`,
    kind: "rounding",
    sku: roundingSku,
    productName: "Rounding",
    quantity: 1,
    unitPrice: Number(amountText(residual)),
    description: "Rounding to the Magento grand total",
  });
  return { ok: true, lines };
}
