/**
 * Turns model definitions into the registry the ORM works on: every model gets the
 * ModelSQL base fields and a searchable `rec_name`.
 */
import type { Registry, Rec } from "./orm";
import type { Domain, FieldDef, ModelDef } from "./schema";
import { baseFields, char } from "./schema";

export function defineModel(def: ModelDef & { recNameSortable?: boolean }): ModelDef {
  const recNameField = def.recNameField ?? "name";
  const recName = def.recName ?? ((rec: Rec) => String(rec.get(recNameField) ?? ""));
  const recNameDef: FieldDef = {
    ...char("Record Name"),
    compute: (rec) => recName(rec),
    searchable: true,
    sortable: def.recNameSortable ?? false,
  };
  return {
    ...def,
    recName,
    searchRecName:
      def.searchRecName ?? ((operator: string, value: unknown): Domain => [[recNameField, operator, value]]),
    fields: { ...baseFields(), ...def.fields, rec_name: recNameDef },
  };
}

export function buildRegistry(models: ModelDef[]): Registry {
  return new Map(models.map((m) => [m.name, m]));
}

/** `lstrip_wildcard`: code searches drop leading `%` (trytond/tools/misc.py). */
export function lstripWildcard(value: unknown): unknown {
  return typeof value === "string" ? value.replace(/^%+/, "") : value;
}

/** `OR` of clauses, or `AND` for negative operators, as trytond's `search_rec_name` methods do. */
export function recNameDomain(operator: string, clauses: Domain): Domain {
  const negative = operator.startsWith("!") || operator.startsWith("not ");
  return [negative ? "AND" : "OR", ...clauses];
}
