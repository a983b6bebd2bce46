/**
 * The version switch: everything the simulator does differently for trytond 6.0 and 7.0,
 * in one table selected once when the simulator starts (`startTrytonSimulator({ series })`).
 * Each entry names the concern; docs/tryton-versions.md lists them with the trytond source
 * file each one follows, and the fidelity contract (test/contract/tryton-sim-fidelity.contract.ts)
 * holds both profiles to the real servers.
 */
import type { ModelDef } from "./schema";
import type { Registry } from "./orm";

export type TrytonSeries = "6.0" | "7.0";

export const TRYTON_SERIES: readonly TrytonSeries[] = ["6.0", "7.0"];

/** What a validation message names: the field and model labels, the record and its value. */
export interface MessageNames {
  field: string;
  model: string;
  /** The record's rec_name (7.0 names it). */
  record: string;
  /** str() of the field's value (7.0 names it in domain messages). */
  value: string;
}

type Choices = Array<[string, string]>;

export interface SeriesProfile {
  series: TrytonSeries;
  /** `common.server.version`. */
  version: string;
  messages: {
    required(n: MessageNames): string;
    size(n: MessageNames, size: number, max: number): string;
    /** `value` is the Python repr (6.0) or str (7.0) of the value, already formatted by `digitsValue`. */
    digits(n: MessageNames, value: string, digits: number): string;
    selection(n: MessageNames, value: string): string;
    domain(n: MessageNames): string;
    /** ir.msg_read_error / ir.msg_write_error. */
    missing(verb: "read" | "write to", ids: string, model: string): string;
    passwordLength(length: number): string;
  };
  /** How the digits message shows the value: `repr(value)` (6.0) or `repr(str(value))` (7.0). */
  digitsValue(value: unknown, repr: (v: unknown) => string, str: (v: unknown) => string): string;
  /**
   * 7.0 checks that read/write ids exist before the record rule (so a missing sale is "don't
   * exist", not a rule error) and lists only the failing ids; 6.0 checks the rule only.
   */
  existenceBeforeRule: boolean;
  /** `[password] entropy` default: 0.75 in 6.0, gone in 7.0. */
  passwordEntropy: number | null;
  /** SQLite LIKE gets `ESCAPE '\'` (python-sql 1.4 beside 6.0) or no ESCAPE clause (python-sql 1.5 beside 7.0). */
  likeEscapes: boolean;
  /** The error of ordering by a field without column (`[message, ""]`). */
  unorderableField(name: string): string;
  /** Between a sale line's quantity and unit symbol in its rec_name: "2u" (6.0), "2\u00a0u" (7.0). */
  quantitySymbolSeparator: string;
  /** Street in an address rec_name: first line (6.0) or all lines joined by a space (7.0). */
  streetInRecName(street: string): string;
  /** 7.0 asks a shipment address for quotation only when a line ships goods (quantity >= 0). */
  shipmentAddressOnlyForGoods: boolean;
  /** The Decimal text of a zero amount (comment/title lines): `Decimal('0.0')` (6.0), `Decimal(0)` (7.0). */
  zeroAmount: string;
  /** A user's sessions end when an RPC write changes the password or active flag (7.0). */
  passwordChangeEndsSessions: boolean;
  /** `stock.shipment.out.assign_try` answers whether it assigned (6.0) or nothing (7.0). */
  assignTryAnswers: boolean;
  /** `sale.sale.invoice_state` choices and rule. */
  invoiceStates: Choices;
  invoiceState(invoiceStates: string[]): string;
  /** `sale.sale.shipment_state` choices and rule; `progress` is each goods line's shipped share. */
  shipmentStates: Choices;
  shipmentState(exception: boolean, progress: number[]): string;
  /** 7.0 `Sale.is_done`: an invoice/shipment state `none` counts only when the method is not manual. */
  noneDoneOnlyIfNotManual: boolean;
  /** Field labels renamed between the series ("model.field" → label). */
  fieldStrings: Record<string, string>;
}

const in6 = (n: MessageNames) => `in "${n.model}"`;
const in7 = (n: MessageNames) => `in "${n.record}" of "${n.model}"`;

function validationMessages(where: (n: MessageNames) => string, domainValue: boolean) {
  return {
    required: (n: MessageNames) => `A value is required for field "${n.field}" ${where(n)}.`,
    size: (n: MessageNames, size: number, max: number) =>
      `The value${domainValue ? ` "${n.value}"` : ""} for field "${n.field}" ${where(n)} is too long (${size} > ${max}).`,
    digits: (n: MessageNames, value: string, digits: number) =>
      `The number of digits in the value "${value}" for field "${n.field}" ${where(n)} exceeds the limit of "${digits}".`,
    selection: (n: MessageNames, value: string) =>
      `The value "${value}" for field "${n.field}" ${where(n)} is not one of the allowed options.`,
    domain: (n: MessageNames) =>
      `The value${domainValue ? ` "${n.value}"` : ""} for field "${n.field}" ${where(n)} is not valid according to its domain.`,
  };
}

