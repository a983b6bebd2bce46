/**
 * PHP's `round($value, $places)` (PHP 5.3 to 8.3, the versions Magento 2.4 ran on until 8.4):
 * half away from zero, after "pre-rounding" the value to 15 significant digits so that a float
 * such as 1.665 (stored as 1.66499999…) rounds like the decimal it was written as. JavaScript's
 * Math.round rounds half towards +∞ and sees the stored binary value, so it differs on
 * negatives (-0.5) and at float edges (1.665, 10.825). Rules: docs/magento-tax-calculation.md.
 */

/** Most significant digits a double holds reliably (DBL_DIG). */
const DOUBLE_DIGITS = 15;

/** 10^0 … 10^64 as Math.pow gives them (a table: the seed rounds millions of amounts). */
const powersOf10 = Array.from({ length: 65 }, (_, i) => Math.pow(10, i));

function pow10(exponent: number): number {
  const e = Math.abs(exponent);
  return powersOf10[e] ?? Math.pow(10, e);
}

/** PHP's php_round_helper for PHP_ROUND_HALF_UP: half away from zero. */
function roundHalfAwayFromZero(value: number): number {
  return value >= 0 ? Math.floor(value + 0.5) : Math.ceil(value - 0.5);
}

/** value × 10^places, dividing for negative places (php_round_get_basic). */
function scale(value: number, places: number): number {
  return places >= 0 ? value * pow10(places) : value / pow10(places);
}

/** The value scaled by 10^places, pre-rounded to the precision a double carries. */
function preRoundedScaled(value: number, places: number): number | undefined {
  const precisionPlaces = DOUBLE_DIGITS - 1 - Math.floor(Math.log10(Math.abs(value)));
  if (precisionPlaces > places && precisionPlaces - DOUBLE_DIGITS < places) {
    const usePrecision = Math.max(precisionPlaces, -4 * DOUBLE_DIGITS);
    const preRounded = roundHalfAwayFromZero(scale(value, usePrecision));
    const back = Math.max(places - usePrecision, -4 * DOUBLE_DIGITS);
    return preRounded / pow10(back);
  }
  const scaled = scale(value, places);
  return Math.abs(scaled) >= 1e15 ? undefined : scaled;
}

/** PHP `round($value, $places)` with PHP_ROUND_HALF_UP. */
export function phpRound(value: number, places = 0): number {
  if (value === 0) return 0;
  if (!Number.isFinite(value)) return value;
  const scaled = preRoundedScaled(value, places);
  if (scaled === undefined) return value;
  const rounded = roundHalfAwayFromZero(scaled);
  const result = places > 0 ? rounded / pow10(places) : rounded * pow10(places);
  return result === 0 ? 0 : result;
}
