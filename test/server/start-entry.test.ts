// npm start's entry (src/start.ts, compiled to dist/start.js) serves the bundled server and,
// on a Node that has a compile cache (22.1 and later), keeps V8's code for it in
// dist/.compile-cache: the first start writes it once listening, the next one uses it. On
// Node 20, which has none, the entry only starts the server, and says the cache is off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import nodeModule from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { httpJson, startServer } from '../support/server-process.js';
import { tempDir } from '../support/tmp.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ENTRY = join(ROOT, 'dist/start.js');
const hasCompileCache = typeof (nodeModule as { enableCompileCache?: unknown }).enableCompileCache === 'function';
const loggedCacheDir = (out: string) => {
  const line = out.split('\n').find((l) => l.includes('"gmemd starting"'));
  assert.ok(line, out);
  return (JSON.parse(line) as { compileCache: string | null }).compileCache;
};

test('npm start runs dist/start.js', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
  assert.match(pkg.scripts.start, /^node( --\S+)* dist\/start\.js$/);
  assert.match(readFileSync(join(ROOT, 'docker/Dockerfile'), 'utf8'), /^CMD \["node", "--max-semi-space-size=2", "dist\/start\.js"\]$/m);
});

test(`the entry serves; compile cache ${hasCompileCache ? 'written, then used' : 'off (this Node has none)'}`, async () => {
  const tmp = tempDir();
  // Empty, so that the second start can only use what the first wrote before it was killed.
  // No other test starts dist/start.js.
  rmSync(join(ROOT, 'dist/.compile-cache'), { recursive: true, force: true });
  try {
    // NODE_COMPILE_CACHE empty: Node's own switch would turn the cache on at boot wherever it
    // names, and the entry's choice is what is under test.
    const env = { GMEMD_DB: join(tmp.dir, 'l.db'), GMEMD_LISTEN: `unix:${join(tmp.dir, 's.sock')}`, GMEMD_BACKEND: 'simulated',
      NODE_COMPILE_CACHE: '', NODE_DEBUG_NATIVE: 'COMPILE_CACHE' };
    for (const round of [1, 2]) {
      const s = await startServer(env, 60_000, ENTRY);
      try {
        assert.equal((await httpJson(s.socket, 'GET', '/readyz')).status, 200);
        const dir = loggedCacheDir(s.output());
        if (!hasCompileCache) {
          assert.equal(dir, null);
          continue;
        }
        assert.ok(dir?.startsWith(join(ROOT, 'dist/.compile-cache/')), String(dir));
        if (round === 1) assert.doesNotMatch(s.output(), /dist\/server\.js was accepted/);
        else assert.match(s.output(), /V8 code cache for ESM file:\/\/\S+\/dist\/server\.js was accepted/);
      } finally { s.child.kill(round === 1 ? 'SIGKILL' : 'SIGTERM'); await s.exited; }
    }
  } finally { tmp.cleanup(); }
});
