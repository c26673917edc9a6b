// Fuzzing the API from its contract: fast-check picks an operation of the committed
// document (or a path that is none), a method, path params from the ids that exist or
// from nowhere, query values, a body (the documented example, a mutation of it, any JSON,
// not JSON at all), headers, and a caller (each role, a revoked token, garbage, none).
// Over 10,000 requests on the simulated backend: no response is a server error, a refused
// request changes nothing but the audit chain (and only by denied/failed events), and the
// chain verifies at the end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ROLES } from '../../src/domain/roles.js';
import { verifyLedger } from '../../src/store/audit/verify.js';
import { bearer, call, insertToken, makeApp, MiB } from '../support/app.js';
import { fillPath, SPEC_OPERATIONS, type Method } from '../support/spec-operations.js';

const RUNS = Number(process.env.GMEMD_FUZZ_RUNS || 10_000);

const printable = (max: number) => fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: max });
const junk = fc.oneof(printable(40), fc.string({ maxLength: 20 }), fc.constant('x'.repeat(70_000)), fc.constantFrom('', '..', '%00', '../../etc', 'vm_' + '0'.repeat(26)));

test(`api fuzz: ${RUNS} requests from the OpenAPI document, no 5xx, refusals change nothing, the chain verifies`, async () => {
  const t = await makeApp('simulated');
  try {
    // Something for the ids to name: VMs with memory, a grant, a binding, a migration.
    const post = async (url: string, body: unknown) => (await call(t.app, 'POST', url, body)).json;
    const [a, b, c] = [await post('/v1/vms', { name: 'fz-a' }), await post('/v1/vms', { name: 'fz-b' }), await post('/v1/vms', { name: 'fz-c' })];
    const ino = await post('/v1/inodes', { ownerVmId: a.id, size: 4 * MiB });
    const grant = await post(`/v1/files/${ino.file.id}/shares`, { vmId: b.id, permissions: ['read', 'write'] });
    const bind = await post(`/v1/files/${ino.file.id}/bindings`, { gpa: 0, offset: 0, size: MiB });
    const mig = await post('/v1/migrations', { sourceVmId: b.id, targetVmId: c.id });
    const secrets = Object.fromEntries(ROLES.map((r) => [r, insertToken(t.store, `fz-${r}`, r)]));
    const revoked = insertToken(t.store, 'fz-revoked', 'admin');
    t.store.tokens.revoke(t.store.tokens.liveByName('fz-revoked')!.id, t.store.now());
    const tokenIds = t.store.tokens.list().map((x) => x.id);
    const ids: Record<string, string[]> = {
      vmId: [a.id, b.id, c.id], inodeId: [ino.inode.id], fileId: [ino.file.id, grant.id], bindingId: [bind.id],
      // Not the fuzzing callers' own tokens: revoking those would turn the rest of the run into 401s.
      migrationId: [mig.id], tokenId: tokenIds.filter((id) => !ROLES.some((r) => t.store.tokens.liveByName(`fz-${r}`)?.id === id)),
    };

    const sqlite = t.store.ledger.sqlite;
    // What a request changed: every row it inserted, updated or deleted on the ledger's one
    // connection (total_changes counts them all, rolled back or not), less its events and a
    // stored Idempotency-Key reply (a refusal's reply is stored on purpose, for the retry);
    // and the kernel objects the process holds.
    const counters = sqlite.prepare(`SELECT total_changes() changes, (SELECT coalesce(max(seq), 0) FROM events) seq,
      (SELECT count(*) FROM idempotency) replies`);
    const state = () => counters.get() as { changes: number; seq: number; replies: number };
    const kernel = () => {
      const h = t.kvm.heldFds();
      return h.ok ? h.value.map((f) => Object.values(f).map(String).join(':')).join(',') : 'heldFds failed';
    };

    const caller = fc.oneof(
      { arbitrary: fc.constantFrom(...ROLES).map((r) => bearer(secrets[r]!)), weight: 12 },
      fc.constant(bearer(revoked)), fc.constant({}),
      printable(80).map((s) => ({ authorization: s })), printable(60).map((s) => bearer(s)),
    );
    /** null mostly: the rare value is the unusual request. */
    const rarely = <T>(arb: fc.Arbitrary<T>, oneIn: number) => fc.oneof({ arbitrary: fc.constant(null), weight: oneIn - 1 }, { arbitrary: arb, weight: 1 });
    const request = fc.record({
      opIndex: fc.nat(SPEC_OPERATIONS.length - 1),
      method: rarely(fc.constantFrom<Method>('GET', 'POST', 'PATCH', 'DELETE', 'PUT'), 8),
      strayPath: rarely(fc.oneof(printable(60).map((s) => `/${s.replace(/[?#\\]/g, '')}`), fc.constantFrom('/v1', '/v1/', '/v1/vms/', '/v1//vms', '/_test/kernel/delete-memslot')), 10),
      params: fc.dictionary(fc.constantFrom('vmId', 'inodeId', 'fileId', 'bindingId', 'migrationId', 'tokenId'), junk),
      pick: fc.nat(10),
      query: fc.array(fc.tuple(fc.constantFrom('limit', 'cursor', 'state', 'vmId', 'inodeId', 'fileId', 'outcome', 'since', 'until', 'at', 'atSeq', 'fromSeq', 'toSeq', 'order', 'kind', 'zzz'),
        fc.oneof(junk, fc.integer({ min: -5, max: 2000 }).map(String), fc.constantFrom('active', 'denied', 'desc', '2026-01-01T00:00:00Z', '1e309'))), { maxLength: 3 }),
      body: fc.oneof(
        { arbitrary: fc.constant('example'), weight: 2 },
        { arbitrary: fc.constant('fresh'), weight: 4 },
        { arbitrary: fc.tuple(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 })).map(([k, v]) => ({ mutate: [k, v] as const })), weight: 3 },
        { arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => ({ json: v })), weight: 2 },
        { arbitrary: printable(100).map((raw) => ({ raw })), weight: 1 },
        { arbitrary: fc.constant('none'), weight: 1 },
      ),
      contentType: fc.oneof({ arbitrary: fc.constant('application/json'), weight: 12 }, { arbitrary: fc.constantFrom('text/plain', 'application/xml', undefined), weight: 1 }),
      requestId: rarely(printable(200), 4),
      idempotencyKey: rarely(printable(20), 8),
      who: caller,
    });

    // The documented example, naming what exists: a new name, and ids from the pools.
    let serial = 0;
    const freshen = (ex: Record<string, unknown>, pick: number) => Object.fromEntries(Object.entries(ex).map(([k, v]) => {
      if (k === 'name') return [k, `fz-${serial++}`];
      const pool = /vmid$/i.test(k) ? ids.vmId! : /fileid$/i.test(k) ? ids.fileId! : /inodeid$/i.test(k) ? ids.inodeId! : null;
      return [k, pool ? pool[pick % pool.length] : v];
    }));

    let held = kernel();
    let count = 0;
    const statuses = new Map<number, number>();
    const property = fc.asyncProperty(request, async (r) => {
      const o = SPEC_OPERATIONS[r.opIndex]!;
      const method = r.method ?? o.method;
      const pool = (p: string) => ids[p] ?? [];
      const url = (r.strayPath ?? fillPath(o, (p) => (r.params[p] !== undefined && r.pick < 3 ? r.params[p]! : pool(p)[r.pick % Math.max(1, pool(p).length)] ?? 'none')))
        + (r.query.length ? `?${r.query.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')}` : '');
      let payload: string | undefined;
      if (r.body === 'fresh') payload = o.example === undefined ? undefined : JSON.stringify(freshen(o.example as Record<string, unknown>, r.pick));
      else if (r.body === 'example') payload = o.example === undefined ? undefined : JSON.stringify(o.example);
      else if (r.body === 'none') payload = undefined;
      else if ('mutate' in r.body) payload = JSON.stringify({ ...(o.example as object ?? {}), [r.body.mutate[0]]: r.body.mutate[1] });
      else if ('json' in r.body) payload = JSON.stringify(r.body.json);
      else payload = r.body.raw;
      const headers: Record<string, string> = { ...r.who };
      if (payload !== undefined && r.contentType) headers['content-type'] = r.contentType;
      if (r.requestId !== null) headers['x-request-id'] = r.requestId;
      if (r.idempotencyKey !== null) headers['idempotency-key'] = r.idempotencyKey;
      const s0 = state();
      const res = await t.app.inject({ method, url, headers, ...(payload !== undefined && method !== 'GET' ? { payload } : {}) });
      count += 1;
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      const what = `${method} ${url.slice(0, 200)} ${String(payload).slice(0, 200)} -> ${res.statusCode} ${res.body.slice(0, 300)}`;
      assert.ok(res.statusCode < 500, what);
      const s1 = state();
      const nowHeld = kernel();
      if (res.statusCode >= 400) {
        const events = s1.seq - s0.seq, replies = s1.replies - s0.replies;
        assert.equal(s1.changes - s0.changes - events - replies, 0, `refused, yet rows besides its events changed: ${what}`);
        assert.ok(replies <= 1, what);
        assert.equal(nowHeld, held, `refused, yet the kernel objects held changed: ${what}`);
        const added = sqlite.prepare('SELECT outcome FROM events WHERE seq > ?').all(s0.seq) as { outcome: string }[];
        assert.ok(added.every((e) => e.outcome !== 'ok'), `a refusal recorded an ok event: ${what}`);
      }
      held = nowHeld;
    });
    // fast-check's report names the counterexample; the assertion that failed is its cause.
    await fc.assert(property, { numRuns: RUNS, seed: Number(process.env.GMEMD_FUZZ_SEED || 20261202) }).catch((e: Error) => {
      throw new Error(`${e.message}\n${(e.cause as Error | undefined)?.message ?? ''}`);
    });

    assert.equal(count >= RUNS, true);
    const v = verifyLedger(sqlite);
    assert.equal(v.ok, true, JSON.stringify(v));
    const by = [...statuses.entries()].sort((x, y) => x[0] - y[0]).map(([s, n]) => `${s}:${n}`).join(' ');
    const refusalEvents = (sqlite.prepare("SELECT count(*) n FROM events WHERE outcome <> 'ok'").get() as { n: number }).n;
    console.log(`# fuzz: ${count} requests; statuses ${by}; ${v.ok ? v.events : 0} events verified, ${refusalEvents} of them refusals`);
    // The run reached more than the front door: successes, refusals by validation, by role and by the domain.
    for (const s of [200, 201, 400, 401, 403, 404]) assert.ok((statuses.get(s) ?? 0) > 0, `no ${s} in ${by}`);
  } finally { await t.close(); }
});
