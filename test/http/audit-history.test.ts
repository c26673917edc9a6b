// An auditor's questions over a history built through the API: who could touch an inode at
// several instants (from history, not current state), the chain of owners, and which
// inodes are exposed. A controlled clock makes each step its own instant.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { call, describeBackends, makeApp, MiB, TEST_ACTOR, type TestApp } from '../support/app.js';

describeBackends('audit questions over an HTTP-built history', (kind) => {
  let t: TestApp;
  let clock = Date.UTC(2026, 10, 25, 12, 0, 0);
  const tick = () => { clock += 1000; return new Date(clock - 500).toISOString(); }; // an instant between steps
  const vm: Record<string, string> = {};
  let x: { inode: { id: string }; file: { id: string } };
  const instants: Record<string, string> = {};
  const post = async (url: string, body?: unknown) => {
    const r = await call(t.app, 'POST', url, body);
    assert.ok(r.status < 300, `${url}: ${r.status} ${JSON.stringify(r.json)}`);
    return r.json;
  };
  const access = async (at: string) => {
    const r = await call(t.app, 'GET', `/v1/audit/access?inodeId=${x.inode.id}&at=${encodeURIComponent(at)}`);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    return Object.fromEntries(r.json.items.map((h: { vmId: string; role: string; permissions: string[] }) =>
      [Object.keys(vm).find((k) => vm[k] === h.vmId), `${h.role}:${h.permissions.join(',')}`]));
  };

  before(async () => {
    t = await makeApp(kind, { now: () => clock });
    for (const n of ['a', 'b', 'c', 'd', 'e', 'f']) vm[n] = (await post('/v1/vms', { name: `hist-${n}` })).id;
    tick();
    x = await post('/v1/inodes', { ownerVmId: vm.a, size: 2 * MiB });
    await post(`/v1/files/${x.file.id}/bindings`, { gpa: 0x100000, offset: 0, size: MiB });
    instants.created = tick();
    const b = await post(`/v1/files/${x.file.id}/shares`, { vmId: vm.b, permissions: ['read', 'write', 'share'] });
    await post(`/v1/files/${x.file.id}/shares`, { vmId: vm.c, permissions: ['read'] });
    await post(`/v1/files/${b.id}/shares`, { vmId: vm.d, permissions: ['read', 'write'] });
    instants.shared = tick();
    const n = await call(t.app, 'PATCH', `/v1/files/${b.id}`, { permissions: ['read', 'share'] });
    assert.equal(n.status, 200);
    instants.narrowed = tick();
    await post(`/v1/files/${x.file.id}/donate`, { vmId: vm.e });
    instants.donated = tick();
    const mig = await post('/v1/migrations', { sourceVmId: vm.e, targetVmId: vm.f });
    await post(`/v1/migrations/${mig.id}/commit`);
    instants.migrated = tick();
    const cFile = (await call(t.app, 'GET', `/v1/files?vmId=${vm.c}&state=open`)).json.items[0];
    await post(`/v1/files/${cFile.id}/revoke`);
    instants.revoked = tick();
    assert.equal((await call(t.app, 'DELETE', `/v1/vms/${vm.f}`)).status, 200);
    instants.destroyed = tick();
  });
  after(async () => { await t?.close(); });

  test('access at each instant lists exactly the VMs and permissions held then', async () => {
    assert.deepEqual(await access(instants.created!), { a: 'owner:read,write,allocate,share' });
    assert.deepEqual(await access(instants.shared!), {
      a: 'owner:read,write,allocate,share', b: 'grantee:read,write,share', c: 'grantee:read', d: 'grantee:read,write',
    });
    // Narrowing B takes write from the grant B made to D as well.
    assert.deepEqual(await access(instants.narrowed!), {
      a: 'owner:read,write,allocate,share', b: 'grantee:read,share', c: 'grantee:read', d: 'grantee:read',
    });
    assert.deepEqual(await access(instants.donated!), {
      b: 'grantee:read,share', c: 'grantee:read', d: 'grantee:read', e: 'owner:read,write,allocate,share',
    });
    assert.deepEqual(await access(instants.migrated!), {
      b: 'grantee:read,share', c: 'grantee:read', d: 'grantee:read', f: 'owner:read,write,allocate,share',
    });
    assert.deepEqual(await access(instants.revoked!), { b: 'grantee:read,share', d: 'grantee:read', f: 'owner:read,write,allocate,share' });
    assert.deepEqual(await access(instants.destroyed!), {}, 'destroying the owner closed every file');
  });

  test('lineage lists the owners in order: create, donation, migration', async () => {
    const r = await call(t.app, 'GET', `/v1/audit/lineage/${x.inode.id}`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.json.items.map((s: { action: string; fromVmId: string | null; toVmId: string }) =>
      [s.action, s.fromVmId && Object.keys(vm).find((k) => vm[k] === s.fromVmId), Object.keys(vm).find((k) => vm[k] === s.toVmId)]),
    [['inode.create', null, 'a'], ['file.donate', 'a', 'e'], ['file.migrate', 'e', 'f']]);
    assert.ok(r.json.items.every((s: { actor: string }) => s.actor === TEST_ACTOR));
  });

  test('exposure flags exactly the shared inodes, with the right findings', async () => {
    const g = (await post('/v1/vms', { name: 'hist-g' })).id, h = (await post('/v1/vms', { name: 'hist-h' })).id;
    const shared = await post('/v1/inodes', { ownerVmId: g, size: MiB });
    await post(`/v1/files/${shared.file.id}/shares`, { vmId: h, permissions: ['read', 'write'] });
    const ro = await post('/v1/inodes', { ownerVmId: g, size: MiB });
    await post(`/v1/files/${ro.file.id}/shares`, { vmId: h, permissions: ['read'] });
    await post('/v1/inodes', { ownerVmId: g, size: MiB }); // not shared
    await post('/v1/inodes', { ownerVmId: h, size: MiB, shareable: false }); // private
    const [k, l, m, n] = await Promise.all(['k', 'l', 'm', 'n'].map(async (s) => (await post('/v1/vms', { name: `hist-${s}` })).id as string));
    const chain = await post('/v1/inodes', { ownerVmId: k, size: MiB });
    const lFile = await post(`/v1/files/${chain.file.id}/shares`, { vmId: l, permissions: ['read', 'share'] });
    await post(`/v1/files/${lFile.id}/shares`, { vmId: m, permissions: ['read'] });
    await post(`/v1/files/${chain.file.id}/donate`, { vmId: n });
    assert.equal((await call(t.app, 'DELETE', `/v1/vms/${k}`)).status, 200);
    const r = await call(t.app, 'GET', '/v1/audit/exposure');
    assert.equal(r.status, 200);
    const found = Object.fromEntries(r.json.items.map((e: { inodeId: string; findings: string[] }) => [e.inodeId, [...e.findings].sort()]));
    assert.deepEqual(found, {
      [shared.inode.id]: ['multi_vm', 'write_shared'], [ro.inode.id]: ['multi_vm'],
      [chain.inode.id]: ['grant_of_grant', 'multi_vm', 'origin_gone'],
    });
    const only = await call(t.app, 'GET', '/v1/audit/exposure?kind=grant_of_grant');
    assert.deepEqual(only.json.items.map((e: { inodeId: string }) => e.inodeId), [chain.inode.id]);
  });
});
