/**
 * Exact decimal amounts: Magento sends money and quantities as JSON numbers, Tryton wants
 * Numeric values as decimal text (`src/tryton/values.ts`), Salesforce amounts are rounded to
 * what the org holds (`src/salesforce/order-amounts.ts`), and totals checks must not pick up
 * binary floating-point noise. An amount is a bigint scaled by 10^SCALE.
 */

const SCALE = 12;
const ONE = 10n ** BigInt(SCALE);

export type Amount = bigint;

/** `1.5E+2` → `150`, `-1E-3` → `-0.001`; plain text is returned unchanged (trailing zeros kept). */
export function plainDecimal(text: string): string {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?[eE]([+-]?\d+)$/.exec(text);
  if (!m) return text.startsWith("+") ? text.slice(1) : text;
  const sign = m[1] === "-" ? "-" : "";
  const intPart = m[2] ?? "";
  const fracPart = m[3] ?? "";
  const exp = Number(m[4]);
  const digits = intPart + fracPart;
  const point = intPart.length + exp;
  let out: string;
  if (point <= 0) out = "0." + "0".repeat(-point) + digits;
  else if (point >= digits.length) out = digits + "0".repeat(point - digits.length);
  else out = digits.slice(0, point) + "." + digits.slice(point);
  out = out.replace(/^0+(?=\d)/, "");
  return sign + out;
}

/** The decimal text of a JSON number or numeric string (`19.99` → `"19.99"`, `1e-7` → `"0.0000001"`). */
export function decimalText(value: number | string): string {
  const text = typeof value === "number" ? String(value) : value.trim();
  if (!/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(text)) {
    throw new TypeError(`not a decimal number: ${JSON.stringify(value)}`);
  }
  let plain = plainDecimal(text);
  if (plain.startsWith(".")) plain = `0${plain}`;
  if (plain.startsWith("-.")) plain = `-0${plain.slice(1)}`;
  return plain;
}

/** Significant digits after the point: `"12.5000"` → 1, `"3"` → 0, `"0.12345"` → 5. */
export function decimalPlaces(value: number | string): number {
  const text = decimalText(value);
  const point = text.indexOf(".");
  if (point < 0) return 0;
  return text.slice(point + 1).replace(/0+$/, "").length;
}

export function amount(value: number | string): Amount {
  const text = decimalText(value);
  const negative = text.startsWith("-");
  const body = negative || text.startsWith("+") ? text.slice(1) : text;
  const [whole = "0", fraction = ""] = body.split(".");
  if (fraction.replace(/0+$/, "").length > SCALE) {
    throw new RangeError(`more than ${SCALE} decimals: ${text}`);
  }
  const units = BigInt(whole || "0") * ONE + BigInt((fraction + "0".repeat(SCALE)).slice(0, SCALE) || "0");
  return negative ? -units : units;
}

/** Plain decimal text without trailing zeros (`12.5`, `-3`, `0.0825`). */
export function amountText(value: Amount): string {
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const whole = abs / ONE;
  const fraction = (abs % ONE).toString().padStart(SCALE, "0").replace(/0+$/, "");
  return `${negative ? "-" : ""}${whole}${fraction ? `.${fraction}` : ""}`;
}

export function sum(values: Iterable<Amount>): Amount {
  let total = 0n;
  for (const v of values) total += v;
  return total;
}

export function abs(value: Amount): Amount {
  return value < 0n ? -value : value;
}

/** `value × factor`, both amounts, exact. */
export function times(value: Amount, factor: Amount): Amount {
  return (value * factor) / ONE;
}

/** Round half away from zero to a multiple of `step` (a currency's rounding, e.g. 0.01 or 1). */
export function roundTo(value: Amount, step: Amount): Amount {
  if (step <= 0n) return value;
  const negative = value < 0n;
  const a = negative ? -value : value;
  const rounded = ((a + step / 2n) / step) * step;
  return negative ? -rounded : rounded;
}

/** `a / b` rounded half away from zero to `decimals` places. */
export function divide(a: Amount, b: Amount, decimals: number): Amount {
  if (b === 0n) throw new RangeError("division by zero");
  const step = 10n ** BigInt(SCALE - decimals);
  const negative = a < 0n !== b < 0n;
  const [x, y] = [a < 0n ? -a : a, b < 0n ? -b : b];
  const scaled = (x * ONE) / y;
  const rounded = ((scaled + step / 2n) / step) * step;
  return negative ? -rounded : rounded;
}
