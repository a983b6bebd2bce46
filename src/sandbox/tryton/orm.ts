/**
 * A small trytond ModelSQL: create/read/write/delete/search over the in-memory store,
 * with trytond 6.0's observable rules (trytond/model/modelstorage.py, modelsql.py):
 *
 * - unknown fields fail as a KeyError (`["'zip'", ""]`);
 * - values are converted like the SQL layer does (`Decimal(float)` keeps the binary
 *   expansion, so `19.99` then fails the digits check; `"19.99"` does not);
 * - validation runs per field in alphabetical order (`dir(cls)`): relation domain,
 *   required, size, digits, selection, then the model's own checks;
 * - the record rule "User in companies" filters searches and fails reads/writes/creates;
 * - one2many/many2many commands `create`, `write`, `delete`, `add`, `remove`, `copy`;
 * - domains: `=`, `!=`, `<`, `<=`, `>`, `>=`, `in`, `not in`, `like`, `ilike`, `not like`,
 *   `not ilike`, nested `AND`/`OR`, dotted paths, `rec_name`; SQL NULL semantics and
 *   SQLite's ASCII-only case folding for LIKE.
 */
import { Dec } from "./decimal";
import { keyError, PythonError, UserError, ConcurrencyException } from "./errors";
import type { FieldDef, ModelDef, Order } from "./schema";
import type { MessageNames, SeriesProfile } from "./series";
import { isStored } from "./schema";
import type { Row, Store } from "./store";
import { PyBytes, PyDate, PyDateTime, pyFloatRepr, pyRepr } from "./values";

export interface SimUser {
  id: number;
  login: string;
  name: string;
  groups: number[];
  companies: number[];
  company: number | null;
}

export type Registry = Map<string, ModelDef>;

/** What the simulator around the ORM provides: a log for background task failures. */
export interface SimHooks {
  log: (line: string) => void;
  /** What differs between the trytond series (src/sandbox/tryton/series.ts). */
  series: SeriesProfile;
  /** Deletes the sessions of these users (ir.session.clear). */
  endSessions: (userIds: number[]) => void;
}

export class Rec {
  constructor(
    readonly env: Env,
    readonly model: ModelDef,
    readonly id: number,
  ) {}

  get row(): Row {
    const row = this.env.store.get(this.model.name, this.id);
    if (!row) throw new UserError(readErrorMessage(this.env, this.model, [this.id]));
    return row;
  }

  exists(): boolean {
    return this.env.store.has(this.model.name, this.id);
  }

  /** Stored value, computed value, m2o id, or x2many ids. */
  get(name: string): unknown {
    if (name === "id") return this.id;
    const field = this.model.fields[name];
    if (!field) throw keyError(name);
    if (field.compute) return field.compute(this);
    if (field.type === "one2many") return this.env.children(this.model, name, this.id);
    const value = this.row[name];
    if (field.type === "many2many") return (value as number[] | undefined) ?? [];
    return value ?? null;
  }

  str(name: string): string | null {
    const v = this.get(name);
    return v === null || v === undefined ? null : String(v);
  }

  num(name: string): number | null {
    const v = this.get(name);
    return typeof v === "number" ? v : null;
  }

  dec(name: string): Dec | null {
    const v = this.get(name);
    return v instanceof Dec ? v : null;
  }

  /** The many2one target, or null (a dangling id gives a record that does not exist). */
  ref(name: string): Rec | null {
    const field = this.model.fields[name];
    if (!field?.relation) throw keyError(name);
    const id = this.get(name);
    return typeof id === "number" ? this.env.rec(field.relation, id) : null;
  }

  refs(name: string): Rec[] {
    const field = this.model.fields[name];
    if (!field?.relation) throw keyError(name);
    return (this.get(name) as number[]).map((id) => this.env.rec(field.relation as string, id));
  }

  get recName(): string {
    return String(this.get("rec_name"));
  }
}

type Clock = () => PyDateTime;

export class Env {
  /** Tasks that run after the call's transaction commits (trytond's queue with worker = False). */
  readonly afterCommit: Array<(env: Env) => void> = [];
  readonly now: PyDateTime;

  constructor(
    readonly registry: Registry,
    readonly store: Store,
    readonly user: SimUser,
    readonly context: Record<string, unknown>,
    readonly hooks: SimHooks,
    clock: Clock,
  ) {
    this.now = clock();
  }

  today(): PyDate {
    return this.now.date();
  }

  get series(): SeriesProfile {
    return this.hooks.series;
  }

  model(name: string): ModelDef {
    const model = this.registry.get(name);
    if (!model) throw keyError(name);
    return model;
  }

  rec(model: string, id: number): Rec {
    return new Rec(this, this.model(model), id);
  }

  recs(model: string, ids: number[]): Rec[] {
    const def = this.model(model);
    return ids.map((id) => new Rec(this, def, id));
  }

  /**
   * ids of the one2many `name` of record `id`, in the target's order. Like trytond's
   * `One2Many.get` (a search on the target), archived targets are left out unless the
   * context says `active_test: false`.
   */
  children(model: ModelDef, name: string, id: number): number[] {
    const field = model.fields[name]!;
    const target = this.model(field.relation!);
    const activeOnly = Boolean(target.deactivable) && this.context.active_test !== false;
    const recs: Rec[] = [];
    for (const child of this.store.lookup(target.name, field.inverse!, id)) {
      if (activeOnly && this.store.get(target.name, child)?.active === false) continue;
      recs.push(new Rec(this, target, child));
    }
    return this.sort(target, recs, field.order ?? target.order).map((r) => r.id);
  }

  /** ids of `model` rows whose `field` equals `value` (reference fields: `"sale.line,12"`), ascending. */
  referrers(model: string, field: string, value: unknown): number[] {
    return [...this.store.lookup(model, field, value)].sort((a, b) => a - b);
  }

