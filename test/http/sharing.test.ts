// One inode, many VMs' views, each with its own permissions, proven from inside the guests
// with the probe: read-only views trap writes, read-write views are seen by the owner, a
// punch zeroes every view, narrowing and revoke take effect in the kernel.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { call, describeBackends, makeApp, MiB, type TestApp } from '../support/app.js';

const A_GPA = 0x100000, B_GPA = 0x200000, C_GPA = 0x7f000000;

describeBackends('sharing, proven from inside guests', (kind) => {
  let t: TestApp;
  const vm: Record<string, string> = {};
  let owner: { id: string }, inode: { id: string };
  const probe = async (v: string, gpa: number, write?: number) =>
    (await call(t.app, 'POST', `/v1/vms/${vm[v]}/probe`, write === undefined ? { gpa } : { gpa, write })).json;
  const events = (action: string) => t.store.ledger.sqlite.prepare('SELECT outcome, error_code FROM events WHERE action = ? ORDER BY seq').all(action) as { outcome: string; error_code: string | null }[];

  before(async () => {
    t = await makeApp(kind);
    for (const n of ['a', 'b', 'c']) vm[n] = (await call(t.app, 'POST', '/v1/vms', { name: `share-${n}` })).json.id;
    const created = (await call(t.app, 'POST', '/v1/inodes', { ownerVmId: vm.a, size: 2 * MiB })).json;
    owner = created.file; inode = created.inode;
    const b = await call(t.app, 'POST', `/v1/files/${owner.id}/bindings`, { gpa: A_GPA, offset: 0, size: MiB });
    assert.equal(b.json.kind, 'gmem');
  });
  after(async () => { await t?.close(); });

  test('the owner writes a pattern and reads it back', async () => {
    assert.deepEqual(await probe('a', A_GPA, 0xab), { vmId: vm.a, gpa: A_GPA, outcome: 'value', value: 0xab, wrote: true });
    assert.equal((await probe('a', A_GPA + 1, 0xcd)).value, 0xcd);
  });

  test('nothing mapped reads as unmapped; above 4 GiB is refused', async () => {
    assert.equal((await probe('b', B_GPA)).outcome, 'unmapped');
    const r = await call(t.app, 'POST', `/v1/vms/${vm.a}/probe`, { gpa: 2 ** 32 });
    assert.equal(r.status, 422);
    assert.equal(r.json.code, 'probe.out_of_range');
  });

  test('a read-only grantee reads the pattern and its write traps, memory unchanged', async () => {
    const share = await call(t.app, 'POST', `/v1/files/${owner.id}/shares`, { vmId: vm.b, permissions: ['read'] });
    assert.equal(share.status, 201);
    assert.equal(share.json.role, 'grantee');
    const bind = await call(t.app, 'POST', `/v1/files/${share.json.id}/bindings`, { gpa: B_GPA, offset: 0, size: MiB });
    assert.equal(bind.status, 201);
    assert.equal(bind.json.kind, 'view');
    assert.equal(bind.json.readonly, true);
    assert.equal((await probe('b', B_GPA)).value, 0xab);
    assert.deepEqual(await probe('b', B_GPA, 0x11), { vmId: vm.b, gpa: B_GPA, outcome: 'write_trapped', value: 0xab });
    assert.equal((await probe('a', A_GPA)).value, 0xab, 'the owner still sees the pattern');
  });

  test('a read-write grantee at another guest address writes what the owner reads', async () => {
    const share = await call(t.app, 'POST', `/v1/files/${owner.id}/shares`, { vmId: vm.c, permissions: ['read', 'write'] });
    const bind = await call(t.app, 'POST', `/v1/files/${share.json.id}/bindings`, { gpa: C_GPA, offset: 0, size: MiB });
    assert.equal(bind.json.readonly, false);
    assert.equal((await probe('c', C_GPA + 1)).value, 0xcd, 'same page, different gfn');
    assert.equal((await probe('c', C_GPA + 0x10, 0x5c)).wrote, true);
    assert.equal((await probe('a', A_GPA + 0x10)).value, 0x5c);
    assert.equal((await probe('b', B_GPA + 0x10)).value, 0x5c);
  });

  test('grants never exceed the granter; allocate stays with the owner; one file per VM', async () => {
    const bFile = (await call(t.app, 'GET', `/v1/files?vmId=${vm.b}&state=open`)).json.items[0];
    const vmD = (await call(t.app, 'POST', '/v1/vms', { name: 'share-d' })).json.id;
    const esc = await call(t.app, 'POST', `/v1/files/${owner.id}/shares`, { vmId: vmD, permissions: ['read', 'allocate'] });
    assert.equal(esc.status, 403);
    assert.equal(esc.json.code, 'file.permission_escalation');
    const noShare = await call(t.app, 'POST', `/v1/files/${bFile.id}/shares`, { vmId: vmD, permissions: ['read'] });
    assert.equal(noShare.json.code, 'file.permission_denied');
    const dup = await call(t.app, 'POST', `/v1/files/${owner.id}/shares`, { vmId: vm.b, permissions: ['read'] });
    assert.equal(dup.json.code, 'file.already_open');
    const punch = await call(t.app, 'POST', `/v1/files/${bFile.id}/punch-hole`, { offset: 0, length: 4096 });
    assert.equal(punch.json.code, 'file.permission_denied');
    assert.ok(events('file.share').some((e) => e.outcome === 'denied' && e.error_code === 'file.permission_escalation'));
  });

  test('a punch hole zeroes the range for every VM', async () => {
    assert.equal((await call(t.app, 'POST', `/v1/files/${owner.id}/punch-hole`, { offset: 0, length: 4096 })).status, 200);
    for (const [v, gpa] of [['a', A_GPA], ['b', B_GPA], ['c', C_GPA]] as const) {
      assert.equal((await probe(v, gpa)).value, 0, `VM ${v} reads zero`);
    }
  });

  test('narrowing write to read makes the next write trap', async () => {
    const cFile = (await call(t.app, 'GET', `/v1/files?vmId=${vm.c}&state=open`)).json.items[0];
    assert.equal((await probe('c', C_GPA, 0x77)).wrote, true);
    const n = await call(t.app, 'PATCH', `/v1/files/${cFile.id}`, { permissions: ['read'] });
    assert.equal(n.status, 200);
    assert.deepEqual(n.json.permissions, ['read']);
    const b = (await call(t.app, 'GET', `/v1/bindings?fileId=${cFile.id}&state=active`)).json.items[0];
    assert.equal(b.readonly, true);
    assert.deepEqual(await probe('c', C_GPA, 0x78), { vmId: vm.c, gpa: C_GPA, outcome: 'write_trapped', value: 0x77 });
    const widen = await call(t.app, 'PATCH', `/v1/files/${cFile.id}`, { permissions: ['read', 'write'] });
    assert.equal(widen.json.code, 'file.not_narrowing');
  });

  test('revoke deletes the grantee\'s memslots: it reads nothing mapped', async () => {
    const bFile = (await call(t.app, 'GET', `/v1/files?vmId=${vm.b}&state=open`)).json.items[0];
    const r = await call(t.app, 'POST', `/v1/files/${bFile.id}/revoke`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.json.closedFiles, [bFile.id]);
    assert.equal(r.json.deletedBindings.length, 1);
    assert.equal((await probe('b', B_GPA)).outcome, 'unmapped');
    assert.equal((await probe('a', A_GPA)).value, 0x77, 'the owner is untouched (and sees what C wrote before narrowing)');
    assert.equal((await call(t.app, 'POST', `/v1/files/${owner.id}/revoke`)).json.code, 'file.not_grantee');
    assert.deepEqual(events('file.revoke').map((e) => e.outcome), ['ok', 'denied']);
  });

  test('the inode shows every VM\'s file and binding', async () => {
    const d = (await call(t.app, 'GET', `/v1/inodes/${inode.id}`)).json;
    assert.deepEqual(d.files.map((f: { vmId: string }) => f.vmId).sort(), [vm.a, vm.c].sort());
    assert.equal(d.bindings.length, 2);
  });

  test('the probe leaves no trace in the VM\'s memslots: its code page and slot are free again', async () => {
    const codeGpa = 2 ** 32 - 4096; // where the probe puts its code when that page is free
    const before = (await call(t.app, 'GET', `/v1/bindings?vmId=${vm.a}&state=active`)).json.items.length;
    assert.equal((await probe('a', A_GPA)).outcome, 'value');
    const b = await call(t.app, 'POST', `/v1/files/${owner.id}/bindings`, { gpa: codeGpa, offset: MiB, size: 4096, slot: 32763 });
    assert.equal(b.status, 201, 'the kernel accepts a memslot at the probe\'s code page and slot');
    assert.equal((await call(t.app, 'GET', `/v1/bindings?vmId=${vm.a}&state=active`)).json.items.length, before + 1);
    assert.equal((await probe('a', A_GPA)).outcome, 'value', 'with those taken, the probe finds another page and slot');
    assert.equal((await call(t.app, 'DELETE', `/v1/bindings/${b.json.id}`)).status, 200);
  });

  test('a private inode cannot be shared, donated or migrated', async () => {
    const p = (await call(t.app, 'POST', '/v1/inodes', { ownerVmId: vm.a, size: MiB, shareable: false })).json;
    assert.equal(p.inode.shareable, false);
    const s = await call(t.app, 'POST', `/v1/files/${p.file.id}/shares`, { vmId: vm.b, permissions: ['read'] });
    assert.equal(s.status, 409);
    assert.equal(s.json.code, 'inode.not_shareable');
    assert.equal((await call(t.app, 'POST', `/v1/files/${p.file.id}/donate`, { vmId: vm.b })).json.code, 'inode.not_shareable');
    const m = await call(t.app, 'POST', '/v1/migrations', { sourceVmId: vm.a, targetVmId: vm.b });
    assert.equal(m.json.code, 'inode.not_shareable');
  });
});
