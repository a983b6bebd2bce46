/**
 * Python `decimal.Decimal` semantics, as far as trytond's Numeric fields need them:
 * exact values that keep their exponent (`"12.50"` stays `"12.50"`, a sum of an empty
 * list is `"0"`), `str()` formatting, arithmetic in the default 28-digit context, and
 * `quantize` / currency rounding with ROUND_HALF_EVEN (trytond `currency.round`).
 *
 * A value is `int × 10^exp` with a bigint coefficient, never a float.
 */
const PRECISION = 28;

export class Dec {
  private constructor(
    readonly int: bigint,
    readonly exp: number,
  ) {}

  static of(int: bigint, exp = 0): Dec {
    return new Dec(int, exp);
  }

  static zero(exp = 0): Dec {
    return new Dec(0n, exp);
  }

  /** `Decimal(text)`; `undefined` when Python would raise `InvalidOperation`. */
  static parse(text: string): Dec | undefined {
    const m = /^\s*([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*$/.exec(text);
    if (!m) return undefined;
    const intPart = m[2] ?? "";
    const fracPart = m[3] ?? "";
    if (intPart === "" && fracPart === "") return undefined;
    const digits = (intPart + fracPart).replace(/^0+(?=\d)/, "") || "0";
    let int = BigInt(digits);
    if (m[1] === "-") int = -int;
    return new Dec(int, Number(m[4] ?? 0) - fracPart.length);
  }

  /** `Decimal(int)`. */
  static fromInt(n: number | bigint): Dec {
    return new Dec(BigInt(n), 0);
  }

  /** `Decimal(float)`: the exact binary value, e.g. 19.99 → 19.98999999999999843680598…; 12.5 → 12.5. */
  static fromFloat(n: number): Dec {
    if (!Number.isFinite(n)) throw new RangeError(`cannot convert ${n} to Decimal`);
    if (Number.isInteger(n) && Number.isSafeInteger(n)) return new Dec(BigInt(n), 0);
    const view = new DataView(new ArrayBuffer(8));
    view.setFloat64(0, n);
    const hi = view.getUint32(0);
    const lo = view.getUint32(4);
    const negative = hi >>> 31 === 1;
    const biased = (hi >>> 20) & 0x7ff;
    let mantissa = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
    let exponent: number;
    if (biased === 0) exponent = -1074;
    else {
      mantissa |= 1n << 52n;
      exponent = biased - 1075;
    }
    while (exponent < 0 && mantissa % 2n === 0n && mantissa !== 0n) {
      mantissa /= 2n;
      exponent += 1;
    }
    let int: bigint;
    let exp: number;
    if (exponent >= 0) {
      int = mantissa << BigInt(exponent);
      exp = 0;
    } else {
      int = mantissa * 5n ** BigInt(-exponent);
      exp = exponent;
    }
    return new Dec(negative ? -int : int, exp);
  }

  isZero(): boolean {
    return this.int === 0n;
  }

  sign(): -1 | 0 | 1 {
    return this.int === 0n ? 0 : this.int < 0n ? -1 : 1;
  }

  neg(): Dec {
    return new Dec(-this.int, this.exp);
  }

  abs(): Dec {
    return this.int < 0n ? this.neg() : this;
  }

  add(other: Dec): Dec {
    const exp = Math.min(this.exp, other.exp);
    return contextRound(new Dec(scaleTo(this, exp) + scaleTo(other, exp), exp));
  }

  sub(other: Dec): Dec {
    return this.add(other.neg());
  }

  mul(other: Dec): Dec {
    return contextRound(new Dec(this.int * other.int, this.exp + other.exp));
  }

  /** Numeric comparison (exponents ignored): `Decimal("1.0") == Decimal("1")`. */
  cmp(other: Dec): -1 | 0 | 1 {
    const exp = Math.min(this.exp, other.exp);
    const a = scaleTo(this, exp);
    const b = scaleTo(other, exp);
    return a === b ? 0 : a < b ? -1 : 1;
  }

  eq(other: Dec): boolean {
    return this.cmp(other) === 0;
  }

  /** `quantize(Decimal(10) ** exp, ROUND_HALF_EVEN)`. */
  quantize(exp: number): Dec {
    if (exp <= this.exp) return new Dec(scaleTo(this, exp), exp);
    return new Dec(divRoundHalfEven(this.int, 10n ** BigInt(exp - this.exp)), exp);
  }

  /** Whether the value has no more than `places` decimals (trytond's digits check). */
  fitsDigits(places: number): boolean {
    return this.quantize(-places).eq(this);
  }

  /**
   * trytond `Currency._round`: `(amount / factor).quantize(Decimal("1.")) * factor`,
   * ROUND_HALF_EVEN. The result carries the factor's exponent (`0.01` → two places).
   */
  roundTo(factor: Dec): Dec {
    if (factor.isZero()) return this;
    // amount / factor = (a·10^ea) / (f·10^ef) = a·10^(ea-ef) / f
    let num = this.int;
    let den = factor.int;
    const shift = this.exp - factor.exp;
    if (shift >= 0) num *= 10n ** BigInt(shift);
    else den *= 10n ** BigInt(-shift);
    if (den < 0n) {
      num = -num;
      den = -den;
    }
    const quotient = divRoundHalfEven(num, den);
    return new Dec(quotient * factor.int, factor.exp);
  }

  toNumber(): number {
    return Number(this.toString());
  }

  /** Python `str(Decimal)`. */
  toString(): string {
    const negative = this.int < 0n;
    const digits = (negative ? -this.int : this.int).toString();
    const leftDigits = this.exp + digits.length;
    const dotPlace = this.exp <= 0 && leftDigits > -6 ? leftDigits : 1;
    let intPart: string;
    let fracPart: string;
    if (dotPlace <= 0) {
      intPart = "0";
      fracPart = "." + "0".repeat(-dotPlace) + digits;
    } else if (dotPlace >= digits.length) {
      intPart = digits + "0".repeat(dotPlace - digits.length);
      fracPart = "";
    } else {
      intPart = digits.slice(0, dotPlace);
      fracPart = "." + digits.slice(dotPlace);
    }
    const expPart =
      leftDigits === dotPlace ? "" : `E${leftDigits - dotPlace >= 0 ? "+" : ""}${leftDigits - dotPlace}`;
    return (negative ? "-" : "") + intPart + fracPart + expPart;
  }

  /** Python `repr(Decimal)`, as used in trytond's digits error message. */
  repr(): string {
    return `Decimal('${this.toString()}')`;
  }
}

export function sumDec(values: Iterable<Dec>, start: Dec = Dec.zero()): Dec {
  let total = start;
  for (const v of values) total = total.add(v);
  return total;
}

function scaleTo(d: Dec, exp: number): bigint {
  return d.int * 10n ** BigInt(d.exp - exp);
}

/** Round `num / den` (den > 0) to an integer, ties to even. */
function divRoundHalfEven(num: bigint, den: bigint): bigint {
  let q = num / den;
  let r = num % den;
  if (r < 0n) {
    r = -r;
  }
  const twice = 2n * r;
  if (twice > den || (twice === den && q % 2n !== 0n)) q += num < 0n ? -1n : 1n;
  return q;
}

/** The default context keeps 28 significant digits. */
function contextRound(d: Dec): Dec {
  const digits = (d.int < 0n ? -d.int : d.int).toString().length;
  if (digits <= PRECISION) return d;
  return d.quantize(d.exp + (digits - PRECISION));
}