  /** A model method other than the CRUD ones (a button, `get_preferences`…), with the access check. */
  callMethod(modelName: string, method: string, args: unknown[]): unknown {
    const model = this.model(modelName);
    this.checkAccess(model);
    const handler = model.methods?.[method];
    if (!handler) throw new PythonError(`'${model.name}' has no method '${method}'`);
    return handler(this, args);
  }

  // ---- access ----------------------------------------------------------------------

  checkAccess(model: ModelDef): void {
    if (model.restricted && this.user.groups.length === 0) {
      throw new UserError(`You are not allowed to access "${model.string}".`);
    }
  }

  /** Companies the "User in companies" rule lets through: the context company, if it is the user's. */
  allowedCompanies(): number[] {
    const company = this.context.company;
    return typeof company === "number" && this.user.companies.includes(company) ? [company] : [];
  }

  private ruleAllows(model: ModelDef, rec: Rec): boolean {
    if (!model.company) return true;
    const company = model.company(rec);
    return company !== null && this.allowedCompanies().includes(company);
  }

  /**
   * trytond `__check_domain_rule`: ids that do not exist or break the rule fail the whole call.
   * 7.0 first checks that read/write ids exist, and lists only the failing ids (series.ts).
   */
  private checkRule(model: ModelDef, ids: number[], mode: "read" | "write" | "delete"): void {
    const missing = ids.filter((id) => !this.store.has(model.name, id));
    const verb = mode === "read" ? "read" : "write to";
    const list = (shown: number[], wrong: number) => shown.slice(0, 5).join(", ") + (wrong > 5 ? "..." : "");
    if (this.series.existenceBeforeRule && mode !== "delete" && missing.length) {
      throw new UserError(this.series.messages.missing(verb, list(missing, missing.length), model.string));
    }
    const wrong = ids.filter((id) => {
      if (!this.store.has(model.name, id)) return true;
      return !this.ruleAllows(model, new Rec(this, model, id));
    });
    if (wrong.length === 0) return;
    const shown = list(this.series.existenceBeforeRule ? wrong : ids, wrong.length);
    if (model.company) {
      const what = { read: "read records", write: "write to records", delete: "delete records" }[mode];
      const tail =
        mode === "delete"
          ? "because of at lease one of those rules"
          : "because of at least one of these rules";
      throw new UserError(
        `You are not allowed to ${what} "${shown}" of "${model.string}" ${tail}:\nUser in companies`,
      );
    }
    if (mode === "delete") return;
    throw new UserError(this.series.messages.missing(verb, shown, model.string));
  }

  // ---- create ----------------------------------------------------------------------

  create(modelName: string, vlist: unknown): number[] {
    const model = this.model(modelName);
    this.checkAccess(model);
    if (!Array.isArray(vlist)) throw new PythonError(`'${pyType(vlist)}' object is not iterable`);
    const created: Array<[number, Record<string, unknown>]> = [];
    for (const raw of vlist) {
      if (!raw || typeof raw !== "object" || Array.isArray(raw)) {
        throw new PythonError(`'${pyType(raw)}' object has no attribute 'keys'`);
      }
      const values = raw as Record<string, unknown>;
      for (const key of Object.keys(values)) if (!model.fields[key]) throw keyError(key);
      const row: Row = { id: this.store.newId(model.name) };
      for (const [name, field] of Object.entries(model.fields)) {
        if (!isStored(field) || name === "id") continue;
        if (field.type === "many2many") row[name] = [];
        else if (name in values) row[name] = this.convert(model, name, field, values[name]);
        else if (field.default) row[name] = field.default(this);
        else row[name] = null;
      }
      row.create_date = this.now;
      row.create_uid = this.user.id;
      row.write_date = null;
      row.write_uid = null;
      model.beforeCreate?.(this, row, values);
      this.store.insert(model.name, row);
      created.push([row.id, values]);
    }
    for (const [id, values] of created) {
      for (const [name, field] of Object.entries(model.fields)) {
        if ((field.type !== "one2many" && field.type !== "many2many") || field.compute) continue;
        if (name in values) this.applyCommands(model, id, name, field, values[name]);
        else if (field.default) this.applyCommands(model, id, name, field, field.default(this));
      }
    }
    const recs = created.map(([id]) => new Rec(this, model, id));
    model.afterCreate?.(this, recs);
    if (model.company && !recs.every((r) => this.ruleAllows(model, r))) {
      throw new UserError(
        `You are not allowed to create records of "${model.string}" because they fail on at least one of these rules:\nUser in companies`,
      );
    }
    this.validate(model, recs);
    return recs.map((r) => r.id);
  }

  // ---- x2many commands (trytond/model/fields/one2many.py, many2many.py) --------------

  private applyCommands(model: ModelDef, id: number, name: string, field: FieldDef, commands: unknown): void {
    if (commands === null || commands === undefined) return;
    if (!Array.isArray(commands)) throw new PythonError(`'${pyType(commands)}' object is not iterable`);
    const target = field.relation!;
    const ids = (v: unknown): number[] => {
      if (!Array.isArray(v)) throw new PythonError(`'${pyType(v)}' object is not iterable`);
      return v.map((x) => toInt(x));
    };
    const link = (add: number[], remove: number[]): void => {
      const current = (this.store.get(model.name, id)?.[name] as number[] | undefined) ?? [];
      const next = current.filter((x) => !remove.includes(x));
      for (const x of add) if (!next.includes(x)) next.push(x);
      this.store.update(model.name, id, { [name]: next });
    };
    for (const command of commands) {
      if (!Array.isArray(command)) throw new PythonError(`'${pyType(command)}' object is not subscriptable`);
      const [action, ...args] = command as [unknown, ...unknown[]];
      switch (action) {
        case "create": {
          const vlist = Array.isArray(args[0]) ? (args[0] as unknown[]) : [];
          if (field.type === "one2many") {
            this.create(
              target,
              vlist.map((v) => ({ ...(v as Record<string, unknown>), [field.inverse!]: id })),
            );
          } else link(this.create(target, vlist), []);
          break;
        }
        case "write": {
          const pairs: unknown[] = [];
          for (let i = 0; i + 1 < args.length; i += 2) pairs.push(ids(args[i]), args[i + 1]);
          this.write(target, pairs);
          break;
        }
        case "delete":
          this.delete(target, ids(args[0]));
          if (field.type === "many2many") link([], ids(args[0]));
          break;
        case "add":
          if (field.type === "one2many") this.write(target, [ids(args[0]), { [field.inverse!]: id }]);
          else link(ids(args[0]), []);
          break;
        case "remove":
          if (field.type === "one2many") this.write(target, [ids(args[0]), { [field.inverse!]: null }]);
          else link([], ids(args[0]));
          break;
        case "copy": {
          const defaults = (args[1] ?? {}) as Record<string, unknown>;
          const copies = this.copy(
            target,
            ids(args[0]),
            field.type === "one2many" ? { ...defaults, [field.inverse!]: id } : defaults,
          );
          if (field.type === "many2many") link(copies, []);
          break;
        }
        default:
          throw keyError(String(action));
      }
    }
  }

