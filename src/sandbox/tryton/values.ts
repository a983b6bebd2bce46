/**
 * The server side of trytond 6.0's JSON value encoding (`trytond/protocols/jsonrpc.py`):
 * objects tagged with `__class__` become Decimal, date, datetime, time, timedelta and
 * bytes values on the way in, and the same tags go out again. Everything else is plain
 * JSON.
 */
import { Dec } from "./decimal";

const pad = (n: number, width = 2): string => String(n).padStart(width, "0");

export class PyDate {
  constructor(
    readonly year: number,
    readonly month: number,
    readonly day: number,
  ) {}

  static fromJs(d: Date): PyDate {
    return new PyDate(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate());
  }

  /** `datetime.date.fromisoformat`, as trytond's Date field accepts strings. */
  static parse(text: string): PyDate | undefined {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
    if (!m) return undefined;
    return validDate(Number(m[1]), Number(m[2]), Number(m[3]))
      ? new PyDate(Number(m[1]), Number(m[2]), Number(m[3]))
      : undefined;
  }

  key(): number {
    return this.year * 10_000 + this.month * 100 + this.day;
  }

  toString(): string {
    return `${pad(this.year, 4)}-${pad(this.month)}-${pad(this.day)}`;
  }

  /** `%m/%d/%Y`, the English locale format of trytond messages. */
  localeString(): string {
    return `${pad(this.month)}/${pad(this.day)}/${pad(this.year, 4)}`;
  }
}

export class PyDateTime {
  constructor(
    readonly year: number,
    readonly month: number,
    readonly day: number,
    readonly hour = 0,
    readonly minute = 0,
    readonly second = 0,
    readonly microsecond = 0,
  ) {}

  /** A naive UTC datetime, like trytond's `CURRENT_TIMESTAMP` on SQLite; `microNow` adds sub-ms precision. */
  static fromJs(d: Date, extraMicro = 0): PyDateTime {
    return new PyDateTime(
      d.getUTCFullYear(),
      d.getUTCMonth() + 1,
      d.getUTCDate(),
      d.getUTCHours(),
      d.getUTCMinutes(),
      d.getUTCSeconds(),
      d.getUTCMilliseconds() * 1000 + extraMicro,
    );
  }

  static parse(text: string): PyDateTime | undefined {
    const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?$/.exec(text);
    if (!m) return undefined;
    return new PyDateTime(
      Number(m[1]),
      Number(m[2]),
      Number(m[3]),
      Number(m[4]),
      Number(m[5]),
      Number(m[6] ?? 0),
      Number((m[7] ?? "").padEnd(6, "0")),
    );
  }

  key(): bigint {
    const date = BigInt(this.year * 10_000 + this.month * 100 + this.day);
    const time = BigInt(((this.hour * 60 + this.minute) * 60 + this.second) * 1_000_000 + this.microsecond);
    return date * 100_000_000_000n + time;
  }

  date(): PyDate {
    return new PyDate(this.year, this.month, this.day);
  }

  toString(): string {
    return (
      `${pad(this.year, 4)}-${pad(this.month)}-${pad(this.day)} ` +
      `${pad(this.hour)}:${pad(this.minute)}:${pad(this.second)}` +
      (this.microsecond ? `.${pad(this.microsecond, 6)}` : "")
    );
  }
}

export class PyTime {
  constructor(
    readonly hour: number,
    readonly minute: number,
    readonly second: number,
    readonly microsecond: number,
  ) {}
}

export class PyTimeDelta {
  constructor(readonly seconds: number) {}
}

export class PyBytes {
  constructor(readonly data: Buffer) {}
}

function validDate(y: number, m: number, d: number): boolean {
  const t = new Date(Date.UTC(y, m - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
}

/** Raised while decoding a request body: trytond answers such a body with HTTP 400. */
export class BadJsonValue extends Error {}

/** `json.loads(..., object_hook=JSONDecoder())`. */
export function decodeParams(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decodeParams);
  if (value === null || typeof value !== "object") return value;
  const o = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) out[k] = decodeParams(v);
  const num = (key: string): number => {
    const v = out[key];
    if (typeof v !== "number" || !Number.isFinite(v)) throw new BadJsonValue(`bad ${key}`);
    return v;
  };
  switch (out.__class__) {
    case "Decimal": {
      const d = Dec.parse(String(out.decimal));
      if (!d) throw new BadJsonValue("bad decimal");
      return d;
    }
    case "date": {
      const [y, m, d] = [num("year"), num("month"), num("day")];
      if (!validDate(y, m, d)) throw new BadJsonValue("day is out of range for month");
      return new PyDate(y, m, d);
    }
    case "datetime": {
      const [y, m, d] = [num("year"), num("month"), num("day")];
      if (!validDate(y, m, d)) throw new BadJsonValue("day is out of range for month");
      return new PyDateTime(y, m, d, num("hour"), num("minute"), num("second"), num("microsecond"));
    }
    case "time":
      return new PyTime(num("hour"), num("minute"), num("second"), num("microsecond"));
    case "timedelta":
      return new PyTimeDelta(num("seconds"));
    case "bytes":
      return new PyBytes(Buffer.from(String(out.base64), "base64"));
    default:
      return out;
  }
}

/** `json.dumps(..., cls=JSONEncoder)`. */
export function encodeResult(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(encodeResult);
  if (value === null || value === undefined) return null;
  if (value instanceof Dec) return { __class__: "Decimal", decimal: value.toString() };
  if (value instanceof PyDateTime) {
    return {
      __class__: "datetime",
      year: value.year,
      month: value.month,
      day: value.day,
      hour: value.hour,
      minute: value.minute,
      second: value.second,
      microsecond: value.microsecond,
    };
  }
  if (value instanceof PyDate)
    return { __class__: "date", year: value.year, month: value.month, day: value.day };
  if (value instanceof PyTime) {
    return {
      __class__: "time",
      hour: value.hour,
      minute: value.minute,
      second: value.second,
      microsecond: value.microsecond,
    };
  }
  if (value instanceof PyTimeDelta) return { __class__: "timedelta", seconds: value.seconds };
  if (value instanceof PyBytes) return { __class__: "bytes", base64: base64Lines(value.data) };
  if (typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = encodeResult(v);
    return out;
  }
  return value;
}

/** `base64.encodebytes`: 76-character lines, each ending in a newline. */
function base64Lines(data: Buffer): string {
  const text = data.toString("base64");
  let out = "";
  for (let i = 0; i < text.length; i += 76) out += text.slice(i, i + 76) + "\n";
  return out;
}

/** Python `repr()` of a value, for the few messages that embed one. */
export function pyRepr(value: unknown): string {
  if (value instanceof Dec) return value.repr();
  if (typeof value === "number") return pyFloatRepr(value);
  if (typeof value === "string") return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  return String(value);
}

/** Python `repr(float)`: `1.5`, `2.0`, `1e-05`. */
export function pyFloatRepr(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e16) return n.toFixed(1);
  const text = String(n);
  return text.replace(/e([+-])(\d)$/, "e$10$2");
}
