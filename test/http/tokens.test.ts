// The token API and what a token does: issued once with its secret (only a hash is kept,
// nothing of the secret reaches the ledger), listed without secrets, revoked (refused from
// the next request), never the last admin; every event names the token as its actor, and a
// client's X-Request-Id is kept only when it is short and safe.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { bearer, call, makeApp, TEST_ACTOR, type TestApp } from '../support/app.js';
import { verifyLedger } from '../../src/store/audit/verify.js';
import { ensureAdminToken } from '../../src/services/token-service.js';
import { hashSecret } from '../../src/services/token-secrets.js';
import { SYSTEM_CALLER } from '../../src/reconcile/startup.js';

describe('tokens', () => {
  let t: TestApp;
  before(async () => { t = await makeApp('simulated'); });
  after(() => t.close());

  test('create, use, list and revoke; the secret is shown once and stored nowhere', async () => {
    const made = await call(t.app, 'POST', '/v1/tokens', { name: 'ops-1', role: 'operator' }, { 'idempotency-key': 'tok-1' });
    assert.equal(made.status, 201, JSON.stringify(made.json));
    assert.deepEqual(Object.keys(made.json).sort(), ['createdAt', 'id', 'name', 'role', 'token']);
    const secret: string = made.json.token;
    assert.match(secret, /^gmemd_[A-Za-z0-9_-]{43}$/);
    const ops = bearer(secret);

    const vm = await call(t.app, 'POST', '/v1/vms', { name: 'by-ops' }, ops);
    assert.equal(vm.status, 201);
    const ev = t.store.ledger.sqlite.prepare("SELECT actor FROM events WHERE action = 'vm.create' AND vm_id = ?").get(vm.json.id);
    assert.deepEqual(ev, { actor: 'token:ops-1' });
    assert.equal((await call(t.app, 'GET', '/v1/tokens', undefined, ops)).status, 403, 'an operator may not list tokens');

    const list = await call(t.app, 'GET', '/v1/tokens');
    assert.deepEqual(list.json.items.map((x: { name: string }) => x.name).sort(), ['ops-1', 'test-admin']);
    assert.ok(list.json.items.every((x: object) => !('token' in x) && !('secretHash' in x)));

    // The secret is in no table and no WAL: the ledger file, read raw, does not contain it.
    t.store.ledger.sqlite.pragma('wal_checkpoint(TRUNCATE)');
    const raw = readFileSync(t.dbPath).toString('latin1');
    assert.ok(!raw.includes(secret), 'the secret is not in the ledger file');
    assert.ok(raw.includes('ops-1'));
    const again = await call(t.app, 'POST', '/v1/tokens', { name: 'ops-1', role: 'operator' }, { 'idempotency-key': 'tok-1' });
    assert.deepEqual([again.status, again.json.code], [409, 'token.name_taken'], 'no replay of a reply carrying a secret');

    const revoked = await call(t.app, 'DELETE', `/v1/tokens/${made.json.id}`);
    assert.equal(revoked.status, 200);
    assert.equal(typeof revoked.json.revokedAt, 'string');
    const refused = await call(t.app, 'GET', '/v1/vms', undefined, ops);
    assert.deepEqual([refused.status, refused.json.code], [401, 'auth.invalid']);
    assert.equal((await call(t.app, 'DELETE', `/v1/tokens/${made.json.id}`)).json.code, 'token.revoked');
    assert.equal((await call(t.app, 'DELETE', '/v1/tokens/tok_missing')).status, 404);

    const events = t.store.ledger.sqlite.prepare("SELECT action, actor, details FROM events WHERE action LIKE 'token.%' AND outcome = 'ok' ORDER BY seq").all() as
      { action: string; actor: string; details: string }[];
    assert.deepEqual(events.map((e) => [e.action, e.actor, JSON.parse(e.details).name]), [['token.create', TEST_ACTOR, 'ops-1'], ['token.revoke', TEST_ACTOR, 'ops-1']]);
    assert.ok(events.every((e) => !e.details.includes(secret)));
    assert.equal(verifyLedger(t.store.ledger.sqlite).ok, true);
  });

  test('the last live admin token cannot be revoked; with a second one it can', async () => {
    const self = (await call(t.app, 'GET', '/v1/tokens')).json.items.find((x: { name: string }) => x.name === 'test-admin');
    const last = await call(t.app, 'DELETE', `/v1/tokens/${self.id}`);
    assert.deepEqual([last.status, last.json.code], [409, 'token.last_admin']);
    const other = await call(t.app, 'POST', '/v1/tokens', { name: 'admin-2', role: 'admin' });
    assert.equal((await call(t.app, 'DELETE', `/v1/tokens/${other.json.id}`, undefined, bearer(other.json.token))).status, 200);
  });

  test('bad bodies are 400 and audited; a malformed Authorization header is 401', async () => {
    for (const body of [{ name: '', role: 'admin' }, { name: 'x', role: 'root' }, { name: 'a b', role: 'auditor' }, { name: 'x'.repeat(65), role: 'auditor' }]) {
      assert.equal((await call(t.app, 'POST', '/v1/tokens', body)).status, 400, JSON.stringify(body));
    }
    for (const authorization of ['Basic abc', 'Bearer', 'Bearer ', `Bearer ${'x'.repeat(600)}`, 'bearer gmemd_nope']) {
      const r = await call(t.app, 'GET', '/v1/vms', undefined, { authorization });
      assert.deepEqual([r.status, r.json.code], [401, 'auth.invalid'], authorization.slice(0, 20));
    }
  });

  test('X-Request-Id: kept when ≤128 characters of [A-Za-z0-9._:-], replaced otherwise', async () => {
    const keep = 'trace:abc-1.2_3';
    assert.equal((await call(t.app, 'GET', '/v1/vms', undefined, { 'x-request-id': keep })).headers['x-request-id'], keep);
    assert.equal((await call(t.app, 'GET', '/v1/vms', undefined, { 'x-request-id': 'a'.repeat(128) })).headers['x-request-id'], 'a'.repeat(128));
    for (const bad of ['a'.repeat(129), 'has space', 'semi;colon', 'é']) {
      const id = (await call(t.app, 'GET', '/v1/vms', undefined, { 'x-request-id': bad })).headers['x-request-id'];
      assert.match(String(id), /^[0-9a-f-]{36}$/, bad.slice(0, 20));
    }
  });

  test('GMEMD_ADMIN_TOKEN at start: registered as `admin`, kept on a restart, replaced when it changes', () => {
    const first = 'a'.repeat(40), second = 'b'.repeat(40);
    assert.deepEqual(ensureAdminToken(t.ctx, SYSTEM_CALLER, first), { ok: true, value: null });
    const admin = t.store.tokens.liveByName('admin')!;
    assert.equal(t.store.tokens.live(hashSecret(first))?.id, admin.id);
    const seq = t.store.chain.getHead();
    ensureAdminToken(t.ctx, SYSTEM_CALLER, first);
    assert.deepEqual(t.store.chain.getHead(), seq, 'the same secret again records nothing');
    ensureAdminToken(t.ctx, SYSTEM_CALLER, second);
    assert.equal(t.store.tokens.live(hashSecret(first)), undefined, 'the old secret stops working');
    assert.equal(t.store.tokens.live(hashSecret(second))?.name, 'admin');
    const ev = t.store.ledger.sqlite.prepare("SELECT action, actor FROM events WHERE action LIKE 'token.%' ORDER BY seq DESC LIMIT 2").all();
    assert.deepEqual(ev, [{ action: 'token.create', actor: 'gmemd' }, { action: 'token.revoke', actor: 'gmemd' }]);
    // Without the variable, a ledger with a live admin token gets no new one.
    assert.deepEqual(ensureAdminToken(t.ctx, SYSTEM_CALLER, null), { ok: true, value: null });
  });
});

test('a token revoked by another connection to the ledger is refused on the next request', async () => {
  const t = await makeApp('simulated');
  try {
    const made = await call(t.app, 'POST', '/v1/tokens', { name: 'elsewhere', role: 'auditor' });
    const aud = bearer(made.json.token);
    assert.equal((await call(t.app, 'GET', '/v1/vms', undefined, aud)).status, 200);
    assert.equal((await call(t.app, 'GET', '/v1/vms', undefined, aud)).status, 200, 'answered from the lookup cache');
    const { default: Database } = await import('better-sqlite3');
    const other = new Database(t.dbPath);
    other.prepare('UPDATE tokens SET revoked_at = ? WHERE id = ?').run(Date.now(), made.json.id);
    other.close();
    assert.equal((await call(t.app, 'GET', '/v1/vms', undefined, aud)).status, 401);
  } finally { await t.close(); }
});
