// Hot read paths without the query builder. Through drizzle a GET spent more time building
// and mapping than in SQLite (its is() entity checks, a generic mapper calling every
// column's mapFromDriverValue, and an unprepared query rebuilt per list request). A
// RowReader prepares each statement once, reads rows as arrays (better-sqlite3 builds a
// row object key by key in C++, which on a 100-row page cost twice the query), and turns
// them into row objects with a function generated once per table from the drizzle schema,
// converting the columns that need it (JSON text, booleans) with drizzle's own column
// mappers, so both paths read a row identically. fields() reads a chosen subset of the columns
// the same way, for the paths that list a whole table and need a few of them.
import type Database from 'better-sqlite3';
import { getTableColumns, getTableName, type Table } from 'drizzle-orm';

type Param = string | number | null;

/** The better-sqlite3 connection under a drizzle database (drizzle() sets $client). */
export function clientOf(db: object): Database.Database {
  const client = (db as { $client?: Database.Database }).$client;
  if (!client) throw new Error('not a drizzle better-sqlite3 database');
  return client;
}

export class RowReader<R> {
  private readonly select: string;
  private readonly toRow: (a: unknown[]) => R;
  private readonly statements = new Map<string, Database.Statement<Param[]>>();

  /** `keys`: the fields to read (fields()); every column of the table when not given. */
  constructor(private readonly sqlite: Database.Database, private readonly table: Table, keys?: readonly string[]) {
    const columns = getTableColumns(table);
    const cols = keys ? keys.map((k) => [k, columns[k]!] as const) : Object.entries(columns);
    this.select = `SELECT ${cols.map(([, c]) => `"${c.name}"`).join(', ')} FROM "${getTableName(table)}"`;
    const maps: ((v: unknown) => unknown)[] = [];
    const fields = cols.map(([key, c], i) => {
      if (c.columnType !== 'SQLiteTextJson' && c.columnType !== 'SQLiteBoolean') return `${JSON.stringify(key)}: a[${i}]`;
      maps.push((v) => c.mapFromDriverValue(v));
      return `${JSON.stringify(key)}: a[${i}] === null ? null : m[${maps.length - 1}](a[${i}])`;
    });
    // Keys are the schema's own identifiers; one object literal gives every row one shape.
    this.toRow = new Function('m', `return (a) => ({ ${fields.join(', ')} })`)(maps) as (a: unknown[]) => R;
  }

  /**
   * A reader of only the given fields, for the paths that read a whole table and need a few
   * columns of it: the lost marking after a crash lists every live inode, file and binding,
   * and full rows (JSON columns parsed, a dozen fields each) made those three lists 106 ms of
   * a restart at 10,000 inodes, against 58 ms for the columns it uses.
   */
  fields<K extends keyof R & string>(keys: readonly K[]): RowReader<Pick<R, K>> {
    return new RowReader<Pick<R, K>>(this.sqlite, this.table, keys);
  }

  /** The statement `SELECT <columns> FROM <table> <tail>`, prepared on first use. */
  private statement(tail: string): Database.Statement<Param[]> {
    let s = this.statements.get(tail);
    if (!s) this.statements.set(tail, s = this.sqlite.prepare<Param[]>(`${this.select} ${tail}`).raw());
    return s;
  }

  get(tail: string, ...params: Param[]): R | undefined {
    const a = this.statement(tail).get(...params) as unknown[] | undefined;
    return a === undefined ? undefined : this.toRow(a);
  }

  all(tail: string, ...params: Param[]): R[] {
    const rows = this.statement(tail).all(...params) as unknown[][];
    const out = new Array<R>(rows.length);
    for (let i = 0; i < rows.length; i++) out[i] = this.toRow(rows[i]!);
    return out;
  }

  /**
   * A keyset page: the rows matching every given `column = value` (undefined ones are left
   * out) and, with `after`, ids greater than it, in id order, limit + 1 of them so the
   * caller can tell whether another page follows.
   */
  page(filters: [column: string, value: Param | undefined][], after: string | undefined, limit: number): R[] {
    const where: string[] = [];
    const params: Param[] = [];
    for (const [column, value] of filters) {
      if (value === undefined) continue;
      where.push(`"${column}" = ?`);
      params.push(value);
    }
    if (after) { where.push('"id" > ?'); params.push(after); }
    return this.all(`${where.length ? `WHERE ${where.join(' AND ')} ` : ''}ORDER BY "id" LIMIT ?`, ...params, limit + 1);
  }
}
