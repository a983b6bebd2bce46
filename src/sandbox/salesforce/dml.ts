/**
 * Insert, update, upsert and delete of one record, with the checks Salesforce runs in this
 * order: deserialisation of the body (whole-request errors, `parse`), then per record:
 * read-only / create-only fields, required fields, field values, references, the org's
 * Order-domain rules (org-rules.ts) and unique fields.
 */
import { ApiError, MESSAGES, RecordError } from "./errors";
import { coerceFieldValue, checkFieldValue, formatDateTime } from "./fields";
import { canonicalId, type IdFactory } from "./ids";
import type { OrgRules } from "./org-rules";
import type { FieldDef, Schema, SObjectDef } from "./schema";
import type { RecordStore, Row } from "./store";

export interface WriteContext {
  userId: string;
  /** Called right before a row is written (fault injection throws UNABLE_TO_LOCK_ROW here). */
  beforeWrite?: (id: string | undefined) => void;
}

interface RelationRef {
  field: FieldDef;
  target: SObjectDef;
  extField: FieldDef;
  value: unknown;
}

export interface ParsedRecord {
  def: SObjectDef;
  /** Canonical field name → deserialised value. */
  values: Map<string, unknown>;
  /** `"Account": {"Ext__c": "42"}` style references by external id. */
  relations: RelationRef[];
  /** The `Id` / `id` key when the body has one. */
  id?: unknown;
}

export type UpsertOutcome = { id: string; created: boolean } | { multiple: string[] };

type MutableRow = Record<string, unknown>;

export class Dml {
  constructor(
    readonly schema: Schema,
    readonly store: RecordStore,
    private readonly ids: IdFactory,
    private readonly rules: OrgRules,
  ) {}

