/**
 * In-memory sObject tables with an undo journal, so that a failed record, an `allOrNone`
 * collection or composite request can be rolled back to a savepoint. Rows are replaced, never
 * mutated, so undo only has to put the previous object back. Deleted rows stay in their
 * table with `IsDeleted = true` (the recycle bin `queryAll` reads).
 *
 * Lookups by field value (external ids, an order's items, a parent's children) go through
 * per-field indexes, built on first use and kept up to date by every write and undo, so a
 * table of 100,000 rows costs no more per lookup than one of 100.
 */

export type Row = Readonly<Record<string, unknown>>;

interface FieldIndex {
  field: string;
  /** Keys are case-folded (text fields that compare case-insensitively). */
  fold: boolean;
  ids: Map<string, Set<string>>;
}

function keyOf(value: unknown, fold: boolean): string {
  const text = String(value);
  return fold ? text.toLowerCase() : text;
}

export class RecordStore {
  private readonly tables = new Map<string, Map<string, Row>>();
  private readonly typeOfId = new Map<string, string>();
  private readonly indexes = new Map<string, FieldIndex[]>();
  /** Insertion position of each id, so indexed lookups return rows in table order. */
  private readonly position = new Map<string, number>();
  private inserted = 0;
  private journal: (() => void)[] = [];

  /** Live and deleted rows of one sObject type, in insertion order. */
  table(type: string): Map<string, Row> {
    let table = this.tables.get(type);
    if (!table) {
      table = new Map();
      this.tables.set(type, table);
    }
    return table;
  }

  rows(type: string, includeDeleted = false): Row[] {
    const rows = [...this.table(type).values()];
    return includeDeleted ? rows : rows.filter((r) => r.IsDeleted !== true);
  }

  /**
   * Rows of `type`, live and deleted, whose `field` equals `value` as text (case-insensitively
   * when `fold`), in insertion order. Rows where the field is null or missing never match.
   */
  rowsWhere(type: string, field: string, value: unknown, fold = false): Row[] {
    const ids = this.indexOf(type, field, fold).ids.get(keyOf(value, fold));
    if (!ids) return [];
    const table = this.table(type);
    const order = (id: string) => this.position.get(id) ?? 0;
    return [...ids].sort((a, b) => order(a) - order(b)).map((id) => table.get(id) as Row);
  }

  /** Any row (live or deleted) by canonical 18-character id. */
  get(id: string): { type: string; row: Row } | undefined {
    const type = this.typeOfId.get(id);
    if (!type) return undefined;
    const row = this.table(type).get(id);
    return row ? { type, row } : undefined;
  }

  put(type: string, row: Row): void {
    const id = row.Id as string;
    const table = this.table(type);
    const previous = table.get(id);
    const next = Object.freeze({ ...row });
    table.set(id, next);
    this.typeOfId.set(id, type);
    if (!previous) this.position.set(id, ++this.inserted);
    this.reindex(type, id, previous, next);
    this.journal.push(() => {
      this.reindex(type, id, next, previous);
      if (previous) table.set(id, previous);
      else {
        table.delete(id);
        this.typeOfId.delete(id);
        this.position.delete(id);
      }
    });
  }

  private indexOf(type: string, field: string, fold: boolean): FieldIndex {
    const list = this.indexes.get(type) ?? [];
    let index = list.find((i) => i.field === field && i.fold === fold);
    if (!index) {
      index = { field, fold, ids: new Map() };
      for (const [id, row] of this.table(type)) this.addTo(index, id, row);
      list.push(index);
      this.indexes.set(type, list);
    }
    return index;
  }

  private addTo(index: FieldIndex, id: string, row: Row): void {
    const value = row[index.field];
    if (value === null || value === undefined) return;
    const key = keyOf(value, index.fold);
    let ids = index.ids.get(key);
    if (!ids) index.ids.set(key, (ids = new Set()));
    ids.add(id);
  }

  private reindex(type: string, id: string, before: Row | undefined, after: Row | undefined): void {
    for (const index of this.indexes.get(type) ?? []) {
      const value = before?.[index.field];
      if (value !== null && value !== undefined) {
        const key = keyOf(value, index.fold);
        const ids = index.ids.get(key);
        ids?.delete(id);
        if (ids?.size === 0) index.ids.delete(key);
      }
      if (after) this.addTo(index, id, after);
    }
  }

  savepoint(): number {
    return this.journal.length;
  }

  rollback(savepoint: number): void {
    while (this.journal.length > savepoint) this.journal.pop()?.();
  }

  /** Forget the undo history once a request is complete (its writes are committed). */
  commit(): void {
    this.journal = [];
  }
}
