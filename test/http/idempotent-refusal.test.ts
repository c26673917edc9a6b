// A refusal under an Idempotency-Key is stored like a success and replayed: the same
// problem, not a 500 (rendering a problem once threw inside the runner's transaction).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { call, makeApp } from '../support/app.js';

test('a refused mutation with an Idempotency-Key is answered, stored and replayed', async () => {
  const t = await makeApp('simulated');
  try {
    const key = { 'idempotency-key': 'refused-1' };
    const a = await call(t.app, 'POST', '/v1/vms', { name: 'dup' });
    assert.equal(a.status, 201);
    const refused = await call(t.app, 'POST', '/v1/vms', { name: 'dup' }, key);
    assert.deepEqual([refused.status, refused.json.code, refused.headers['content-type']], [409, 'vm.name_taken', 'application/problem+json']);
    const replay = await call(t.app, 'POST', '/v1/vms', { name: 'dup' }, key);
    assert.deepEqual([replay.status, replay.json, replay.headers['idempotent-replayed']], [409, refused.json, 'true']);
  } finally { await t.close(); }
});
