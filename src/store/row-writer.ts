// Hot write paths without the query builder: the counterpart of row-reader.ts. drizzle
// builds, prepares and maps an INSERT or UPDATE anew on every call (its is() entity checks
// and SQL chunk walk were a tenth of a bind's serving time, the prepare another few per
// cent). A RowWriter prepares each distinct statement once, keyed by the columns it sets,
// and converts values with drizzle's own column mappers (JSON text, booleans), so both
// paths write a row identically.
import type Database from 'better-sqlite3';
import { getTableColumns, getTableName, type Column, type Table } from 'drizzle-orm';

type Value = string | number | bigint | Buffer | null;

export class RowWriter<R extends object> {
  private readonly table: string;
  private readonly columns: Map<string, Column>;
  private readonly statements = new Map<string, Database.Statement<Value[]>>();

  constructor(private readonly sqlite: Database.Database, table: Table, private readonly key = 'id') {
    this.table = getTableName(table);
    this.columns = new Map(Object.entries(getTableColumns(table)));
    if (!this.columns.has(key)) throw new Error(`${this.table} has no column ${key}`);
  }

  /** INSERT of the row's defined fields; a field left undefined gets its column's default. */
  insert(row: R): void {
    const keys = Object.keys(row).filter((k) => (row as Record<string, unknown>)[k] !== undefined);
    this.statement(`i:${keys.join(',')}`, () =>
      `INSERT INTO "${this.table}" (${keys.map((k) => `"${this.column(k).name}"`).join(', ')}) VALUES (${keys.map(() => '?').join(', ')})`)
      .run(...this.values(row as Record<string, unknown>, keys));
  }

  /** UPDATE … SET the given fields WHERE key = id. */
  update(id: string, set: Partial<R>): void {
    const keys = Object.keys(set).filter((k) => (set as Record<string, unknown>)[k] !== undefined);
    if (keys.length === 0) return;
    this.statement(`u:${keys.join(',')}`, () =>
      `UPDATE "${this.table}" SET ${keys.map((k) => `"${this.column(k).name}" = ?`).join(', ')} WHERE "${this.column(this.key).name}" = ?`)
      .run(...this.values(set as Record<string, unknown>, keys), id);
  }

  private column(key: string): Column {
    const c = this.columns.get(key);
    if (!c) throw new Error(`${this.table} has no column for field ${key}`);
    return c;
  }

  private values(row: Record<string, unknown>, keys: string[]): Value[] {
    return keys.map((k) => {
      const v = row[k];
      return v === null ? null : this.column(k).mapToDriverValue(v) as Value;
    });
  }

  private statement(shape: string, sql: () => string): Database.Statement<Value[]> {
    let s = this.statements.get(shape);
    if (!s) this.statements.set(shape, s = this.sqlite.prepare<Value[]>(sql()));
    return s;
  }
}
