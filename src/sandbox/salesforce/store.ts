/**
 * In-memory sObject tables with an undo journal, so that a failed record, an `allOrNone`
 * collection or composite request can be rolled back to a savepoint. Rows are replaced, never
 * mutated, so undo only has to put the previous object back. Deleted rows stay in their
 * table with `IsDeleted = true` (the recycle bin `queryAll` reads).
 */

export type Row = Readonly<Record<string, unknown>>;

export class RecordStore {
  private readonly tables = new Map<string, Map<string, Row>>();
  private readonly typeOfId = new Map<string, string>();
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
    table.set(id, Object.freeze({ ...row }));
    this.typeOfId.set(id, type);
    this.journal.push(() => {
      if (previous) table.set(id, previous);
      else {
        table.delete(id);
        this.typeOfId.delete(id);
      }
    });
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