  /** Deserialise a JSON record body; unknown fields and wrong JSON types fail the whole request. */
  parse(def: SObjectDef, body: unknown): ParsedRecord {
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      throw new ApiError(
        400,
        "JSON_PARSER_ERROR",
        `Cannot deserialize instance of ${def.name} from the request body`,
      );
    }
    const parsed: ParsedRecord = { def, values: new Map(), relations: [] };
    for (const [key, raw] of Object.entries(body as Record<string, unknown>)) {
      if (key === "attributes") continue;
      if (key.toLowerCase() === "id") {
        parsed.id = raw;
        continue;
      }
      const f = this.schema.field(def, key);
      if (f) {
        parsed.values.set(f.name, coerceFieldValue(f, raw));
        continue;
      }
      const relation = this.schema.relationship(def, key);
      if (relation && typeof raw === "object" && raw !== null && !Array.isArray(raw)) {
        parsed.relations.push(this.parseRelation(relation, raw as Record<string, unknown>));
        continue;
      }
      throw new ApiError(400, "INVALID_FIELD", `No such column '${key}' on sobject of type ${def.name}`);
    }
    return parsed;
  }

  private parseRelation(field: FieldDef, raw: Record<string, unknown>): RelationRef {
    const attributes = raw.attributes as { type?: unknown } | undefined;
    const typeName = typeof attributes?.type === "string" ? attributes.type : field.referenceTo[0];
    const target = field.referenceTo.includes(typeName) ? this.schema.get(typeName) : undefined;
    const keys = Object.keys(raw).filter((k) => k !== "attributes");
    const extField = target && keys.length === 1 ? this.schema.field(target, keys[0]) : undefined;
    if (!target || !extField || !(extField.externalId || extField.idLookup)) {
      throw new ApiError(
        400,
        "INVALID_FIELD",
        `The foreign key reference ${field.relationshipName} must name exactly one external ID field of ${typeName}`,
      );
    }
    return { field, target, extField, value: raw[keys[0]] };
  }

  insert(parsed: ParsedRecord, ctx: WriteContext): string {
    const { def } = parsed;
    if (!def.createable) {
      throw new RecordError("INVALID_TYPE_FOR_OPERATION", `entity type ${def.name} does not support insert`);
    }
    if (parsed.id !== undefined)
      throw new RecordError("INVALID_FIELD", "cannot specify Id in an insert call", ["Id"]);
    this.refuseFields(parsed, (f) => !f.createable);
    const row: MutableRow = Object.fromEntries(parsed.values);
    this.resolveRelations(parsed, row);
    this.rules.applyDefaults(def, row, ctx.userId);
    const missing = def.fields.filter(
      (f) =>
        f.createable &&
        !f.nillable &&
        !f.defaultedOnCreate &&
        (row[f.name] === undefined || row[f.name] === null),
    );
    if (missing.length > 0) throw requiredMissing(missing);
    this.checkValues(def, row, Object.keys(row));
    this.rules.beforeInsert(def, row, ctx.userId);
    this.checkUnique(def, row);
    ctx.beforeWrite?.(undefined);
    const id = this.ids.create(def.keyPrefix);
    const now = formatDateTime(new Date());
    const system: MutableRow = {
      Id: id,
      IsDeleted: false,
      CreatedDate: now,
      CreatedById: ctx.userId,
      LastModifiedDate: now,
      LastModifiedById: ctx.userId,
      SystemModstamp: now,
    };
    for (const [name, value] of Object.entries(system)) if (this.schema.field(def, name)) row[name] = value;
    row.Id = id;
    this.store.put(def.name, row);
    this.rules.afterWrite(def, row);
    return id;
  }

  update(existing: Row, parsed: ParsedRecord, ctx: WriteContext): void {
    const { def } = parsed;
    if (!def.updateable) {
      throw new RecordError("INVALID_TYPE_FOR_OPERATION", `entity type ${def.name} does not support update`);
    }
    if (existing.IsDeleted === true) throw new RecordError("ENTITY_IS_DELETED", "entity is deleted");
    this.refuseFields(parsed, (f) => !f.updateable);
    const next: MutableRow = { ...existing, ...Object.fromEntries(parsed.values) };
    this.resolveRelations(parsed, next);
    const touched = [...parsed.values.keys(), ...parsed.relations.map((r) => r.field.name)];
    for (const name of touched) {
      const f = this.schema.field(def, name);
      if (f?.type === "boolean" && next[name] === null) next[name] = false;
    }
    const missing = touched
      .map((name) => this.schema.field(def, name) as FieldDef)
      .filter((f) => !f.nillable && next[f.name] === null);
    if (missing.length > 0) throw requiredMissing(missing);
    this.checkValues(def, next, touched);
    const changed = new Set(touched.filter((name) => next[name] !== existing[name]));
    this.rules.beforeUpdate(def, existing, next, changed, ctx.userId);
    this.checkUnique(def, next, changed);
    ctx.beforeWrite?.(existing.Id as string);
    const now = formatDateTime(new Date());
    if (this.schema.field(def, "LastModifiedDate")) {
      Object.assign(next, { LastModifiedDate: now, LastModifiedById: ctx.userId, SystemModstamp: now });
    }
    this.store.put(def.name, next);
    this.rules.afterWrite(def, next);
  }

  /** Upsert keyed by `extField` (an external-id field or Id); the value is not part of `parsed`. */
  upsert(parsed: ParsedRecord, extField: FieldDef, value: unknown, ctx: WriteContext): UpsertOutcome {
    const matches = this.findByField(parsed.def, extField, value);
    if (matches.length > 1) return { multiple: matches.map((r) => r.Id as string) };
    if (matches.length === 1) {
      this.update(matches[0], parsed, ctx);
      return { id: matches[0].Id as string, created: false };
    }
    if (extField.name === "Id") throw new RecordError("NOT_FOUND", MESSAGES.notFound);
    const values = new Map(parsed.values);
    values.set(extField.name, coerceFieldValue(extField, value));
    return { id: this.insert({ ...parsed, values }, ctx), created: true };
  }

  remove(def: SObjectDef, existing: Row, ctx: WriteContext): void {
    if (!def.deletable) {
      throw new RecordError("INVALID_TYPE_FOR_OPERATION", `entity type ${def.name} does not support delete`);
    }
    if (existing.IsDeleted === true) throw new RecordError("ENTITY_IS_DELETED", "entity is deleted");
    const cascade = this.rules.beforeDelete(def, existing);
    ctx.beforeWrite?.(existing.Id as string);
    const now = formatDateTime(new Date());
    for (const { type, row } of [{ type: def.name, row: existing }, ...cascade]) {
      this.store.put(type, { ...row, IsDeleted: true, SystemModstamp: now });
    }
    if (def.name === "OrderItem") this.rules.afterWrite(def, existing);
  }

  /** The live record a write by id targets, or the record-level error Salesforce reports. */
  existingForWrite(def: SObjectDef | undefined, rawId: unknown): { def: SObjectDef; row: Row } {
    const id = canonicalId(rawId);
    if (!id) throw new RecordError("MALFORMED_ID", `malformed id ${String(rawId)}`);
    const found = this.store.get(id);
    const foundDef = found ? this.schema.get(found.type) : undefined;
    if (!found || !foundDef || (def && foundDef.name !== def.name)) {
      throw new RecordError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id");
    }
    if (found.row.IsDeleted === true) throw new RecordError("ENTITY_IS_DELETED", "entity is deleted");
    return { def: foundDef, row: found.row };
  }

  /** Live rows whose `f` equals `value`: ids canonically, text case-insensitively unless case-sensitive. */
  findByField(def: SObjectDef, f: FieldDef, value: unknown): Row[] {
    if (f.name === "Id") {
      const id = canonicalId(value);
      const row = id ? this.store.table(def.name).get(id) : undefined;
      return row && row.IsDeleted !== true ? [row] : [];
    }
    const wanted = String(value);
    return this.store
      .rowsWhere(def.name, f.name, value, !f.caseSensitive)
      .filter((r) => r.IsDeleted !== true && sameText(String(r[f.name]), wanted, f.caseSensitive));
  }

  private refuseFields(parsed: ParsedRecord, refused: (f: FieldDef) => boolean): void {
    const names = [...parsed.values.keys(), ...parsed.relations.map((r) => r.field.name)].filter((name) =>
      refused(this.schema.field(parsed.def, name) as FieldDef),
    );
    if (names.length > 0) {
      throw new RecordError(
        "INVALID_FIELD_FOR_INSERT_UPDATE",
        `Unable to create/update fields: ${names.join(", ")}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`,
        names,
      );
    }
  }

  private resolveRelations(parsed: ParsedRecord, row: MutableRow): void {
    for (const ref of parsed.relations) {
      if (parsed.values.has(ref.field.name)) {
        throw new RecordError(
          "INVALID_FIELD",
          `Cannot specify both an external ID reference ${ref.field.relationshipName} and a salesforce id, ${ref.field.name}`,
        );
      }
      const matches = this.findByField(ref.target, ref.extField, ref.value);
      if (matches.length !== 1) {
        throw new RecordError(
          "INVALID_FIELD",
          matches.length === 0
            ? `Foreign key external ID: ${String(ref.value)} not found for field ${ref.extField.name} in entity ${ref.target.name}`
            : `Foreign key external ID: ${String(ref.value)} found in multiple records for field ${ref.extField.name} in entity ${ref.target.name}`,
        );
      }
      row[ref.field.name] = matches[0].Id;
    }
  }

  private checkValues(def: SObjectDef, row: MutableRow, names: string[]): void {
    for (const name of names) {
      const f = this.schema.field(def, name);
      if (!f) continue;
      checkFieldValue(f, row[name]);
      if (f.type === "reference" && row[name] != null) row[name] = this.checkReference(f, row[name]);
    }
  }

  private checkReference(f: FieldDef, value: unknown): string {
    const id = canonicalId(value) as string;
    const prefixes = f.referenceTo.map((t) => this.schema.get(t)?.keyPrefix);
    if (!prefixes.includes(id.slice(0, 3))) {
      throw new RecordError("MALFORMED_ID", `${f.label}: id value of incorrect type: ${String(value)}`, [
        f.name,
      ]);
    }
    const found = this.store.get(id);
    if (!found) throw new RecordError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [f.name]);
    if (found.row.IsDeleted === true)
      throw new RecordError("ENTITY_IS_DELETED", "entity is deleted", [f.name]);
    return id;
  }

  private checkUnique(def: SObjectDef, row: MutableRow, changed?: Set<string>): void {
    for (const f of def.fields) {
      if (!f.unique || row[f.name] == null || (changed && !changed.has(f.name))) continue;
      const duplicate = this.findByField(def, f, row[f.name]).find((r) => r.Id !== row.Id);
      if (duplicate) {
        throw new RecordError(
          "DUPLICATE_VALUE",
          `duplicate value found: ${f.name} duplicates value on record with id: ${String(duplicate.Id)}`,
        );
      }
    }
  }
}

function sameText(a: string, b: string, caseSensitive: boolean): boolean {
  return caseSensitive ? a === b : a.toLowerCase() === b.toLowerCase();
}

function requiredMissing(fields: FieldDef[]): RecordError {
  const names = fields.map((f) => f.name);
  return new RecordError(
    "REQUIRED_FIELD_MISSING",
    `Required fields are missing: [${names.join(", ")}]`,
    names,
  );
}
