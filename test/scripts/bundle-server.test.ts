// dist/server.js as `npm start` runs it is one esbuild bundle (src/scripts/bundle-server.ts).
// What a bundle can break, each used here on the real file: it must import nothing but node:
// builtins and the packages kept outside; it must find ../../migrations (a fresh ledger gets
// its schema); serve the committed contract byte for byte and the /docs page with the static
// files of @fastify/swagger-ui; and start the audit worker threads, which are tsc's files
// beside it (a ledger of 60,000 events is past both thresholds: verify from 20,000, export
// from 50,000).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Store } from '../../src/store/store.js';
import { BUNDLE_EXTERNAL } from '../../src/scripts/bundle-server.js';
import { Clock, History } from '../support/ledger-history.js';
import { httpJson, startServer, TEST_ADMIN_TOKEN } from '../support/server-process.js';
import { tempDir } from '../support/tmp.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SERVER = join(ROOT, 'dist/server.js');
const EVENTS = 60_000;

function getText(socket: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request({ socketPath: socket, path, headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    }).on('error', reject).end();
  });
}

test('dist/server.js is a bundle: its only imports are node: builtins and the packages kept outside', () => {
  assert.ok(existsSync(SERVER), 'npm run build first');
  // ASCII throughout, so V8 keeps the source one byte a character on every Node (ascii-comments.ts).
  const past = /[^\u0000-\u007f]/.exec(readFileSync(SERVER, 'utf8'));
  assert.equal(past, null, `a character past U+007F at ${past?.index}`);
  // Comment lines left out: the packages' JSDoc names types as import('../x').
  const code = readFileSync(SERVER, 'utf8').split('\n').filter((l) => !/^\s*(\*|\/\/)/.test(l)).join('\n');
  const specifiers = [...code.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s*["']([^"']+)["']|^\s*import\s*["']([^"']+)["']/gm)].map((m) => m[1] ?? m[2]!);
  const dynamic = [...code.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]!);
  assert.ok(specifiers.length > 0, 'the bundle imports something (its externals)');
  for (const s of [...specifiers, ...dynamic]) {
    assert.ok(s.startsWith('node:') || BUNDLE_EXTERNAL.some((e) => s === e || s.startsWith(`${e}/`)), `the bundle imports ${s}`);
  }
  assert.ok(!/from\s*["']\.\.?\//.test(code), 'no relative import left: the service is inside the bundle');
});

test('the bundle migrates a fresh ledger, serves the committed contract and /docs, and starts the audit workers', async () => {
  const tmp = tempDir();
  try {
    const db = join(tmp.dir, 'gmemd.db');
    // 60,000 events written as the service writes them (real repositories and chain).
    const store = Store.open(db, new Clock().now);
    const h = new History(store);
    const vm = h.vm('bundle').id;
    for (let i = 1; i < EVENTS; i++) h.event({ action: 'vm.probe', outcome: 'ok', vmId: vm, details: { i } });
    store.close();

    const socket = join(tmp.dir, 'gmemd.sock');
    const s = await startServer({ GMEMD_DB: db, GMEMD_LISTEN: `unix:${socket}`, GMEMD_BACKEND: 'simulated' }, 60_000, SERVER);
    try {
      const spec = await getText(socket, '/openapi.json');
      assert.equal(spec.status, 200);
      assert.deepEqual(JSON.parse(spec.body), JSON.parse(readFileSync(join(ROOT, 'openapi/openapi.json'), 'utf8')));
      const page = await getText(socket, '/docs/');
      assert.equal(page.status, 200);
      const asset = await getText(socket, '/docs/static/swagger-ui-bundle.js');
      assert.equal(asset.status, 200);
      assert.ok(asset.body.length > 100_000, `swagger-ui-bundle.js is ${asset.body.length} bytes`);

      const created = await httpJson(socket, 'POST', '/v1/vms', { name: 'after' });
      assert.equal(created.status, 201, JSON.stringify(created.json));
      const verify = await httpJson(socket, 'GET', '/v1/audit/verify');
      assert.equal(verify.status, 200, JSON.stringify(verify.json));
      assert.equal(verify.json.ok, true, JSON.stringify(verify.json));
      // The start-up reconcile marked the VM lost and 'after' was created: a few more events.
      assert.ok(verify.json.events > EVENTS, `${verify.json.events} events verified`);
      assert.equal(verify.json.events, verify.json.headSeq);
      const ndjson = await getText(socket, '/v1/audit/export');
      assert.equal(ndjson.status, 200);
      const lines = ndjson.body.trimEnd().split('\n');
      assert.equal(lines.length, verify.json.events);
      assert.deepEqual(lines.map((l) => JSON.parse(l).seq as number).filter((q, i) => q !== i + 1), [], 'seqs 1..n in order');
      assert.equal(JSON.parse(lines.at(-1)!).vmId, created.json.id);
    } finally {
      s.child.kill('SIGTERM');
      assert.equal(await s.exited, 0, s.output());
    }
    assert.doesNotMatch(s.output(), /"level":50/, 'no error logged');
  } finally { tmp.cleanup(); }
});
