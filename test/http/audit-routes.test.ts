// The audit API over a history made through the real use cases (simulated kernel: the audit
// routes read only the ledger, so the backend does not matter here).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import canonicalize from 'canonicalize';
import { canonicalEvent, chainHash, GENESIS_HASH } from '../../src/store/audit-chain.js';
import { call, makeApp, MiB, type TestApp } from '../support/app.js';

describe('audit routes', () => {
  let t: TestApp;
  const vm: Record<string, string> = {};
  let inodeId: string, ownerFileId: string, granteeFileId: string;
  let sharedAt: string, narrowedSeq: number;

  before(async () => {
    t = await makeApp('simulated');
    for (const n of ['a', 'b', 'c']) vm[n] = (await call(t.app, 'POST', '/v1/vms', { name: `audit-${n}` })).json.id;
    const created = (await call(t.app, 'POST', '/v1/inodes', { ownerVmId: vm.a, size: 2 * MiB })).json;
    inodeId = created.inode.id; ownerFileId = created.file.id;
    const share = await call(t.app, 'POST', `/v1/files/${ownerFileId}/shares`, { vmId: vm.b, permissions: ['read', 'write'] });
    assert.equal(share.status, 201, JSON.stringify(share.json));
    granteeFileId = share.json.id;
    sharedAt = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 5));
    assert.equal((await call(t.app, 'PATCH', `/v1/files/${granteeFileId}`, { permissions: ['read'] })).status, 200);
    narrowedSeq = t.store.chain.getHead().seq;
    // A refused attempt: b's grant does not carry `share`.
    assert.equal((await call(t.app, 'POST', `/v1/files/${granteeFileId}/shares`, { vmId: vm.c, permissions: ['write'] })).status, 403);
    const donated = await call(t.app, 'POST', `/v1/files/${ownerFileId}/donate`, { vmId: vm.c });
    assert.equal(donated.status, 200, JSON.stringify(donated.json));
  });
  after(async () => { await t?.close(); });

  test('GET /v1/audit/events filters, pages with an opaque cursor, and shows ISO times', async () => {
    const all = await call(t.app, 'GET', '/v1/audit/events?limit=1000');
    assert.equal(all.status, 200);
    const head = t.store.chain.getHead().seq;
    assert.deepEqual(all.json.items.map((e: { seq: number }) => e.seq), Array.from({ length: head }, (_, i) => i + 1));
    assert.match(all.json.items[0].time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    const denied = await call(t.app, 'GET', `/v1/audit/events?outcome=denied&action=file.share`);
    assert.equal(denied.json.items.length, 1);
    assert.match(denied.json.items[0].errorCode, /^file\./);

    const p1 = await call(t.app, 'GET', `/v1/audit/events?inodeId=${inodeId}&limit=2`);
    const p2 = await call(t.app, 'GET', `/v1/audit/events?inodeId=${inodeId}&limit=2&cursor=${p1.json.nextCursor}`);
    assert.equal(p2.status, 200);
    assert.ok(p2.json.items[0].seq > p1.json.items[1].seq);

    const recent = await call(t.app, 'GET', `/v1/audit/events?since=${encodeURIComponent(sharedAt)}&order=desc`);
    assert.ok(recent.json.items.every((e: { time: string }) => e.time >= sharedAt));

    const bad = await call(t.app, 'GET', '/v1/audit/events?cursor=nope');
    assert.equal(bad.status, 400);
    assert.equal(bad.headers['content-type'], 'application/problem+json; charset=utf-8');
    assert.equal(bad.json.code, 'audit.cursor_invalid');
    assert.equal((await call(t.app, 'GET', '/v1/audit/events?since=yesterday')).json.code, 'request.invalid');
  });

  test('GET /v1/audit/access answers from history, by time or by seq', async () => {
    const byTime = await call(t.app, 'GET', `/v1/audit/access?inodeId=${inodeId}&at=${encodeURIComponent(sharedAt)}`);
    assert.equal(byTime.status, 200, JSON.stringify(byTime.json));
    const held = Object.fromEntries(byTime.json.items.map((h: { vmId: string; permissions: string[] }) => [h.vmId, [...h.permissions].sort()]));
    assert.deepEqual(held, { [vm.a!]: ['allocate', 'read', 'share', 'write'], [vm.b!]: ['read', 'write'] });
    const bySeq = await call(t.app, 'GET', `/v1/audit/access?inodeId=${inodeId}&atSeq=${narrowedSeq}`);
    const b = bySeq.json.items.find((h: { vmId: string }) => h.vmId === vm.b);
    assert.deepEqual(b.permissions, ['read']);
    assert.equal(b.from.seq, narrowedSeq);
    assert.match(b.from.time, /Z$/);
    const now = await call(t.app, 'GET', `/v1/audit/access?inodeId=${inodeId}&at=${encodeURIComponent(new Date(Date.now() + 1000).toISOString())}`);
    assert.deepEqual(now.json.items.map((h: { vmId: string; role: string }) => [h.vmId, h.role]).sort(), [[vm.b, 'grantee'], [vm.c, 'owner']].sort());

    assert.equal((await call(t.app, 'GET', `/v1/audit/access?inodeId=${inodeId}`)).json.code, 'request.invalid');
    const missing = await call(t.app, 'GET', `/v1/audit/access?inodeId=ino_01hf7yat5m3c6sjpz972bwmwzz&atSeq=1`);
    assert.deepEqual([missing.status, missing.json.code], [404, 'inode.not_found']);
  });

  test('GET /v1/audit/exposure lists the shared inode with its live files', async () => {
    const r = await call(t.app, 'GET', '/v1/audit/exposure');
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.items.length, 1);
    const e = r.json.items[0];
    assert.equal(e.inodeId, inodeId);
    assert.deepEqual(e.findings, ['multi_vm']);
    assert.deepEqual(e.vmIds, [vm.b, vm.c].sort());
    assert.equal((await call(t.app, 'GET', '/v1/audit/exposure?kind=write_shared')).json.items.length, 0);
    assert.equal((await call(t.app, 'GET', '/v1/audit/exposure?kind=everything')).status, 400);
  });

  test('GET /v1/audit/lineage/{inodeId}: created on a, donated to c', async () => {
    const r = await call(t.app, 'GET', `/v1/audit/lineage/${inodeId}`);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.deepEqual(r.json.items.map((s: { action: string; fromVmId: string | null; toVmId: string }) => [s.action, s.fromVmId, s.toVmId]),
      [['inode.create', null, vm.a], ['file.donate', vm.a, vm.c]]);
    assert.equal((await call(t.app, 'GET', '/v1/audit/lineage/ino_01hf7yat5m3c6sjpz972bwmwzz')).status, 404);
  });

  test('GET /v1/audit/export streams NDJSON that re-verifies from the lines alone', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/audit/export', headers: t.headers });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^application\/x-ndjson/);
    const lines = res.body.trimEnd().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, t.store.chain.getHead().seq);
    let prev = GENESIS_HASH;
    for (const e of lines) {
      const hashed = { ...e, time: Date.parse(e.time), details: canonicalize(e.details)! };
      assert.equal(chainHash(prev, canonicalEvent(hashed)), e.hash, `seq ${e.seq}`);
      prev = e.hash;
    }
    const range = await t.app.inject({ method: 'GET', url: '/v1/audit/export?fromSeq=2&toSeq=3', headers: t.headers });
    assert.deepEqual(range.body.trimEnd().split('\n').map((l) => JSON.parse(l).seq), [2, 3]);
    assert.equal((await t.app.inject({ method: 'GET', url: '/v1/audit/export?fromSeq=3&toSeq=2', headers: t.headers })).statusCode, 400);
  });

  test('GET /v1/audit/verify: ok, then the first bad seq after tampering (still 200)', async () => {
    const ok = await call(t.app, 'GET', '/v1/audit/verify');
    assert.equal(ok.status, 200);
    const head = t.store.chain.getHead();
    assert.deepEqual(ok.json, { ok: true, events: head.seq, headSeq: head.seq, headHash: head.hash, checkpoints: { count: 0, latestSeq: null, macsVerified: false } });

    const db = new Database(t.dbPath);
    db.prepare(`UPDATE events SET actor = 'mallory' WHERE seq = 4`).run();
    db.close();
    const [r1, r2] = await Promise.all([call(t.app, 'GET', '/v1/audit/verify'), call(t.app, 'GET', '/v1/audit/verify')]);
    assert.deepEqual([r1.status, r1.json.ok, r1.json.firstBadSeq, r1.json.reason], [200, false, 4, 'hash_mismatch']);
    assert.deepEqual(r2.json, r1.json);
  });

  test('every audit route is in the OpenAPI document with an operationId', () => {
    const spec = t.app.swagger() as { paths: Record<string, { get?: { operationId?: string } }>; components: { schemas: Record<string, unknown> } };
    const ids = ['/v1/audit/events', '/v1/audit/access', '/v1/audit/exposure', '/v1/audit/lineage/{inodeId}', '/v1/audit/verify', '/v1/audit/export']
      .map((p) => spec.paths[p]?.get?.operationId);
    assert.deepEqual(ids, ['listAuditEvents', 'getAuditAccess', 'getAuditExposure', 'getAuditLineage', 'verifyAuditChain', 'exportAuditEvents']);
    assert.ok(spec.components.schemas.AuditEvent && spec.components.schemas.VerifyReport);
  });
});