  // ---- read ------------------------------------------------------------------------

  read(modelName: string, ids: unknown, fieldNames: unknown): Array<Record<string, unknown>> {
    const model = this.model(modelName);
    this.checkAccess(model);
    const idList = toIdList(ids);
    const names =
      fieldNames === null || fieldNames === undefined ? [] : (fieldNames as unknown[]).map(String);
    for (const name of names) {
      const head = name.split(".")[0]!;
      if (!model.fields[head] && !PSEUDO_FIELDS.has(head)) throw keyError(head);
    }
    // One row per id, in SQLite's order for `WHERE id IN (…)`: ascending ids, whatever
    // order they were asked in.
    const unique = [...new Set(idList)].sort((a, b) => a - b);
    this.checkRule(model, unique, "read");
    return this.readRecords(
      model,
      unique.map((id) => new Rec(this, model, id)),
      names,
    );
  }

  private readRecords(model: ModelDef, recs: Rec[], names: string[]): Array<Record<string, unknown>> {
    const direct: string[] = [];
    const nested = new Map<string, string[]>();
    for (const name of names) {
      const dot = name.indexOf(".");
      if (dot < 0) direct.push(name);
      else {
        const head = name.slice(0, dot);
        const list = nested.get(head) ?? [];
        list.push(name.slice(dot + 1));
        nested.set(head, list);
      }
    }
    return recs.map((rec) => {
      const out: Record<string, unknown> = { id: rec.id };
      for (const name of direct) {
        if (name === "id") continue;
        out[name] = this.readValue(model, rec, name);
      }
      for (const [head, rest] of nested) {
        const field = model.fields[head];
        if (!field?.relation) continue;
        const target = this.model(field.relation);
        if (field.type === "many2one") {
          const id = rec.get(head);
          if (typeof id !== "number") out[head + "."] = null;
          else {
            const sub = new Rec(this, target, id);
            if (!sub.exists()) throw new UserError(readErrorMessage(this, target, [id]));
            out[head + "."] = this.readRecords(target, [sub], rest)[0];
          }
        } else {
          out[head + "."] = this.readRecords(
            target,
            (rec.get(head) as number[]).map((id) => new Rec(this, target, id)),
            rest,
          );
        }
      }
      return out;
    });
  }

  private readValue(model: ModelDef, rec: Rec, name: string): unknown {
    if (name === "_timestamp") {
      const row = rec.row;
      return timestampOf((row.write_date ?? row.create_date) as PyDateTime | null);
    }
    if (name === "_write" || name === "_delete") return true;
    const field = model.fields[name]!;
    const value = rec.get(name);
    if (field.type === "boolean" && !field.compute) return value ? 1 : 0;
    if (field.type === "float" && typeof value === "number") return value;
    return value ?? null;
  }

  // ---- write -----------------------------------------------------------------------

  write(modelName: string, args: unknown[]): null {
    const model = this.model(modelName);
    this.checkAccess(model);
    const touched = new Map<number, Rec>();
    const pairs: Array<[number[], Record<string, unknown>]> = [];
    for (let i = 0; i < args.length; i += 2) {
      const values = args[i + 1];
      if (!values || typeof values !== "object" || Array.isArray(values)) {
        throw new PythonError(`'${pyType(values)}' object has no attribute 'items'`);
      }
      pairs.push([toIdList(args[i]), values as Record<string, unknown>]);
    }
    const allIds = [...new Set(pairs.flatMap(([ids]) => ids))];
    this.checkTimestamp(model, allIds);
    this.checkRule(model, allIds, "write");
    for (const [ids, values] of pairs) {
      if (ids.length === 0) continue;
      for (const key of Object.keys(values)) if (!model.fields[key]) throw keyError(key);
      const recs = ids.map((id) => new Rec(this, model, id));
      model.beforeWrite?.(this, recs, values);
      const patch: Record<string, unknown> = {};
      for (const [name, value] of Object.entries(values)) {
        const field = model.fields[name]!;
        if (!isStored(field) || field.type === "many2many" || name === "id") continue;
        patch[name] = this.convert(model, name, field, value);
      }
      patch.write_date = this.now;
      patch.write_uid = this.user.id;
      for (const id of ids) this.store.update(model.name, id, patch);
      for (const [name, value] of Object.entries(values)) {
        const field = model.fields[name]!;
        if ((field.type === "one2many" || field.type === "many2many") && !field.compute) {
          for (const id of ids) this.applyCommands(model, id, name, field, value);
        }
      }
      model.afterWrite?.(this, recs, values);
      for (const rec of recs) touched.set(rec.id, rec);
    }
    // The rule is checked again after the write: a record may not leave the user's companies.
    this.checkRule(
      model,
      [...touched.keys()].filter((id) => this.store.has(model.name, id)),
      "write",
    );
    this.validate(
      model,
      [...touched.values()].filter((r) => r.exists()),
    );
    return null;
  }

