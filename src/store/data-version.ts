// What changes whenever anything in the ledger may have changed: the rows written by this
// connection (SQLite counts them, whatever the code path) and commits by any other
// connection (a handover successor, a tool). Equal versions mean every read would answer
// the same, which is what the caches over the ledger (tokens, served reads) rely on.
import type Database from 'better-sqlite3';

// Two statements rather than one over pragma_data_version: the table-valued pragma costs
// twice the plain one, and this runs on every authenticated request.
export function dataVersionOf(sqlite: Database.Database): () => string {
  const changes = sqlite.prepare('SELECT total_changes()').pluck();
  const version = sqlite.prepare('PRAGMA data_version').pluck();
  return () => `${changes.get() as number}:${version.get() as number}`;
}
