// Who may call what, over every operation of the committed document: with no token, a bad
// token, and a token of each role. The expectation comes from the operation's access class
// (src/http/auth/route-access.ts) and the policy (src/domain/roles.ts), and an operation
// without a class fails here, so a new route cannot be left out. The policy itself is
// checked against the words, and a few classes are pinned independently.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ACCESS_CLASSES, mayCall, ROLES, type AccessClass, type Role } from '../../src/domain/roles.js';
import { ROUTE_ACCESS } from '../../src/http/auth/route-access.js';
import { buildApp } from '../../src/http/app.js';
import { bearer, insertToken, makeApp, type TestApp } from '../support/app.js';
import { fillPath, isSecured, SPEC_OPERATIONS, type SpecOperation } from '../support/spec-operations.js';

type Who = 'none' | 'bad' | Role;
const WHO: Who[] = ['none', 'bad', 'auditor', 'operator', 'admin'];

test('the policy is the issue\'s: admin everything, operator all but admin work, auditor reads and audit', () => {
  const allowed = (c: AccessClass) => ROLES.filter((r) => mayCall(r, c));
  assert.deepEqual(Object.fromEntries(ACCESS_CLASSES.map((c) => [c, allowed(c)])), {
    public: ['admin', 'operator', 'auditor'], read: ['admin', 'operator', 'auditor'], audit: ['admin', 'operator', 'auditor'],
    operate: ['admin', 'operator'], admin: ['admin'],
  });
});

test('every operation in the document has an access class, and every class names an operation', () => {
  const ids = SPEC_OPERATIONS.map((o) => o.operationId);
  assert.deepEqual(ids.filter((id) => !(id in ROUTE_ACCESS)), [], 'operations without an access class');
  assert.deepEqual(Object.keys(ROUTE_ACCESS).filter((id) => !ids.includes(id)), [], 'classes of operations that do not exist');
  // Pinned from the issue, not read from the table.
  const pinned: Record<string, AccessClass> = {
    getLivez: 'public', getReadyz: 'public', createToken: 'admin', listTokens: 'admin', revokeToken: 'admin',
    startHandover: 'admin', reconcile: 'admin', scanHost: 'admin', createVm: 'operate', probeVm: 'operate',
    donateFile: 'operate', prepareMigration: 'operate', listAuditEvents: 'audit', exportAuditEvents: 'audit', getVm: 'read',
  };
  for (const [id, c] of Object.entries(pinned)) assert.equal(ROUTE_ACCESS[id], c, id);
  // The document agrees: public operations alone say security: [].
  for (const o of SPEC_OPERATIONS) assert.equal(isSecured(o), ROUTE_ACCESS[o.operationId] !== 'public', o.operationId);
});

describe('role matrix: every operation × {no token, bad token, auditor, operator, admin}', () => {
  let t: TestApp;
  const headers: Partial<Record<Who, Record<string, string>>> = { none: {}, bad: bearer('gmemd_not-a-token') };
  before(async () => {
    t = await makeApp('simulated');
    for (const r of ROLES) headers[r] = bearer(insertToken(t.store, `matrix-${r}`, r));
  });
  after(() => t.close());

  const send = (o: SpecOperation, who: Who) => t.app.inject({
    method: o.method, url: fillPath(o, (p) => `${p}-missing`), headers: headers[who],
    ...(o.method === 'POST' || o.method === 'PATCH' || o.method === 'PUT' ? { payload: (o.example ?? {}) as object } : {}),
  });

  for (const o of SPEC_OPERATIONS) {
    test(`${o.method} ${o.path} (${o.operationId}, ${ROUTE_ACCESS[o.operationId] ?? 'unclassified'})`, async () => {
      const access = ROUTE_ACCESS[o.operationId];
      assert.ok(access, `${o.operationId} has no access class`);
      for (const who of WHO) {
        const before = t.store.chain.getHead();
        const res = await send(o, who);
        const what = `${o.operationId} as ${who}: ${res.statusCode} ${res.body.slice(0, 200)}`;
        const code = String(res.headers['content-type']).startsWith('application/problem+json') ? JSON.parse(res.body).code : undefined;
        assert.ok(res.statusCode < 500, what);
        if (access === 'public') {
          assert.ok(res.statusCode !== 401 && code !== 'auth.forbidden', what);
        } else if (who === 'none' || who === 'bad') {
          assert.deepEqual([res.statusCode, code], [401, who === 'none' ? 'auth.required' : 'auth.invalid'], what);
          assert.match(String(res.headers['www-authenticate']), /^Bearer/, what);
          assert.deepEqual(t.store.chain.getHead(), before, `${what}: a 401 records nothing`);
        } else if (mayCall(who, access)) {
          assert.ok(res.statusCode !== 401 && code !== 'auth.forbidden', what);
        } else {
          assert.deepEqual([res.statusCode, code], [403, 'auth.forbidden'], what);
          const ev = t.store.ledger.sqlite.prepare('SELECT actor, action, outcome, error_code, request_id FROM events ORDER BY seq DESC LIMIT 1')
            .get() as { action: string } | undefined;
          assert.ok(ev, `${what}: audited`);
          // A read is denied as access.denied; a mutation under its own action (vm.create, token.revoke, ...).
          assert.equal(ev.action === 'access.denied', o.method === 'GET', `${what}: denied as ${ev.action}`);
          assert.deepEqual({ ...ev, action: undefined }, { actor: `token:matrix-${who}`, action: undefined,
            outcome: 'denied', error_code: 'auth.forbidden', request_id: res.headers['x-request-id'] }, `${what}: audited as denied`);
        }
      }
    });
  }
});

test('routes outside the document: /docs is public, the test hooks are admin only, an unknown route needs a token', async () => {
  const t = await makeApp('simulated');
  try {
    assert.equal((await t.app.inject({ method: 'GET', url: '/docs/' })).statusCode, 200, 'a browser opens the reference page without a header');
    assert.equal((await t.app.inject({ method: 'GET', url: '/v1/nothing' })).statusCode, 401);
    assert.equal((await t.app.inject({ method: 'GET', url: '/v1/nothing', headers: t.headers })).statusCode, 404);
    const hooked = await buildApp({ ctx: t.ctx, lifecycle: { startup: null, handover: null, testHooks: true } });
    try {
      const hook = (headers: Record<string, string>) => hooked.inject({ method: 'POST', url: '/_test/kernel/delete-memslot', payload: { vmId: 'vm_x', slot: 0 }, headers });
      assert.equal((await hook(bearer(insertToken(t.store, 'hook-operator', 'operator')))).statusCode, 403);
      assert.equal((await hook(t.headers)).statusCode, 404, 'admin reaches the hook (no such VM)');
    } finally { await hooked.close(); }
  } finally { await t.close(); }
});
