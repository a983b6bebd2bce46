/**
 * The simulator's in-memory tables. One row per record, keyed by id; only stored
 * fields live in rows (one2many and function fields are derived). Every change goes
 * through this class so that a failing RPC call can be rolled back as a whole, the way
 * trytond rolls back its database transaction (ids and sequence numbers included:
 * SQLite reuses them after a rollback).
 */
export type Row = Record<string, unknown> & { id: number };

type Undo = () => void;

export class Store {
  private readonly tables = new Map<string, Map<number, Row>>();
  private readonly nextIds = new Map<string, number>();
  private readonly sequences = new Map<string, number>();
  /** Secondary indexes, `model.field` → value → ids, kept up to date on every change. */
  private readonly indexes = new Map<string, Map<string, Map<unknown, Set<number>>>>();
  private readonly versions = new Map<string, number>();
  private undo: Undo[] | undefined;

  /** The rows of a table (live map: do not mutate, use insert/update/remove). */
  table(model: string): ReadonlyMap<number, Row> {
    return this.tableOf(model);
  }

  get(model: string, id: number): Row | undefined {
    return this.tables.get(model)?.get(id);
  }

  has(model: string, id: number): boolean {
    return this.tables.get(model)?.has(id) ?? false;
  }

  /** Bumped on every change of a table (undo included), so derived caches know when to rebuild. */
  tableVersion(model: string): number {
    return this.versions.get(model) ?? 0;
  }

  /** ids of the rows whose `field` equals `value` (an index built on first use, then maintained). */
  lookup(model: string, field: string, value: unknown): ReadonlySet<number> {
    return this.indexOf(model, field).get(value) ?? EMPTY;
  }

  /** Allocate an id (max + 1, like SQLite's INTEGER PRIMARY KEY). */
  newId(model: string): number {
    const id = this.nextIds.get(model) ?? 1;
    this.setCounter(this.nextIds, model, id + 1);
    return id;
  }

  insert(model: string, row: Row): void {
    this.put(model, row);
    if ((this.nextIds.get(model) ?? 1) <= row.id) this.setCounter(this.nextIds, model, row.id + 1);
    this.undo?.push(() => this.drop(model, row.id));
  }

  update(model: string, id: number, patch: Record<string, unknown>): void {
    const old = this.tableOf(model).get(id);
    if (!old) throw new Error(`no ${model} ${id}`);
    this.put(model, { ...old, ...patch, id });
    this.undo?.push(() => this.put(model, old));
  }

  remove(model: string, id: number): void {
    const old = this.tableOf(model).get(id);
    if (!old) return;
    this.drop(model, id);
    this.undo?.push(() => this.put(model, old));
  }

  /** Next value of a named sequence (`ir.sequence`), starting at 1. */
  nextSequence(name: string): number {
    const value = this.sequences.get(name) ?? 1;
    this.setCounter(this.sequences, name, value + 1);
    return value;
  }

  /** Run `fn` as one transaction: any exception undoes every change made inside it. */
  transaction<T>(fn: () => T): T {
    if (this.undo) return fn();
    const log: Undo[] = [];
    this.undo = log;
    try {
      const result = fn();
      this.undo = undefined;
      return result;
    } catch (err) {
      this.undo = undefined;
      for (let i = log.length - 1; i >= 0; i -= 1) log[i]!();
      throw err;
    }
  }

  private put(model: string, row: Row): void {
    const table = this.tableOf(model);
    const old = table.get(row.id);
    table.set(row.id, row);
    const indexes = this.indexes.get(model);
    if (indexes) {
      for (const [field, index] of indexes) {
        if (old && old[field] === row[field]) continue;
        if (old) index.get(old[field])?.delete(row.id);
        addTo(index, row[field], row.id);
      }
    }
    this.touch(model);
  }

  private drop(model: string, id: number): void {
    const table = this.tableOf(model);
    const old = table.get(id);
    if (!old) return;
    table.delete(id);
    for (const [field, index] of this.indexes.get(model) ?? []) index.get(old[field])?.delete(id);
    this.touch(model);
  }

  private indexOf(model: string, field: string): Map<unknown, Set<number>> {
    let byField = this.indexes.get(model);
    if (!byField) this.indexes.set(model, (byField = new Map()));
    let index = byField.get(field);
    if (!index) {
      index = new Map();
      for (const row of this.tableOf(model).values()) addTo(index, row[field], row.id);
      byField.set(field, index);
    }
    return index;
  }

  private touch(model: string): void {
    this.versions.set(model, (this.versions.get(model) ?? 0) + 1);
  }

  private setCounter(map: Map<string, number>, key: string, value: number): void {
    const had = map.has(key);
    const old = map.get(key);
    map.set(key, value);
    this.undo?.push(() => (had ? map.set(key, old as number) : map.delete(key)));
  }

  private tableOf(model: string): Map<number, Row> {
    let table = this.tables.get(model);
    if (!table) {
      table = new Map();
      this.tables.set(model, table);
    }
    return table;
  }

  /** Plain snapshot of every table, for assertions and debugging. */
  dump(): Record<string, Row[]> {
    const out: Record<string, Row[]> = {};
    for (const [name, table] of this.tables) out[name] = [...table.values()].map((r) => ({ ...r }));
    return out;
  }
}

const EMPTY: ReadonlySet<number> = new Set();

function addTo(index: Map<unknown, Set<number>>, value: unknown, id: number): void {
  let set = index.get(value);
  if (!set) index.set(value, (set = new Set()));
  set.add(id);
}
