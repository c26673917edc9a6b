// Opens the ledger: one SQLite file in WAL mode with synchronous=FULL, so nothing is
// acknowledged before it is durable, and applies the committed drizzle-kit migrations.
import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { mkdirSync } from 'node:fs';
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

export function openLedger(path: string): Ledger {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new Database(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = drizzle(sqlite, { schema });
  migrate(db, { migrationsFolder: MIGRATIONS });
  return {
    sqlite, db, path,
    close() { if (sqlite.open) sqlite.close(); },
  };
}
