/**
 * Tryton JSON-RPC value encoding (trytond 6.0 `trytond/protocols/jsonrpc.py`,
 * `JSONEncoder` / `JSONDecoder`): Numeric, date, datetime, time, timedelta and bytes
 * travel as objects tagged with `__class__`.
 *
 * Decimals stay strings on this side, both ways: a JSON float such as `19.99` reaches
 * the server as `Decimal('19.98999…')` and fails the field's digits check, and a JS
 * number cannot hold every Numeric anyway.
 */
import { plainDecimal } from "../sync/amounts";

export { plainDecimal };

export interface TrytonDecimal {
  __class__: "Decimal";
  decimal: string;
}
export interface TrytonDate {
  __class__: "date";
  year: number;
  month: number;
  day: number;
}
export interface TrytonDateTime {
  __class__: "datetime";
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  microsecond: number;
}

const decimalText = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const dateText = /^(\d{4})-(\d{2})-(\d{2})$/;
// Naive date-times are UTC: trytond stores and returns UTC without a zone.
const naiveDateTimeText = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?$/;

/** A Numeric value for the server, e.g. `decimal("12.50")`. Numbers are taken by their shortest text form. */
export function decimal(value: string | number | bigint): TrytonDecimal {
  let text: string;
  if (typeof value === "bigint") text = value.toString();
  else if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new TypeError(`not a decimal number: ${value}`);
    text = String(value);
  } else text = value.trim();
  if (!decimalText.test(text)) throw new TypeError(`not a decimal number: ${JSON.stringify(value)}`);
  return { __class__: "Decimal", decimal: plainDecimal(text) };
}

/** A date for the server from `YYYY-MM-DD` (or a JS Date, taken in UTC). */
export function date(value: string | Date): TrytonDate {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new TypeError("invalid date");
    return {
      __class__: "date",
      year: value.getUTCFullYear(),
      month: value.getUTCMonth() + 1,
      day: value.getUTCDate(),
    };
  }
  const m = dateText.exec(value.trim());
  if (!m) throw new TypeError(`not a YYYY-MM-DD date: ${JSON.stringify(value)}`);
  const out: TrytonDate = { __class__: "date", year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) };
  assertCalendarDate(out.year, out.month, out.day, value);
  return out;
}

/**
 * A datetime for the server, in UTC (Tryton's convention). Accepts a JS Date, an ISO
 * string with a zone (converted to UTC), or a naive `YYYY-MM-DD HH:MM:SS[.ffffff]`,
 * which is taken as UTC already (Magento's `created_at` is such a UTC string).
 */
export function datetime(value: string | Date): TrytonDateTime {
  if (typeof value === "string") {
    const m = naiveDateTimeText.exec(value.trim());
    if (m) {
      const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
      assertCalendarDate(year, month, day, value);
      return {
        __class__: "datetime",
        year,
        month,
        day,
        hour: Number(m[4]),
        minute: Number(m[5]),
        second: Number(m[6] ?? 0),
        microsecond: Number((m[7] ?? "").padEnd(6, "0")),
      };
    }
  }
  const d = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(d.getTime())) throw new TypeError(`not a date-time: ${JSON.stringify(value)}`);
  return {
    __class__: "datetime",
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    microsecond: d.getUTCMilliseconds() * 1000,
  };
}

function assertCalendarDate(year: number, month: number, day: number, raw: unknown): void {
  const d = new Date(Date.UTC(year, month - 1, day));
  if (d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) {
    throw new TypeError(`not a calendar date: ${JSON.stringify(raw)}`);
  }
}

const pad = (n: number, width = 2): string => String(n).padStart(width, "0");

/**
 * Turn a server value into plain JS: Decimal → string (exact), date → `YYYY-MM-DD`,
 * datetime → ISO 8601 UTC string (`…Z`, microseconds kept), time → `HH:MM:SS[.ffffff]`,
 * timedelta → seconds (number), bytes → Buffer. Everything else is copied as is.
 */
export function decodeValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decodeValue);
  if (value === null || typeof value !== "object") return value;
  const o = value as Record<string, unknown>;
  switch (o.__class__) {
    case "Decimal":
      return plainDecimal(String(o.decimal));
    case "date":
      return `${pad(Number(o.year), 4)}-${pad(Number(o.month))}-${pad(Number(o.day))}`;
    case "datetime": {
      const micro = Number(o.microsecond ?? 0);
      const fraction = micro ? "." + pad(micro, 6).replace(/0+$/, "") : "";
      return (
        `${pad(Number(o.year), 4)}-${pad(Number(o.month))}-${pad(Number(o.day))}` +
        `T${pad(Number(o.hour))}:${pad(Number(o.minute))}:${pad(Number(o.second))}${fraction}Z`
      );
    }
    case "time": {
      const micro = Number(o.microsecond ?? 0);
      const fraction = micro ? "." + pad(micro, 6).replace(/0+$/, "") : "";
      return `${pad(Number(o.hour))}:${pad(Number(o.minute))}:${pad(Number(o.second))}${fraction}`;
    }
    case "timedelta":
      return Number(o.seconds);
    case "bytes":
      return Buffer.from(String(o.base64), "base64");
    default: {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(o)) out[k] = decodeValue(v);
      return out;
    }
  }
}

/**
 * Turn JS values into what the server reads: Date → datetime (UTC), Buffer/Uint8Array
 * → bytes. Tagged objects built with `decimal()`, `date()`, `datetime()` pass through.
 */
export function encodeValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(encodeValue);
  if (value instanceof Date) return datetime(value);
  if (value instanceof Uint8Array)
    return { __class__: "bytes", base64: Buffer.from(value).toString("base64") };
  if (value === null || typeof value !== "object") {
    if (typeof value === "bigint") return decimal(value);
    return value;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (v !== undefined) out[k] = encodeValue(v);
  }
  return out;
}
