// Validators and serializers compile on first use (src/http/lazy-compile.ts). Every route's
// schemas must still compile (compileSchemas builds all that are pending), and a stand-in
// must behave as the compiled function: bad input refused with its code, query strings
// coerced and defaulted, responses shaped by their schema.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { call, makeApp } from '../support/app.js';

test('nothing is compiled at boot; compileSchemas builds every route\'s schemas once', async () => {
  const t = await makeApp('simulated');
  try {
    const built = t.app.gmemd.compileSchemas();
    assert.ok(built > 20, `expected every route's validators and serializers pending at boot, got ${built}`);
    assert.equal(t.app.gmemd.compileSchemas(), 0, 'nothing left to compile');
  } finally { await t.close(); }
});

test('a stand-in validates, coerces and serializes as the compiled function does', async () => {
  const t = await makeApp('simulated');
  try {
    const bad = await call(t.app, 'POST', '/v1/vms', { name: 7 });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.code, 'request.invalid');
    const ok = await call(t.app, 'POST', '/v1/vms', { name: 'lazy-b' });
    assert.equal(ok.status, 201);
    // limit arrives as a string and is coerced to a number by the params validator.
    const page = await call(t.app, 'GET', '/v1/vms?limit=1');
    assert.equal(page.status, 200);
    assert.ok(page.json.items.length <= 1);
    assert.deepEqual(Object.keys(page.json).sort(), ['items', 'nextCursor']);
    assert.equal((await call(t.app, 'GET', '/v1/vms?limit=nope')).status, 400);
  } finally { await t.close(); }
});
