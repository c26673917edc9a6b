// Opens the ledger: one SQLite file in WAL mode with synchronous=FULL, so nothing is
// acknowledged before it is durable, and applies the committed drizzle-kit migrations.
import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as schema from './schema.js';

export type Db = BetterSQLite3Database<typeof schema>;

export interface Ledger {
  sqlite: Database.Database;
  db: Db;
  path: string;
  close(): void;
}

const MIGRATIONS = fileURLToPath(new URL('../../migrations', import.meta.url));

/** The ledger holds who had which guest memory and the token hashes: owner only. */
export const LEDGER_DIR_MODE = 0o700;
export const LEDGER_FILE_MODE = 0o600;

/**
 * A new directory is created 0700 (an existing one is left as it is: it may be shared, like
 * /var/lib). The database file is created 0600 before SQLite opens it, and SQLite gives its
 * -wal and -shm files the database file's mode; an existing ledger's files are set to 0600.
 */
/** The directory of a ledger file (or of a file beside it, such as its lock), made 0700 if new. */
export function makeLedgerDir(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: LEDGER_DIR_MODE });
}

function ownerOnly(path: string): void {
  makeLedgerDir(path);
  if (!existsSync(path)) closeSync(openSync(path, 'a', LEDGER_FILE_MODE));
  for (const f of [path, `${path}-wal`, `${path}-shm`]) {
    if (existsSync(f)) chmodSync(f, LEDGER_FILE_MODE);
  }
}

/** SQLite's page cache of the writer connection, in KiB. */
export const PAGE_CACHE_KIB = 4096;

export function openLedger(path: string): Ledger {
  if (path !== ':memory:') ownerOnly(path);
  const sqlite = new Database(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  // better-sqlite3 builds SQLite with a 16 MiB page cache per connection, which a ledger of
  // 10,000 inodes fills: resident memory the hot pages (the right edge of the events table and
  // its indexes, the rows being changed) do not need. The OS page cache keeps the rest.
  sqlite.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
  // Each member of a group commit runs in a SAVEPOINT, whose statement journal holds the
  // original of every page the member changes. Past 64 KiB (a batch of eight binds) SQLite
  // spills it to a temp file: an open, writes, an unlink and a close per batch, 11% of the
  // event loop's CPU in the bind bench's perf profile. In memory it is a copy of those pages.
  // Also puts temp tables and transient indices in memory; the ledger's queries make small ones.
  sqlite.pragma('temp_store = MEMORY');
  const db = drizzle(sqlite, { schema });
  migrate(db, { migrationsFolder: MIGRATIONS });
  // The WAL exists now; made by this process's umask or by SQLite from the file's mode, set it anyway.
  if (path !== ':memory:') ownerOnly(path);
  return {
    sqlite, db, path,
    close() { if (sqlite.open) sqlite.close(); },
  };
}
