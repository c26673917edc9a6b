// A ledger as an older gmemd left it: migrated with the committed migrations up to (not
// including) `tag`, for tests that a later migration seeds what it adds from the rows there.
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';

/** Opens `dir`/l.db migrated up to the migration before `tag`; the caller closes it. */
export function ledgerBefore(dir: string, tag: string): { db: Database.Database; path: string } {
  const old = join(dir, 'migrations');
  cpSync(new URL('../../migrations', import.meta.url), old, { recursive: true });
  const journal = JSON.parse(readFileSync(join(old, 'meta/_journal.json'), 'utf8')) as { entries: { tag: string }[] };
  const cut = journal.entries.findIndex((e) => e.tag === tag);
  assert.ok(cut > 0, `migration ${tag} is in the journal`);
  writeFileSync(join(old, 'meta/_journal.json'), JSON.stringify({ ...journal, entries: journal.entries.slice(0, cut) }));
  const path = join(dir, 'l.db');
  const db = new Database(path);
  migrate(drizzle(db), { migrationsFolder: old });
  return { db, path };
}