  /** trytond `__check_timestamp`: context `_timestamp` {"model,id": stamp} must match the stored one. */
  private checkTimestamp(model: ModelDef, ids: number[]): void {
    const stamps = this.context._timestamp;
    if (!stamps || typeof stamps !== "object") return;
    for (const id of ids) {
      const key = `${model.name},${id}`;
      const given = (stamps as Record<string, unknown>)[key];
      if (given === undefined || given === null) continue;
      delete (stamps as Record<string, unknown>)[key];
      const row = this.store.get(model.name, id);
      if (!row) continue;
      if (timestampOf((row.write_date ?? row.create_date) as PyDateTime | null) !== String(given)) {
        throw new ConcurrencyException("Records were modified in the meanwhile");
      }
    }
  }

  // ---- delete ----------------------------------------------------------------------

  delete(modelName: string, ids: unknown): null {
    const model = this.model(modelName);
    this.checkAccess(model);
    const idList = [...new Set(toIdList(ids))];
    this.checkTimestamp(model, idList);
    // The models under the company rule all read their records before deleting
    // (Sale.delete cancels first, SaleLine.delete checks the sale state): a missing
    // record fails as a read.
    this.checkRule(model, idList, model.company ? "read" : "delete");
    const recs = idList.filter((id) => this.store.has(model.name, id)).map((id) => new Rec(this, model, id));
    if (recs.length === 0) return null;
    model.beforeDelete?.(this, recs);
    const gone = recs.filter((r) => r.exists()).map((r) => r.id);
    // trytond ModelSQL.delete: every many2one pointing here is SET NULL (then the
    // referencing records are validated), CASCADE (deleted) or checked (RESTRICT, or a
    // required SET NULL), in that order.
    const toUpdate: Array<[ModelDef, string]> = [];
    const toDelete: Array<[ModelDef, string]> = [];
    const toCheck: Array<[ModelDef, string]> = [];
    for (const other of this.registry.values()) {
      for (const [name, field] of Object.entries(other.fields)) {
        if (field.type !== "many2one" || field.relation !== model.name || field.compute) continue;
        if (name.endsWith("_uid")) continue;
        const ondelete = field.ondelete ?? "SET NULL";
        if (ondelete === "CASCADE") toDelete.push([other, name]);
        else if (ondelete === "RESTRICT" || field.required) toCheck.push([other, name]);
        else toUpdate.push([other, name]);
      }
    }
    const referencing = (other: ModelDef, name: string): Row[] =>
      [...this.store.table(other.name).values()].filter(
        (r) =>
          typeof r[name] === "number" &&
          gone.includes(r[name] as number) &&
          !(other.name === model.name && gone.includes(r.id)),
      );
    for (const [other, name] of toUpdate) {
      const rows = referencing(other, name);
      if (!rows.length) continue;
      for (const r of rows) this.store.update(other.name, r.id, { [name]: null });
      this.validate(
        other,
        rows.map((r) => new Rec(this, other, r.id)),
      );
    }
    for (const [other, name] of toDelete) {
      const rows = referencing(other, name);
      if (rows.length)
        this.delete(
          other.name,
          rows.map((r) => r.id),
        );
    }
    for (const [other, name] of toCheck) {
      if (referencing(other, name).length) {
        throw new UserError(
          `The records could not be deleted because they are used by field "${other.fields[name]!.string}" of "${other.string}".`,
        );
      }
    }
    for (const other of this.registry.values()) {
      for (const [name, field] of Object.entries(other.fields)) {
        if (field.type !== "many2many" || field.relation !== model.name || field.compute) continue;
        for (const r of this.store.table(other.name).values()) {
          const list = r[name] as number[] | undefined;
          if (list?.some((x) => gone.includes(x))) {
            this.store.update(other.name, r.id, { [name]: list.filter((x) => !gone.includes(x)) });
          }
        }
      }
    }
    for (const id of gone) this.store.remove(model.name, id);
    return null;
  }

  copy(modelName: string, ids: unknown, defaults: Record<string, unknown> = {}): number[] {
    const model = this.model(modelName);
    this.checkAccess(model);
    const idList = toIdList(ids);
    this.checkRule(model, idList, "read");
    const vlist = idList.map((id) => {
      const rec = new Rec(this, model, id);
      const values: Record<string, unknown> = {};
      for (const [name, field] of Object.entries(model.fields)) {
        if (!isStored(field) || BASE_FIELDS.has(name) || field.readonly) continue;
        if (field.type === "many2many") values[name] = [["add", rec.get(name)]];
        else values[name] = rec.row[name] ?? null;
      }
      for (const [name, field] of Object.entries(model.fields)) {
        if (field.type === "one2many" && !field.compute && !field.readonly) {
          const children = rec.get(name) as number[];
          if (children.length) values[name] = [["copy", children]];
        }
      }
      return { ...values, ...(model.copyDefaults ?? {}), ...defaults };
    });
    return this.create(model.name, vlist);
  }

  // ---- search ----------------------------------------------------------------------

  search(modelName: string, domain: unknown, offset: unknown, limit: unknown, order: unknown): number[] {
    const model = this.model(modelName);
    this.checkAccess(model);
    return this.searchRecs(model, domain, offset, limit, order).map((r) => r.id);
  }

  searchRecs(model: ModelDef, domain: unknown, offset?: unknown, limit?: unknown, order?: unknown): Rec[] {
    const dom = domain === null || domain === undefined ? [] : domain;
    if (!Array.isArray(dom)) throw new PythonError(`'${pyType(dom)}' object is not iterable`);
    const orderList = this.parseOrder(model, order);
    this.checkDomain(model, dom);
    const activeTest =
      model.deactivable && this.context.active_test !== false && !mentionsField(dom, "active");
    let recs = [...this.store.table(model.name).values()].map((r) => new Rec(this, model, r.id));
    recs = recs.filter(
      (r) => (!activeTest || r.row.active !== false) && this.ruleAllows(model, r) && this.matches(r, dom),
    );
    recs = this.sort(model, recs, orderList);
    const start = typeof offset === "number" && offset > 0 ? offset : 0;
    const end = typeof limit === "number" && limit >= 0 ? start + limit : undefined;
    return recs.slice(start, end);
  }