const SERIES_6_0: SeriesProfile = {
  series: "6.0",
  version: "6.0.29",
  messages: {
    ...validationMessages(in6, false),
    missing: (verb, ids, model) =>
      `You are trying to ${verb} records "${ids}" of "${model}" that don't exist anymore.`,
    passwordLength: () => "The password is too short.",
  },
  digitsValue: (value, repr) => repr(value),
  existenceBeforeRule: false,
  passwordEntropy: 0.75,
  likeEscapes: true,
  unorderableField: (name) => `no such column: a.${name}`,
  quantitySymbolSeparator: "",
  streetInRecName: (street) => street.split(/\r?\n/)[0]!,
  shipmentAddressOnlyForGoods: false,
  zeroAmount: "0.0",
  passwordChangeEndsSessions: false,
  assignTryAnswers: true,
  invoiceStates: [
    ["none", "None"],
    ["waiting", "Waiting"],
    ["paid", "Paid"],
    ["exception", "Exception"],
  ],
  invoiceState: (states) => {
    if (!states.length) return "none";
    if (states.includes("cancelled")) return "exception";
    return states.every((s) => s === "paid") ? "paid" : "waiting";
  },
  shipmentStates: [
    ["none", "None"],
    ["waiting", "Waiting"],
    ["sent", "Sent"],
    ["exception", "Exception"],
  ],
  shipmentState: (exception, progress) => {
    if (exception) return "exception";
    return progress.every((p) => p >= 1) ? "sent" : "waiting";
  },
  noneDoneOnlyIfNotManual: false,
  fieldStrings: {},
};

const SERIES_7_0: SeriesProfile = {
  series: "7.0",
  version: "7.0.30",
  messages: {
    ...validationMessages(in7, true),
    missing: (verb, ids, model) =>
      `You are trying to ${verb} records "${ids}" of "${model}" that don't exist.`,
    passwordLength: (length) => `The password must have at least ${length} characters.`,
  },
  digitsValue: (value, repr, str) => repr(str(value)),
  existenceBeforeRule: true,
  passwordEntropy: null,
  likeEscapes: false,
  // The SQLite and PostgreSQL back ends both answer an empty message here.
  unorderableField: () => "",
  quantitySymbolSeparator: "\u00a0",
  streetInRecName: (street) => street.split(/\r?\n/).join(" "),
  shipmentAddressOnlyForGoods: true,
  zeroAmount: "0",
  passwordChangeEndsSessions: true,
  assignTryAnswers: false,
  invoiceStates: [
    ["none", "None"],
    ["pending", "Pending"],
    ["awaiting payment", "Awaiting Payment"],
    ["partially paid", "Partially Paid"],
    ["paid", "Paid"],
    ["exception", "Exception"],
  ],
  // Cancelled invoices with a cancel move count as paid; the simulator makes no moves.
  invoiceState: (states) => {
    if (!states.length) return "none";
    if (states.includes("cancelled")) return "exception";
    if (states.every((s) => s === "paid")) return "paid";
    if (states.includes("paid")) return "partially paid";
    return states.includes("posted") ? "awaiting payment" : "pending";
  },
  shipmentStates: [
    ["none", "None"],
    ["waiting", "Waiting"],
    ["partially shipped", "Partially Shipped"],
    ["sent", "Sent"],
    ["exception", "Exception"],
  ],
  shipmentState: (exception, progress) => {
    if (exception) return "exception";
    if (progress.every((p) => p >= 1)) return "sent";
    return progress.some((p) => p > 0) ? "partially shipped" : "waiting";
  },
  noneDoneOnlyIfNotManual: true,
  fieldStrings: {
    "product.template.default_uom": "Default UoM",
    "product.template.sale_uom": "Sale UoM",
    "product.product.default_uom": "Default UoM",
    "product.product.sale_uom": "Sale UoM",
  },
};

export const SERIES_PROFILES: Record<TrytonSeries, SeriesProfile> = {
  "6.0": SERIES_6_0,
  "7.0": SERIES_7_0,
};

export function seriesProfile(series: TrytonSeries = "6.0"): SeriesProfile {
  const profile = SERIES_PROFILES[series] as SeriesProfile | undefined;
  if (!profile)
    throw new Error(
      `Tryton simulator: unknown series ${String(series)} (known: ${TRYTON_SERIES.join(", ")})`,
    );
  return profile;
}

/** The registry with the profile's field labels and state choices applied (the model definitions stay shared). */
export function applySeries(registry: Registry, profile: SeriesProfile): Registry {
  const selections: Record<string, Choices> = {
    "sale.sale.invoice_state": profile.invoiceStates,
    "sale.sale.shipment_state": profile.shipmentStates,
  };
  const out: Registry = new Map();
  for (const [name, model] of registry) {
    let fields: ModelDef["fields"] | undefined;
    for (const [fname, field] of Object.entries(model.fields)) {
      const key = `${name}.${fname}`;
      const string = profile.fieldStrings[key];
      const selection = selections[key];
      if (string === undefined && selection === undefined) continue;
      fields ??= { ...model.fields };
      fields[fname] = { ...field, ...(string !== undefined && { string }), ...(selection && { selection }) };
    }
    out.set(name, fields ? { ...model, fields } : model);
  }
  return out;
}
