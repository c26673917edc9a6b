// A read-only connection to a ledger file: what the audit's worker threads and `gmemd audit
// verify --db` read the evidence through (verifying never changes it). Its own module, not
// database.ts: a worker thread starts without loading drizzle and the schema.
import Database from 'better-sqlite3';

export type ReadOnlyLedger = Database.Database;

export function openLedgerReadOnly(path: string): ReadOnlyLedger {
  return new Database(path, { readonly: true, fileMustExist: true });
}