  searchCount(modelName: string, domain: unknown): number {
    const model = this.model(modelName);
    this.checkAccess(model);
    return this.searchRecs(model, domain).length;
  }

  searchRead(
    modelName: string,
    domain: unknown,
    offset: unknown,
    limit: unknown,
    order: unknown,
    fieldNames: unknown,
  ): Array<Record<string, unknown>> {
    const model = this.model(modelName);
    this.checkAccess(model);
    const names =
      fieldNames === null || fieldNames === undefined ? [] : (fieldNames as unknown[]).map(String);
    for (const name of names) {
      const head = name.split(".")[0]!;
      if (!model.fields[head] && !PSEUDO_FIELDS.has(head)) throw keyError(head);
    }
    return this.readRecords(model, this.searchRecs(model, domain, offset, limit, order), names);
  }

  private parseOrder(model: ModelDef, order: unknown): Order {
    if (order === null || order === undefined) return model.order;
    if (!Array.isArray(order)) throw new PythonError(`'${pyType(order)}' object is not iterable`);
    const out: Order = [];
    for (const item of order) {
      const [name, direction] = Array.isArray(item) ? item : [item, "ASC"];
      const head = String(name).split(".")[0]!;
      const field = model.fields[head];
      if (!field) throw keyError(head);
      if ((field.compute && !field.sortable) || field.type === "one2many" || field.type === "many2many") {
        throw new PythonError(this.series.unorderableField(head));
      }
      const dir = String(direction ?? "ASC").toUpperCase();
      const base = dir.split(" ")[0]!;
      if (base !== "ASC" && base !== "DESC") throw keyError(String(direction));
      out.push([String(name), dir]);
    }
    return out.length ? out : model.order;
  }

  /** Sort records by an order list; SQLite puts NULLs first ascending, last descending. */
  sort(model: ModelDef, recs: Rec[], order: Order): Rec[] {
    const full: Order = order.some(([f]) => f === "id") ? order : [...order, ["id", "ASC"]];
    const keyed = recs.map((rec) => ({
      rec,
      keys: full.map(([name]) => this.orderKey(model, rec, name, 0)),
    }));
    keyed.sort((a, b) => {
      for (let i = 0; i < full.length; i += 1) {
        const [, direction] = full[i]!;
        const desc = direction.startsWith("DESC");
        const nulls = direction.includes("NULLS FIRST")
          ? "first"
          : direction.includes("NULLS LAST")
            ? "last"
            : "";
        const c = compareKeys(a.keys[i]!, b.keys[i]!, desc, nulls);
        if (c !== 0) return c;
      }
      return 0;
    });
    return keyed.map((k) => k.rec);
  }

  private orderKey(model: ModelDef, rec: Rec, path: string, depth: number): unknown[] {
    const [head, ...rest] = path.split(".");
    const field = model.fields[head!];
    if (!field) return [rec.id];
    if (!rec.exists()) return [null];
    const value = rec.get(head!);
    if (field.type === "many2one" && field.relation) {
      if (typeof value !== "number") return [null];
      const target = this.model(field.relation);
      const sub = new Rec(this, target, value);
      if (rest.length) return this.orderKey(target, sub, rest.join("."), depth + 1);
      if (depth >= 1) return [value];
      return target.order.flatMap(([name]) => this.orderKey(target, sub, name, depth + 1)).concat([value]);
    }
    return [value];
  }

  // ---- domains ---------------------------------------------------------------------

  /** Fail early like trytond on unknown fields and malformed clauses, even with no rows. */
  private checkDomain(model: ModelDef, domain: unknown[]): void {
    for (const [i, item] of domain.entries()) {
      if (i === 0 && (item === "AND" || item === "OR")) continue;
      if (!Array.isArray(item)) continue;
      if (isClause(item)) {
        if (item.length < 3) throw new PythonError("maximum recursion depth exceeded in __instancecheck__");
        const [path, operator] = item as [string, unknown];
        if (!OPERATORS.has(String(operator))) {
          throw new PythonError("maximum recursion depth exceeded in __instancecheck__");
        }
        const head = path.split(".")[0]!;
        const field = model.fields[head];
        if (!field) throw keyError(head);
        if (field.compute && !field.searchable && head !== "rec_name") {
          throw new PythonError(`Missing search function for field "${field.string}" in "${model.string}".`);
        }
        const rest = path.slice(head.length + 1);
        if (rest && field.relation) this.checkDomain(this.model(field.relation), [[rest, ...item.slice(1)]]);
      } else this.checkDomain(model, item);
    }
  }

  matches(rec: Rec, domain: unknown[]): boolean {
    let mode: "AND" | "OR" = "AND";
    let items = domain;
    if (domain[0] === "AND" || domain[0] === "OR") {
      mode = domain[0];
      items = domain.slice(1);
    }
    const test = (item: unknown): boolean => {
      if (!Array.isArray(item)) return false;
      return isClause(item)
        ? this.matchClause(rec, item as [string, string, unknown])
        : this.matches(rec, item);
    };
    return mode === "AND" ? items.every(test) : items.some(test);
  }

