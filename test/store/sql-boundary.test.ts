// SQL only in src/store (issue 9, sealed boundaries): no module outside it imports the
// SQLite driver or drizzle, or carries SQL text. Services, reconcile, HTTP and the CLI reach
// the ledger through the repositories and src/store/audit; a query written elsewhere fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const sources = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
  e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []);

// The bundle script names the native packages it keeps outside; it does not use them.
const NAMES_ONLY = new Set(['src/scripts/bundle-server.ts']);
const DRIVER = /from\s+['"](better-sqlite3|drizzle-orm[^'"]*)['"]/;
const SQL = /\b(SELECT\s+[\w*"`(]|INSERT\s+(OR\s+\w+\s+)?INTO\b|UPDATE\s+["`\w]+\s+SET\b|DELETE\s+FROM\b|CREATE\s+(TABLE|INDEX)\b|PRAGMA\s+\w)/;

test('no module outside src/store imports the SQLite driver or drizzle, or holds SQL', () => {
  const all = sources(join(ROOT, 'src')).map((f) => relative(ROOT, f));
  assert.ok(all.includes('src/store/bindings-repo.ts') && all.includes('src/services/binding-service.ts'), 'the walk sees src');
  const outside = all.filter((f) => !f.startsWith('src/store/') && !NAMES_ONLY.has(f));
  const offenders = outside.flatMap((f) => {
    const text = readFileSync(join(ROOT, f), 'utf8');
    return [...(DRIVER.test(text) ? [`${f}: imports ${DRIVER.exec(text)![1]}`] : []), ...(SQL.test(text) ? [`${f}: ${SQL.exec(text)![0]}`] : [])];
  });
  assert.deepEqual(offenders, []);
  // The patterns find what they are for.
  assert.ok(SQL.test(readFileSync(join(ROOT, 'src/store/audit/verify.ts'), 'utf8')));
  assert.ok(DRIVER.test(readFileSync(join(ROOT, 'src/store/read-only.ts'), 'utf8')));
});
