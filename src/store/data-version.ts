// What changes whenever anything in the ledger may have changed: the rows written by this
// connection (SQLite counts them, whatever the code path) and commits by any other
// connection (a handover successor, a tool). Equal versions mean every read would answer
// the same, which is what the caches over the ledger (tokens, served reads) rely on.
import type Database from 'better-sqlite3';

export function dataVersionOf(sqlite: Database.Database): () => string {
  const q = sqlite.prepare('SELECT total_changes(), data_version FROM pragma_data_version').raw();
  return () => {
    const [changes, version] = q.get() as [number, number];
    return `${changes}:${version}`;
  };
}