  private matchClause(rec: Rec, clause: [string, string, unknown]): boolean {
    const [path, operator, value] = clause;
    const model = rec.model;
    const dot = path.indexOf(".");
    const head = dot < 0 ? path : path.slice(0, dot);
    const rest = dot < 0 ? "" : path.slice(dot + 1);
    if (head === "rec_name" && model.searchRecName)
      return this.matches(rec, model.searchRecName(operator, value));
    const field = model.fields[head]!;
    if (
      field.relation &&
      (field.type === "many2one" || field.type === "one2many" || field.type === "many2many")
    ) {
      const targets =
        field.type === "many2one"
          ? rec.get(head) === null
            ? []
            : [rec.get(head) as number]
          : (rec.get(head) as number[]);
      const target = this.model(field.relation);
      if (rest) {
        return targets.some((id) => {
          const sub = new Rec(this, target, id);
          return sub.exists() && this.matchClause(sub, [rest, operator, value]);
        });
      }
      // A text value on a relation searches the target's rec_name (Many2One.convert_domain).
      const byName =
        (typeof value === "string" && !/^\d+$/.test(value)) ||
        (Array.isArray(value) && value.some((v) => typeof v === "string"));
      if (byName) {
        const hit = targets.some((id) => {
          const sub = new Rec(this, target, id);
          return sub.exists() && this.matchClause(sub, ["rec_name", operator, value]);
        });
        return operator.startsWith("not") || operator === "!=" ? targets.length > 0 && hit : hit;
      }
      if (field.type !== "many2one") {
        if (value === null) return operator === "=" ? targets.length === 0 : targets.length > 0;
        return compareValue(
          { type: "integer", string: "" },
          targets,
          operator,
          value,
          true,
          this.series.likeEscapes,
        );
      }
    }
    return compareValue(field, rec.get(head), operator, value, false, this.series.likeEscapes);
  }

  // ---- validation ------------------------------------------------------------------

  validate(model: ModelDef, recs: Rec[]): void {
    if (recs.length === 0) return;
    const names = Object.keys(model.fields).sort();
    for (const name of names) {
      const field = model.fields[name]!;
      if (field.compute || name === "id") continue;
      if (field.domain) this.validateDomain(model, name, field, recs);
      for (const rec of recs) {
        const required = field.required || (field.requiredWhen?.(rec) ?? false);
        if (required) {
          const value = rec.get(name);
          if (
            value === null ||
            value === false ||
            value === "" ||
            (Array.isArray(value) && value.length === 0)
          ) {
            throw new UserError(this.series.messages.required(this.names(model, name, rec)));
          }
        }
      }
      if (field.size !== undefined) {
        for (const rec of recs) {
          const size = String(rec.get(name) ?? "").length;
          if (size > field.size) {
            throw new UserError(this.series.messages.size(this.names(model, name, rec), size, field.size));
          }
        }
      }
      if (field.digits && (field.type === "float" || field.type === "numeric")) {
        for (const rec of recs) {
          const digits = typeof field.digits === "function" ? field.digits(rec) : field.digits;
          const value = rec.get(name);
          if (!digits || value === null || value === undefined) continue;
          const places = digits[1];
          const ok =
            value instanceof Dec
              ? value.fitsDigits(places)
              : roundHalfEven(value as number, places) === value;
          if (!ok) {
            const shown = this.series.digitsValue(value, pyRepr, pyStr);
            throw new UserError(this.series.messages.digits(this.names(model, name, rec), shown, places));
          }
        }
      }
      if (field.selection) {
        const allowed = new Set(field.selection.map(([k]) => k));
        if (allowed.has(null) || allowed.has("")) {
          allowed.add(null);
          allowed.add("");
        }
        for (const rec of recs) {
          const value = rec.get(name);
          if (!allowed.has(value as string | null)) {
            throw new UserError(
              this.series.messages.selection(
                this.names(model, name, rec),
                value === null ? "None" : String(value),
              ),
            );
          }
        }
      }
    }
    model.validate?.(this, recs);
  }

  /** `Model.__names__(field, record)`: the labels, the record's rec_name and str() of the value. */
  private names(model: ModelDef, name: string, rec: Rec): MessageNames {
    const field = model.fields[name]!;
    const label = (r: Rec): string => {
      try {
        return r.recName;
      } catch {
        return String(r.id);
      }
    };
    const value = rec.get(name);
    let text: string;
    if (field.relation && field.type === "many2one") {
      text = typeof value === "number" ? label(new Rec(this, this.model(field.relation), value)) : "None";
    } else if (field.relation && Array.isArray(value)) {
      const target = this.model(field.relation);
      text = (value as number[]).map((id) => label(new Rec(this, target, id))).join(", ");
    } else text = value === null || value === undefined ? "None" : pyStr(value);
    return { field: field.string, model: model.string, record: label(rec), value: text };
  }

  private validateDomain(model: ModelDef, name: string, field: FieldDef, recs: Rec[]): void {
    const target = this.model(field.relation!);
    for (const rec of recs) {
      const domain = field.domain!(rec);
      if (!domain || domain.length === 0) continue;
      const value = rec.get(name);
      const ids =
        field.type === "many2one" ? (typeof value === "number" ? [value] : []) : (value as number[]);
      for (const id of ids) {
        const sub = new Rec(this, target, id);
        if (sub.exists() && this.matches(sub, domain)) continue;
        const fieldsDef: Record<string, unknown> = {};
        for (const clause of domain) {
          if (Array.isArray(clause) && typeof clause[0] === "string") {
            const fname = clause[0].split(".")[0]!;
            const f = target.fields[fname];
            if (f) fieldsDef[fname] = describeField(fname, f);
          }
        }
        throw new UserError(this.series.messages.domain(this.names(model, name, rec)), "", [
          domain,
          fieldsDef,
        ]);
      }
    }
  }

  // ---- value conversion (the SQL layer's sql_format) ---------------------------------

