/**
 * Field values on writes, in two stages like the real API:
 * - deserialising the JSON body (`coerceFieldValue`): a wrong JSON type or an unparsable date
 *   fails the whole request with 400 `JSON_PARSER_ERROR`;
 * - validating the record (`checkFieldValue`): length, restricted picklist, e-mail and id
 *   format fail only that record (`RecordError`).
 * Stored values are already in the wire format: dates `YYYY-MM-DD`, date-times
 * `YYYY-MM-DDTHH:mm:ss.SSS+0000` (UTC), numbers as JSON numbers rounded to the field's scale —
 * except currency amounts: the API neither rounds them to the field's decimal places nor refuses
 * more (Salesforce Knowledge Article 000385689, "Round Off Decimal Values of Currency Fields in the
 * Salesforce UI and API"); a price sent with 20 decimals reads back with 8 (salesforce.stackexchange.com
 * question 41947, unverified). Rounding to what users see is the client's job: a pack that sends
 * too many decimals gets totals with too many decimals here, as in a real org.
 */
import { ApiError, RecordError } from "./errors";
import { canonicalId } from "./ids";
import type { FieldDef } from "./schema";

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATETIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:?\d{2})$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s.]+$/;
const BASE64 = /^[A-Za-z0-9+/\r\n]*={0,2}$/;

const JAVA_TYPE: Partial<Record<FieldDef["type"], string>> = {
  boolean: "boolean",
  date: "date",
  datetime: "datetime",
  double: "double",
  currency: "double",
  percent: "double",
  int: "int",
};

function jsonToken(raw: unknown): string {
  if (raw === null) return "VALUE_NULL";
  if (Array.isArray(raw)) return "START_ARRAY";
  switch (typeof raw) {
    case "string":
      return "VALUE_STRING";
    case "number":
      return Number.isInteger(raw) ? "VALUE_NUMBER_INT" : "VALUE_NUMBER_FLOAT";
    case "boolean":
      return raw ? "VALUE_TRUE" : "VALUE_FALSE";
    default:
      return "START_OBJECT";
  }
}

function parserError(f: FieldDef, raw: unknown): ApiError {
  const javaType = JAVA_TYPE[f.type] ?? "String";
  const shown = typeof raw === "object" ? "" : ` value ${String(raw)}`;
  return new ApiError(
    400,
    "JSON_PARSER_ERROR",
    `Cannot deserialize instance of ${javaType} from ${jsonToken(raw)}${shown} or request may be missing a required field`,
  );
}

export function isValidDate(value: string): boolean {
  const m = DATE.exec(value);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1;
}

/** ISO-8601 date-time with an explicit zone → `YYYY-MM-DDTHH:mm:ss.SSS+0000`, else undefined. */
export function normalizeDateTime(value: string): string | undefined {
  const m = DATETIME.exec(value);
  if (!m || !isValidDate(`${m[1]}-${m[2]}-${m[3]}`)) return undefined;
  const zone = m[8] === "Z" ? "Z" : m[8].replace(/^([+-]\d{2}):?(\d{2})$/, "$1:$2");
  const iso = `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6] ?? "00"}.${(m[7] ?? "0").padEnd(3, "0")}${zone}`;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : formatDateTime(new Date(ms));
}

export function formatDateTime(d: Date): string {
  return d.toISOString().replace("Z", "+0000");
}

export function dateTimeToMillis(value: string): number {
  return Date.parse(value.replace(/\+0000$/, "Z"));
}

/** Decimal places a currency amount keeps whatever the field's scale (see the module comment). */
export const STORED_CURRENCY_DECIMALS = 8;

function round(value: number, scale: number): number {
  const factor = 10 ** scale;
  return Math.round(value * factor) / factor;
}

/** JSON body value → stored value; a JSON type the field cannot take fails the whole request. */
export function coerceFieldValue(f: FieldDef, raw: unknown): unknown {
  if (raw === null) return null;
  switch (f.type) {
    case "boolean":
      if (typeof raw !== "boolean") throw parserError(f, raw);
      return raw;
    case "double":
    case "currency":
    case "percent":
      if (typeof raw !== "number" || !Number.isFinite(raw)) throw parserError(f, raw);
      return round(raw, f.type === "currency" ? STORED_CURRENCY_DECIMALS : f.scale);
    case "int":
      if (typeof raw !== "number" || !Number.isInteger(raw)) throw parserError(f, raw);
      return raw;
    case "date":
      if (typeof raw !== "string" || !isValidDate(raw)) throw parserError(f, raw);
      return raw;
    case "datetime": {
      const normalized = typeof raw === "string" ? normalizeDateTime(raw) : undefined;
      if (normalized === undefined) throw parserError(f, raw);
      return normalized;
    }
    case "base64":
      if (typeof raw !== "string" || !BASE64.test(raw)) throw parserError(f, raw);
      return raw;
    default:
      // Text, picklist and id fields take any JSON scalar as its string form, as Salesforce does.
      if (typeof raw === "object") throw parserError(f, raw);
      return String(raw);
  }
}

/** Record-level checks of one stored value (null and required are handled by the caller). */
export function checkFieldValue(f: FieldDef, value: unknown): void {
  if (value === null || value === undefined) return;
  if (typeof value === "string") {
    if (f.length > 0 && value.length > f.length && f.type !== "reference" && f.type !== "id") {
      throw new RecordError(
        "STRING_TOO_LONG",
        `${f.label}: data value too large: ${value} (max length=${f.length})`,
        [f.name],
      );
    }
    if (
      f.type === "picklist" &&
      f.restrictedPicklist &&
      !f.addressCode &&
      !f.picklistValues.includes(value)
    ) {
      throw new RecordError(
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        `${f.label}: bad value for restricted picklist field: ${value}`,
        [f.name],
      );
    }
    if (f.type === "email" && !EMAIL.test(value)) {
      throw new RecordError("INVALID_EMAIL_ADDRESS", `${f.label}: invalid email address: ${value}`, [f.name]);
    }
    if (f.type === "reference" && canonicalId(value) === undefined) {
      throw new RecordError("MALFORMED_ID", `${f.label}: id value of incorrect type: ${value}`, [f.name]);
    }
  }
}
