// Set-based writes over many rows at once, for the reconcile paths that mark thousands of
// rows lost after a crash: one prepared UPDATE per table whose id list arrives as one JSON
// array (json_each), instead of one statement built and run per row.
import type Database from 'better-sqlite3';
import { getTableName, type Table } from 'drizzle-orm';

/** Sets state and ended_at on every row of `table` whose id is in `ids` (and whose state is one of `from`). */
export class StateMarker {
  private readonly stmt: Database.Statement<[string, number, string]>;

  constructor(sqlite: Database.Database, table: Table, from: readonly string[]) {
    const states = from.map((s) => `'${s.replace(/'/g, "''")}'`).join(', ');
    this.stmt = sqlite.prepare(`UPDATE "${getTableName(table)}" SET "state" = ?, "ended_at" = ?
      WHERE "id" IN (SELECT value FROM json_each(?)) AND "state" IN (${states})`);
  }

  /** Rows changed; ids not in a `from` state are left alone. */
  mark(ids: readonly string[], state: string, endedAt: number): number {
    if (ids.length === 0) return 0;
    return this.stmt.run(state, endedAt, JSON.stringify(ids)).changes;
  }
}
