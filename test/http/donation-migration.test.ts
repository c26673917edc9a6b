// Donation and intra-host migration move views, never memory: the new owner or the target
// reads the old owner's pattern byte for byte, and the old side sees nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { call, describeBackends, makeApp, MiB, type TestApp } from '../support/app.js';

const GPA = 0x100000;

describeBackends('donation and migration, proven from inside guests', (kind) => {
  let t: TestApp;
  const newVm = async (name: string) => (await call(t.app, 'POST', '/v1/vms', { name })).json.id as string;
  const probe = async (vmId: string, gpa: number, write?: number) =>
    (await call(t.app, 'POST', `/v1/vms/${vmId}/probe`, write === undefined ? { gpa } : { gpa, write })).json;
  const actions = (migrationId: string) => (t.store.ledger.sqlite.prepare('SELECT action, outcome FROM events WHERE migration_id = ? ORDER BY seq')
    .all(migrationId) as { action: string; outcome: string }[]).map((e) => `${e.action}:${e.outcome}`);

  before(async () => { t = await makeApp(kind); });
  after(async () => { await t?.close(); });

  test('donation: the new owner reads the pattern, the old owner sees nothing, the inode outlives its origin VM', async () => {
    const a = await newVm('donor'), d = await newVm('donee'), g = await newVm('guest');
    const { inode, file } = (await call(t.app, 'POST', '/v1/inodes', { ownerVmId: a, size: 2 * MiB })).json;
    await call(t.app, 'POST', `/v1/files/${file.id}/bindings`, { gpa: GPA, offset: 0, size: MiB });
    assert.equal((await probe(a, GPA + 5, 0x42)).wrote, true);
    const share = (await call(t.app, 'POST', `/v1/files/${file.id}/shares`, { vmId: g, permissions: ['read'] })).json;
    await call(t.app, 'POST', `/v1/files/${share.id}/bindings`, { gpa: GPA, offset: 0, size: MiB });

    const don = await call(t.app, 'POST', `/v1/files/${file.id}/donate`, { vmId: d });
    assert.equal(don.status, 200);
    assert.equal(don.json.from.state, 'closed');
    assert.equal(don.json.to.role, 'owner');
    assert.deepEqual(don.json.to.permissions, ['read', 'write', 'allocate', 'share']);
    assert.equal((await call(t.app, 'GET', `/v1/inodes/${inode.id}`)).json.inode.ownerVmId, d);
    assert.equal((await probe(a, GPA + 5)).outcome, 'unmapped', 'the old owner\'s memslots are gone');

    const bind = await call(t.app, 'POST', `/v1/files/${don.json.to.id}/bindings`, { gpa: 0x400000, offset: 0, size: MiB });
    assert.equal(bind.json.kind, 'view', 'not the origin VM: a view over the mapping');
    assert.equal((await probe(d, 0x400000 + 5)).value, 0x42);
    assert.equal((await probe(g, GPA + 5)).value, 0x42, 'grants made before the donation still see the memory');

    const destroyed = await call(t.app, 'DELETE', `/v1/vms/${a}`);
    assert.deepEqual(destroyed.json.releasedInodes, []);
    assert.equal((await call(t.app, 'GET', `/v1/inodes/${inode.id}`)).json.inode.state, 'live');
    assert.equal((await probe(d, 0x400000 + 5)).value, 0x42, 'the inode survives its origin VM');
    assert.equal((await probe(d, 0x400000 + 6, 0x43)).wrote, true);
    assert.equal((await probe(g, GPA + 6)).value, 0x43);

    const again = await call(t.app, 'POST', `/v1/files/${file.id}/donate`, { vmId: g });
    assert.equal(again.json.code, 'file.not_open', 'the donated file is closed');
    const grant = await call(t.app, 'POST', `/v1/files/${share.id}/donate`, { vmId: a });
    assert.equal(grant.json.code, 'file.not_owner');
  });

  test('donation to a VM holding a grant promotes that file: same id and bindings, every permission, audited', async () => {
    const a = await newVm('pro-owner'), m = await newVm('pro-middle'), g = await newVm('pro-grantee');
    const { inode, file } = (await call(t.app, 'POST', '/v1/inodes', { ownerVmId: a, size: 2 * MiB })).json;
    const map = t.ctx.registry.gmem(inode.id)!.mapping!;
    assert.ok(t.kvm.writeMemory(map.addr + 5n, Buffer.from([0x42])).ok);
    // g's grant is a grant of a grant: a → m (read, share) → g (read).
    const mFile = (await call(t.app, 'POST', `/v1/files/${file.id}/shares`, { vmId: m, permissions: ['read', 'share'] })).json;
    const gFile = (await call(t.app, 'POST', `/v1/files/${mFile.id}/shares`, { vmId: g, permissions: ['read'] })).json;
    const view = (await call(t.app, 'POST', `/v1/files/${gFile.id}/bindings`, { gpa: GPA, offset: 0, size: MiB })).json;
    assert.equal(view.readonly, true);
    const beforeSeq = t.store.chain.getHead().seq;

    const don = await call(t.app, 'POST', `/v1/files/${file.id}/donate`, { vmId: g });
    assert.equal(don.status, 200, JSON.stringify(don.json));
    assert.equal(don.json.from.state, 'closed');
    assert.equal(don.json.to.id, gFile.id, 'the grant itself is promoted, not replaced');
    assert.equal(don.json.to.role, 'owner');
    assert.deepEqual(don.json.to.permissions, ['read', 'write', 'allocate', 'share']);
    assert.equal(don.json.to.grantedByFileId, file.id, 'it now descends from the donated file, not from m');
    assert.equal((await call(t.app, 'GET', `/v1/inodes/${inode.id}`)).json.inode.ownerVmId, g);

    // Its binding stays, still KVM_MEM_READONLY: the flag cannot change on a live memslot.
    const kept = (await call(t.app, 'GET', `/v1/bindings?fileId=${gFile.id}&state=active`)).json.items;
    assert.deepEqual(kept.map((b: { id: string; readonly: boolean }) => [b.id, b.readonly]), [[view.id, true]]);
    assert.equal((await probe(g, GPA + 5)).value, 0x42);
    assert.deepEqual(await probe(g, GPA + 5, 0x43), { vmId: g, gpa: GPA + 5, outcome: 'write_trapped', value: 0x42 });
    // A new binding is writable, and so is the old one once re-created.
    const rw = (await call(t.app, 'POST', `/v1/files/${gFile.id}/bindings`, { gpa: 0x400000, offset: 0, size: MiB })).json;
    assert.equal(rw.readonly, false);
    assert.equal((await probe(g, 0x400000 + 6, 0x44)).wrote, true);
    assert.deepEqual(t.kvm.readMemory(map.addr + 6n, 1), { ok: true, value: Buffer.from([0x44]) }, 'the write reached the inode');
    assert.equal((await call(t.app, 'DELETE', `/v1/bindings/${view.id}`)).status, 200);
    assert.equal((await call(t.app, 'POST', `/v1/files/${gFile.id}/bindings`, { gpa: GPA, offset: 0, size: MiB })).json.readonly, false);

    // Narrowing m (the old granter) no longer reaches g, now the owner.
    assert.equal((await call(t.app, 'PATCH', `/v1/files/${mFile.id}`, { permissions: ['read'] })).status, 200);
    assert.deepEqual((await call(t.app, 'GET', `/v1/files/${gFile.id}`)).json.permissions, ['read', 'write', 'allocate', 'share']);

    const ev = (await call(t.app, 'GET', `/v1/audit/events?action=file.donate&inodeId=${inode.id}`)).json.items;
    assert.deepEqual(ev.map((e: { outcome: string; fileId: string }) => [e.outcome, e.fileId]), [['ok', gFile.id]]);
    assert.equal(ev[0].details.promoted, true);
    const access = async (atSeq: number) => Object.fromEntries((await call(t.app, 'GET', `/v1/audit/access?inodeId=${inode.id}&atSeq=${atSeq}`)).json.items
      .map((h: { vmId: string; role: string; permissions: string[] }) => [h.vmId, `${h.role}:${h.permissions.join(',')}`]));
    assert.deepEqual(await access(beforeSeq), { [a]: 'owner:read,write,allocate,share', [m]: 'grantee:read,share', [g]: 'grantee:read' });
    assert.deepEqual(await access(ev[0].seq), { [m]: 'grantee:read,share', [g]: 'owner:read,write,allocate,share' });
    const lineage = (await call(t.app, 'GET', `/v1/audit/lineage/${inode.id}`)).json.items;
    assert.deepEqual(lineage.map((l: { action: string; toVmId: string; toFileId: string }) => [l.action, l.toVmId, l.toFileId]),
      [['inode.create', a, file.id], ['file.donate', g, gFile.id]]);
  });

  test('migration abort changes nothing; commit moves every view: the target reads the source\'s pattern', async () => {
    const s = await newVm('source'), tg = await newVm('target');
    const { inode, file } = (await call(t.app, 'POST', '/v1/inodes', { ownerVmId: s, size: 2 * MiB })).json;
    await call(t.app, 'POST', `/v1/files/${file.id}/bindings`, { gpa: GPA, offset: MiB, size: MiB });
    assert.equal((await probe(s, GPA + 7, 0x99)).wrote, true);

    const prep = await call(t.app, 'POST', '/v1/migrations', { sourceVmId: s, targetVmId: tg });
    assert.equal(prep.status, 201);
    assert.equal(prep.json.state, 'prepared');
    assert.equal(prep.json.plan.memslots.length, 1);
    const pending = (await call(t.app, 'GET', `/v1/files?vmId=${tg}&state=pending`)).json.items;
    assert.equal(pending.length, 1);
    const bindPending = await call(t.app, 'POST', `/v1/files/${pending[0].id}/bindings`, { gpa: 0x800000, offset: 0, size: MiB });
    assert.equal(bindPending.json.code, 'file.pending');
    const other = await newVm('bystander');
    assert.equal((await call(t.app, 'POST', '/v1/migrations', { sourceVmId: tg, targetVmId: other })).json.code, 'migration.vm_busy');

    const ab = await call(t.app, 'POST', `/v1/migrations/${prep.json.id}/abort`);
    assert.equal(ab.json.state, 'aborted');
    assert.equal((await call(t.app, 'GET', `/v1/files?vmId=${tg}&state=pending`)).json.items.length, 0);
    assert.equal((await probe(s, GPA + 7)).value, 0x99, 'abort changed nothing');
    assert.equal((await probe(tg, GPA + 7)).outcome, 'unmapped');
    assert.equal((await call(t.app, 'POST', `/v1/migrations/${prep.json.id}/commit`)).json.code, 'migration.not_prepared');

    const mig = (await call(t.app, 'POST', '/v1/migrations', { sourceVmId: s, targetVmId: tg })).json;
    const commit = await call(t.app, 'POST', `/v1/migrations/${mig.id}/commit`);
    assert.equal(commit.status, 200);
    assert.equal(commit.json.state, 'committed');
    assert.equal((await probe(tg, GPA + 7)).value, 0x99, 'the target sees the source\'s memory byte for byte');
    assert.equal((await probe(s, GPA + 7)).outcome, 'unmapped');
    const d = (await call(t.app, 'GET', `/v1/inodes/${inode.id}`)).json;
    assert.equal(d.inode.ownerVmId, tg);
    assert.deepEqual(d.files.map((f: { vmId: string; state: string }) => [f.vmId, f.state]), [[tg, 'open']]);
    assert.deepEqual(d.bindings.map((b: { vmId: string; gpa: number; offset: number }) => [b.vmId, b.gpa, b.offset]), [[tg, GPA, MiB]]);
    assert.deepEqual(actions(mig.id), ['migration.prepare:ok', 'binding.delete:ok', 'binding.create:ok', 'file.migrate:ok', 'migration.commit:ok']);
  });

  test('a target whose memslots collide with the source\'s is refused at prepare', async () => {
    const s = await newVm('src-2'), tg = await newVm('tgt-2');
    const a = (await call(t.app, 'POST', '/v1/inodes', { ownerVmId: s, size: MiB })).json;
    await call(t.app, 'POST', `/v1/files/${a.file.id}/bindings`, { gpa: GPA, offset: 0, size: MiB });
    const b = (await call(t.app, 'POST', '/v1/inodes', { ownerVmId: tg, size: MiB })).json;
    await call(t.app, 'POST', `/v1/files/${b.file.id}/bindings`, { gpa: GPA + 0x80000, offset: 0, size: 0x80000 });
    const r = await call(t.app, 'POST', '/v1/migrations', { sourceVmId: s, targetVmId: tg });
    assert.equal(r.status, 409);
    assert.equal(r.json.code, 'migration.conflict');
    assert.equal(r.json.conflicts[0].reason, 'gpa');
    assert.equal((await call(t.app, 'POST', '/v1/migrations', { sourceVmId: s, targetVmId: s })).json.code, 'migration.same_vm');
  });
});
