// `npm test` names its files with shell globs (node 20's runner does not glob, and a quoted
// pattern runs nothing and exits 0). A test file the globs miss is never run and never
// reported: the pipeline's own tests sat one folder too deep for `test/*/*.test.ts` for a
// day. Every *.test.ts under test/ must match one of the script's patterns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const testFiles = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
  e.isDirectory() ? testFiles(join(dir, e.name)) : e.name.endsWith('.test.ts') ? [join(dir, e.name)] : []);

// The shell's `*` matches within one path segment.
const globRegExp = (glob: string): RegExp =>
  new RegExp(`^${glob.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')}$`);

test('npm test runs every test file under test/', () => {
  const script = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.test!;
  const patterns = script.split(/\s+/).filter((w) => w.startsWith('test/') && w.endsWith('.test.ts')).map(globRegExp);
  assert.ok(patterns.length > 0, `no test file patterns in: ${script}`);
  const files = testFiles(join(ROOT, 'test')).map((f) => relative(ROOT, f));
  assert.ok(files.includes('test/scripts/test-command.test.ts'), 'the walk finds this file');
  const missed = files.filter((f) => !patterns.some((p) => p.test(f)));
  assert.deepEqual(missed, [], 'test files npm test does not run');
});