  convert(model: ModelDef, name: string, field: FieldDef, value: unknown): unknown {
    if (value === null || value === undefined) return field.type === "boolean" ? false : null;
    switch (field.type) {
      case "char":
      case "text":
        return pyStr(value);
      case "selection":
        return value === false ? null : value;
      case "integer":
        return toInt(value);
      case "many2one":
        if (value === false) return null;
        return toInt(value);
      case "float":
        if (value instanceof Dec) return value.toNumber();
        if (typeof value === "number") return value;
        if (typeof value === "boolean") return value ? 1 : 0;
        if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value)))
          return Number(value);
        throw new PythonError(`could not convert string to float: ${pyRepr(String(value))}`);
      case "numeric":
        if (value instanceof Dec) return value;
        if (typeof value === "number") return Dec.fromFloat(value);
        if (typeof value === "boolean") return Dec.fromInt(value ? 1 : 0);
        if (typeof value === "string") {
          const d = Dec.parse(value);
          if (d) return d;
        }
        throw new PythonError("[<class 'decimal.ConversionSyntax'>]");
      case "boolean":
        return pyTruthy(value);
      case "date":
        if (value instanceof PyDateTime) return value.date();
        if (value instanceof PyDate) return value;
        if (typeof value === "string") {
          const d = PyDate.parse(value);
          if (d) return d;
          throw new PythonError(`Invalid isoformat string: ${pyRepr(value)}`);
        }
        throw new PythonError(`fromisoformat: argument must be str`);
      case "datetime":
        if (value instanceof PyDateTime) return value;
        if (value instanceof PyDate) return new PyDateTime(value.year, value.month, value.day);
        if (typeof value === "string") {
          const d = PyDateTime.parse(value);
          if (d) return d;
          throw new PythonError(`Invalid isoformat string: ${pyRepr(value)}`);
        }
        throw new PythonError(`fromisoformat: argument must be str`);
      case "reference":
        if (Array.isArray(value)) return `${value[0]},${value[1]}`;
        return String(value);
      default:
        throw new PythonError(`cannot store ${model.name}.${name}`);
    }
  }
}

const PSEUDO_FIELDS = new Set(["_timestamp", "_write", "_delete"]);
const BASE_FIELDS = new Set(["id", "create_date", "create_uid", "write_date", "write_uid"]);
const OPERATORS = new Set([
  "=",
  "!=",
  "<",
  "<=",
  ">",
  ">=",
  "in",
  "not in",
  "like",
  "ilike",
  "not like",
  "not ilike",
]);

function readErrorMessage(env: Env, model: ModelDef, ids: number[]): string {
  const list = ids.join(", ");
  if (model.company && !env.series.existenceBeforeRule) {
    return `You are not allowed to read records "${list}" of "${model.string}" because of at least one of these rules:\nUser in companies`;
  }
  return env.series.messages.missing("read", list, model.string);
}

function describeField(name: string, field: FieldDef): Record<string, unknown> {
  const out: Record<string, unknown> = {
    name,
    type: field.type,
    string: field.string,
    required: Boolean(field.required),
    readonly: Boolean(field.readonly),
  };
  if (field.relation) out.relation = field.relation;
  if (field.selection) out.selection = field.selection.map(([k, v]) => [k, v]);
  return out;
}

/**
 * trytond's `_timestamp` on SQLite: `int(time.mktime(...))` of write_date or create_date,
 * whole seconds (the server runs in UTC), as text. Two writes within one second share it.
 */
function timestampOf(dt: PyDateTime | null): string | null {
  if (!dt) return null;
  return String(Date.UTC(dt.year, dt.month - 1, dt.day, dt.hour, dt.minute, dt.second) / 1000);
}

function isClause(item: unknown[]): boolean {
  return typeof item[0] === "string" && item[0] !== "AND" && item[0] !== "OR";
}

function mentionsField(domain: unknown[], name: string): boolean {
  return domain.some((item) =>
    Array.isArray(item)
      ? isClause(item)
        ? String(item[0]).split(".")[0] === name
        : mentionsField(item, name)
      : false,
  );
}

export function toInt(value: unknown): number {
  if (typeof value === "number" && Number.isFinite(value)) return Math.trunc(value);
  if (typeof value === "boolean") return value ? 1 : 0;
  if (value instanceof Dec) return Math.trunc(value.toNumber());
  if (typeof value === "string" && /^\s*[+-]?\d+\s*$/.test(value)) return Number(value);
  if (typeof value === "string")
    throw new PythonError(`invalid literal for int() with base 10: ${pyRepr(value)}`);
  throw new PythonError(
    `int() argument must be a string, a bytes-like object or a real number, not '${pyType(value)}'`,
  );
}

function toIdList(ids: unknown): number[] {
  if (ids === null || ids === undefined) return [];
  if (typeof ids === "number") return [toInt(ids)];
  if (!Array.isArray(ids)) throw new PythonError(`'${pyType(ids)}' object is not iterable`);
  return ids.map((id) => toInt(id));
}

export function pyType(value: unknown): string {
  if (value === null || value === undefined) return "NoneType";
  if (typeof value === "number") return Number.isInteger(value) ? "int" : "float";
  if (typeof value === "string") return "str";
  if (typeof value === "boolean") return "bool";
  if (Array.isArray(value)) return "list";
  if (value instanceof Dec) return "decimal.Decimal";
  return "dict";
}

function pyStr(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : pyFloatRepr(value);
  if (value === true) return "True";
  if (value === false) return "False";
  if (value instanceof Dec || value instanceof PyDate || value instanceof PyDateTime) return value.toString();
  if (value instanceof PyBytes) return value.data.toString("utf8");
  return JSON.stringify(value);
}

function pyTruthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (value instanceof Dec) return !value.isZero();
  if (typeof value === "object" && value !== null) return Object.keys(value).length > 0;
  return Boolean(value);
}

function roundHalfEven(value: number, places: number): number {
  // Python round(): correctly rounded half-even on the decimal value of the float.
  const exact = Dec.fromFloat(value).quantize(-places);
  return Number(exact.toString());
}

// ---- comparisons --------------------------------------------------------------------

