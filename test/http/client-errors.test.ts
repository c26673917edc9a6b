// client-errors.ts reads node:http's STATUS_CODES through require: an ESM import of node:http
// makes Node 26 load undici (830 KB of source, 3.3 MB of heap) for the module namespace's lazy
// getters. Loading the compiled HTTP app must not load it, on any Node this runs on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const APP = fileURLToPath(new URL('../../dist/http/app.js', import.meta.url));
const undiciAfter = (code: string): string[] => {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e',
    `${code}; process.stdout.write(JSON.stringify(process.moduleLoadList.filter((m) => m.includes('undici'))));`], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as string[];
};

test('loading the HTTP app loads no undici', () => {
  assert.ok(existsSync(APP), 'npm run build first');
  assert.deepEqual(undiciAfter(`await import(${JSON.stringify(APP)})`), []);
  // The probe sees it when it is loaded: on Node 26, by an ESM import of node:http.
  if (Number(process.versions.node.split('.')[0]) >= 26) assert.notDeepEqual(undiciAfter(`await import('node:http')`), []);
});
