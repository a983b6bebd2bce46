/**
 * Model and field definitions: the subset of trytond's `fields.*` and `ModelSQL`
 * behaviour the simulated models need (types, labels used in error messages, required
 * and state-dependent required, digits, selections, relation domains, defaults,
 * function fields, default order).
 */
import type { Env, Rec } from "./orm";

export type FieldType =
  | "char"
  | "text"
  | "integer"
  | "float"
  | "numeric"
  | "boolean"
  | "date"
  | "datetime"
  | "selection"
  | "many2one"
  | "one2many"
  | "many2many"
  | "reference";

export type Domain = unknown[];
/** `[field, "ASC" | "DESC" | "ASC NULLS FIRST" | …]`. */
export type Order = Array<[string, string]>;

export interface FieldDef {
  type: FieldType;
  /** The label trytond puts in messages (`"Party"`, `"Unit Price"`). */
  string: string;
  relation?: string;
  /** one2many: the many2one on the target that points back. */
  inverse?: string;
  required?: boolean;
  /** `states={'required': …}`. */
  requiredWhen?: (rec: Rec) => boolean;
  /** `(integer digits, decimal digits)`; a function for `Eval('unit_digits')`-style digits. */
  digits?: readonly [number, number] | ((rec: Rec) => readonly [number, number] | undefined);
  selection?: ReadonlyArray<readonly [string | null, string]>;
  size?: number;
  default?: (env: Env) => unknown;
  /** A Function field: computed on read, never stored. */
  compute?: (rec: Rec) => unknown;
  /** A Function field with a searcher: domains on it compare the computed value. */
  searchable?: boolean;
  /** A Function field with an `order_<name>` method; ordering by any other one fails in SQL. */
  sortable?: boolean;
  /** Relation domain checked on validation (`party.address` of the sale's party…). */
  domain?: (rec: Rec) => Domain | undefined;
  /** x2many read order (default: the target model's order). */
  order?: Order;
  ondelete?: "CASCADE" | "SET NULL" | "RESTRICT";
  /** Stored booleans read back as 0/1 on SQLite (trap 14); function booleans stay true/false. */
  readonly?: boolean;
}

export type MethodHandler = (env: Env, args: unknown[]) => unknown;

export interface ModelDef {
  name: string;
  /** ir.model name, as used in messages (`"Sale"`, `"Sale Line"`). */
  string: string;
  fields: Record<string, FieldDef>;
  order: Order;
  /** `_rec_name`, the field behind rec_name by default. */
  recNameField?: string;
  recName?: (rec: Rec) => string;
  /** `search_rec_name`: the domain a `rec_name` clause turns into. */
  searchRecName?: (operator: string, value: unknown) => Domain;
  /** DeactivableMixin: search skips inactive records unless the domain mentions `active`. */
  deactivable?: boolean;
  /** The record rule "User in companies": the company a record belongs to. */
  company?: (rec: Rec) => number | null;
  /** ir.model.access: only users with groups may use the model at all. */
  restricted?: boolean;
  /** Extra RPC methods (buttons, wizards' entry points, …). */
  methods?: Record<string, MethodHandler>;
  /** Adjust a new row before insert (sequences, computed codes); `values` is what the caller sent. */
  beforeCreate?: (env: Env, row: Record<string, unknown>, values: Record<string, unknown>) => void;
  /** After insert and x2many, before validation. */
  afterCreate?: (env: Env, recs: Rec[]) => void;
  beforeWrite?: (env: Env, recs: Rec[], values: Record<string, unknown>) => void;
  afterWrite?: (env: Env, recs: Rec[], values: Record<string, unknown>) => void;
  /** Raise to refuse, e.g. sales that are not cancelled. */
  beforeDelete?: (env: Env, recs: Rec[]) => void;
  /** `copy()` defaults the model's own `copy` sets (`Sale.copy` clears the sale date…). */
  copyDefaults?: Record<string, unknown>;
  /** Model-level checks after field validation (`Sale.check_method`, unique codes). */
  validate?: (env: Env, recs: Rec[]) => void;
}

// ---- field builders ----------------------------------------------------------------

type Extra = Partial<FieldDef>;

export const char = (string: string, extra: Extra = {}): FieldDef => ({ type: "char", string, ...extra });
export const text = (string: string, extra: Extra = {}): FieldDef => ({ type: "text", string, ...extra });
export const integer = (string: string, extra: Extra = {}): FieldDef => ({
  type: "integer",
  string,
  ...extra,
});
export const float = (string: string, extra: Extra = {}): FieldDef => ({ type: "float", string, ...extra });
export const numeric = (string: string, extra: Extra = {}): FieldDef => ({
  type: "numeric",
  string,
  ...extra,
});
export const boolean = (string: string, extra: Extra = {}): FieldDef => ({
  type: "boolean",
  string,
  default: () => false,
  ...extra,
});
export const date = (string: string, extra: Extra = {}): FieldDef => ({ type: "date", string, ...extra });
export const datetime = (string: string, extra: Extra = {}): FieldDef => ({
  type: "datetime",
  string,
  ...extra,
});
export const selection = (
  string: string,
  options: ReadonlyArray<readonly [string | null, string]>,
  extra: Extra = {},
): FieldDef => ({ type: "selection", string, selection: options, ...extra });
export const many2one = (relation: string, string: string, extra: Extra = {}): FieldDef => ({
  type: "many2one",
  relation,
  string,
  ...extra,
});
export const one2many = (relation: string, inverse: string, string: string, extra: Extra = {}): FieldDef => ({
  type: "one2many",
  relation,
  inverse,
  string,
  ...extra,
});
export const many2many = (relation: string, string: string, extra: Extra = {}): FieldDef => ({
  type: "many2many",
  relation,
  string,
  ...extra,
});
export const reference = (string: string, extra: Extra = {}): FieldDef => ({
  type: "reference",
  string,
  ...extra,
});
/** A Function field of the given shape. */
export const fn = (field: FieldDef, compute: (rec: Rec) => unknown, searchable = false): FieldDef => ({
  ...field,
  default: undefined,
  compute,
  searchable,
});

/** Fields every ModelSQL has. */
export function baseFields(): Record<string, FieldDef> {
  return {
    id: integer("ID", { readonly: true }),
    create_date: datetime("Created at", { readonly: true }),
    create_uid: many2one("res.user", "Created by", { readonly: true }),
    write_date: datetime("Edited at", { readonly: true }),
    write_uid: many2one("res.user", "Edited by", { readonly: true }),
  };
}

export function isStored(field: FieldDef): boolean {
  return !field.compute && field.type !== "one2many";
}