/** Bring a domain value to the field's stored type (the SQL layer casts both sides). */
function domainValue(field: FieldDef, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (field.type) {
    case "numeric":
      if (value instanceof Dec) return value;
      if (typeof value === "number") return Dec.fromFloat(value);
      if (typeof value === "string") return Dec.parse(value) ?? value;
      return value;
    case "float":
    case "integer":
    case "many2one":
      if (value instanceof Dec) return value.toNumber();
      if (typeof value === "string" && /^\s*[+-]?\d+(\.\d+)?\s*$/.test(value)) return Number(value);
      if (typeof value === "boolean") return value ? 1 : 0;
      return value;
    case "boolean":
      return pyTruthy(value);
    case "date":
      if (typeof value === "string") return PyDate.parse(value) ?? value;
      if (value instanceof PyDateTime) return value.date();
      return value;
    case "datetime":
      if (typeof value === "string") return PyDateTime.parse(value) ?? value;
      if (value instanceof PyDate) return new PyDateTime(value.year, value.month, value.day);
      return value;
    default:
      return value;
  }
}

function cmp(a: unknown, b: unknown): number | undefined {
  if (a instanceof Dec && b instanceof Dec) return a.cmp(b);
  if (a instanceof Dec && typeof b === "number") return a.cmp(Dec.fromFloat(b));
  if (typeof a === "number" && b instanceof Dec) return Dec.fromFloat(a).cmp(b);
  if (a instanceof PyDate && b instanceof PyDate) return Math.sign(a.key() - b.key());
  if (a instanceof PyDateTime && b instanceof PyDateTime)
    return a.key() === b.key() ? 0 : a.key() < b.key() ? -1 : 1;
  if (typeof a === "boolean" || typeof b === "boolean") return Math.sign(Number(a) - Number(b));
  if (typeof a === "number" && typeof b === "number") return Math.sign(a - b);
  if (typeof a === "string" && typeof b === "string") return a === b ? 0 : a < b ? -1 : 1;
  // SQLite orders numbers before text.
  if (typeof a === "number" && typeof b === "string") return -1;
  if (typeof a === "string" && typeof b === "number") return 1;
  return undefined;
}

const likeCache = new Map<string, RegExp>();

/**
 * SQLite LIKE: `%`, `_`, case folding for ASCII letters only; backslash escapes when the
 * query says `ESCAPE '\\'` (series.ts `likeEscapes`).
 */
function likeMatch(text: string, pattern: string, escapes: boolean): boolean {
  const key = `${escapes ? "e" : "-"}${pattern}`;
  let compiled = likeCache.get(key);
  if (!compiled) {
    compiled = likeRegex(pattern, escapes);
    if (likeCache.size > 1000) likeCache.clear();
    likeCache.set(key, compiled);
  }
  return compiled.test(asciiLower(text));
}

function likeRegex(pattern: string, escapes: boolean): RegExp {
  let re = "";
  const folded = asciiLower(pattern);
  for (let i = 0; i < folded.length; i += 1) {
    const c = folded[i]!;
    if (escapes && c === "\\" && i + 1 < pattern.length) {
      re += escapeRegex(folded[++i]!);
    } else if (c === "%") re += "[\\s\\S]*";
    else if (c === "_") re += "[\\s\\S]";
    else re += escapeRegex(c);
  }
  return new RegExp(`^${re}$`);
}

function asciiLower(s: string): string {
  return s.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

function escapeRegex(c: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(c) ? "\\" + c : c;
}

function compareValue(
  field: FieldDef,
  stored: unknown,
  operator: string,
  raw: unknown,
  any: boolean,
  likeEscapes: boolean,
): boolean {
  const values = any ? (stored as unknown[]) : [stored];
  const test = (v: unknown): boolean => compareOne(field, v, operator, raw, likeEscapes);
  if (any) {
    if (operator === "not in" || operator === "!=")
      return !values.some((v) => compareOne(field, v, operator === "!=" ? "=" : "in", raw, likeEscapes));
    return values.some(test);
  }
  return test(stored);
}

function compareOne(
  field: FieldDef,
  stored: unknown,
  operator: string,
  raw: unknown,
  likeEscapes: boolean,
): boolean {
  const value = Array.isArray(raw) ? raw.map((v) => domainValue(field, v)) : domainValue(field, raw);
  const isNull = stored === null || stored === undefined;
  switch (operator) {
    case "=":
      if (value === null) return isNull;
      return !isNull && cmp(stored, value) === 0;
    case "!=":
      if (value === null) return !isNull;
      return !isNull && cmp(stored, value) !== 0;
    case "in":
    case "not in": {
      const list = Array.isArray(value) ? value : [value];
      const withNull = list.some((v) => v === null);
      const hit = !isNull && list.some((v) => v !== null && cmp(stored, v) === 0);
      if (operator === "in") return hit || (withNull && isNull);
      if (list.filter((v) => v !== null).length === 0) return withNull ? !isNull : true;
      return !isNull && !hit;
    }
    case "<":
    case "<=":
    case ">":
    case ">=": {
      if (isNull || value === null) return false;
      const c = cmp(stored, value);
      if (c === undefined) return false;
      return operator === "<" ? c < 0 : operator === "<=" ? c <= 0 : operator === ">" ? c > 0 : c >= 0;
    }
    case "like":
    case "ilike":
    case "not like":
    case "not ilike": {
      if (isNull || value === null) return false;
      const hit = likeMatch(pyStr(stored), pyStr(value), likeEscapes);
      return operator.startsWith("not") ? !hit : hit;
    }
    default:
      throw new PythonError("maximum recursion depth exceeded in __instancecheck__");
  }
}

function compareKeys(a: unknown[], b: unknown[], desc: boolean, nulls: string): number {
  for (let i = 0; i < Math.max(a.length, b.length); i += 1) {
    const x = a[i] ?? null;
    const y = b[i] ?? null;
    if (x === null && y === null) continue;
    if (x === null || y === null) {
      // SQLite: NULL is the smallest value unless NULLS FIRST/LAST says otherwise.
      const xFirst = nulls === "first" ? true : nulls === "last" ? false : !desc;
      return x === null ? (xFirst ? -1 : 1) : xFirst ? 1 : -1;
    }
    const c = cmp(x, y) ?? 0;
    if (c !== 0) return desc ? -c : c;
  }
  return 0;
}
