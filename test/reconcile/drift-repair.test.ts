// On-demand reconcile on both backends. Drift is made two ways: kernel state changed behind
// gmemd's back (memslots deleted or created, fds closed, a mapping removed) and ledger rows
// edited directly. Each difference is reported with its kind and recorded as a
// reconcile.drift event; repair makes kernel and ledger agree (checked in the kernel with the
// memslot probe and from inside the guest), each repair a reconcile.repair event.
import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { memslotExists } from '../../src/kvm/memslot-probe.js';
import { MEM } from '../../src/kvm/uapi.js';
import { buildApp } from '../../src/http/app.js';
import { call, describeBackends, makeApp, MiB, type TestApp } from '../support/app.js';
import { ledgerViolations } from '../support/ledger-invariants.js';

describeBackends('reconcile drift and repair', (kind) => {
  let t: TestApp;
  let a: string, b: string, ownerBinding: { id: string; slot: number }, viewBinding: { id: string; slot: number }, inodeId: string;
  const sql = (q: string, ...p: unknown[]) => t.store.ledger.sqlite.prepare(q).run(...p);
  const reconcile = async (body: object = {}) => {
    const r = await call(t.app, 'POST', '/v1/reconcile', body);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    return r.json;
  };
  const kinds = (items: { kind: string }[]) => items.map((d) => d.kind).sort();
  const exists = (vmId: string, slot: number) => {
    const r = memslotExists(t.kvm, t.ctx.registry.vmFd(vmId)!, slot);
    assert.ok(r.ok);
    return r.value;
  };
  const probe = async (vmId: string, gpa: number, write?: number) =>
    (await call(t.app, 'POST', `/v1/vms/${vmId}/probe`, write === undefined ? { gpa } : { gpa, write })).json;
  const events = (action: string) => t.store.ledger.sqlite.prepare('SELECT outcome, errno, details FROM events WHERE action = ? ORDER BY seq').all(action) as { outcome: string; errno: string | null; details: string }[];

  beforeEach(async () => {
    t = await makeApp(kind);
    a = (await call(t.app, 'POST', '/v1/vms', { name: 'drift-a' })).json.id;
    b = (await call(t.app, 'POST', '/v1/vms', { name: 'drift-b' })).json.id;
    const ino = (await call(t.app, 'POST', '/v1/inodes', { ownerVmId: a, size: 2 * MiB })).json;
    inodeId = ino.inode.id;
    ownerBinding = (await call(t.app, 'POST', `/v1/files/${ino.file.id}/bindings`, { gpa: 0x100000, offset: 0, size: MiB })).json;
    const g = (await call(t.app, 'POST', `/v1/files/${ino.file.id}/shares`, { vmId: b, permissions: ['read'] })).json;
    viewBinding = (await call(t.app, 'POST', `/v1/files/${g.id}/bindings`, { gpa: 0x200000, offset: 0, size: MiB })).json;
    assert.equal((await probe(a, 0x100000, 0x5a)).value, 0x5a);
  });
  afterEach(async () => { await t.close(); });

  test('ledger and kernel agree: nothing to report, no event written', async () => {
    const before = t.store.chain.getHead().seq;
    const r = await reconcile();
    assert.deepEqual(r.drift, []);
    assert.deepEqual(r.checked, { vms: 2, inodes: 1, files: 2, bindings: 2, memslots: 2 });
    assert.equal(t.store.chain.getHead().seq, before);
  });

  test('a memslot deleted behind gmemd\'s back is memslot_missing; repair re-creates it and the guest reads again', async () => {
    const fd = t.ctx.registry.vmFd(b)!;
    assert.ok(t.kvm.setUserMemoryRegion2(fd, { slot: viewBinding.slot, flags: 0, guestPhysAddr: 0n, memorySize: 0n, userspaceAddr: 0n, guestMemfd: 0, guestMemfdOffset: 0n }).ok);
    assert.equal((await probe(b, 0x200000)).outcome, 'unmapped');
    const found = await reconcile();
    assert.deepEqual(kinds(found.drift), ['memslot_missing']);
    assert.equal(found.drift[0].bindingId, viewBinding.id);
    assert.equal(events('reconcile.drift').length, 1);
    const fixed = await reconcile({ repair: true });
    assert.deepEqual(fixed.repairs.map((x: { action: string; ok: boolean }) => [x.action, x.ok]), [['recreated', true]]);
    assert.deepEqual(fixed.remaining, []);
    assert.equal(exists(b, viewBinding.slot), true);
    assert.equal((await probe(b, 0x200000)).value, 0x5a, 'the re-created view reaches the same memory');
    assert.deepEqual((await probe(b, 0x200000, 1)).outcome, 'write_trapped', 're-created read-only, as the file allows');
    assert.equal(events('reconcile.repair').length, 1);
  });

  test('a binding edited to deleted in the ledger is memslot_unexpected; repair deletes the memslot', async () => {
    sql("UPDATE bindings SET state = 'deleted', ended_at = 1 WHERE id = ?", viewBinding.id);
    const found = await reconcile();
    assert.deepEqual(kinds(found.drift), ['memslot_unexpected']);
    assert.equal(found.drift[0].slot, viewBinding.slot);
    const fixed = await reconcile({ repair: true });
    assert.deepEqual(fixed.remaining, []);
    assert.equal(exists(b, viewBinding.slot), false);
    assert.equal((await probe(b, 0x200000)).outcome, 'unmapped');
  });

  test('a binding edited to another guest address is memslot_mismatch; repair re-creates it there', async () => {
    sql('UPDATE bindings SET gpa = ? WHERE id = ?', 0x400000, viewBinding.id);
    assert.deepEqual(kinds((await reconcile()).drift), ['memslot_mismatch']);
    assert.deepEqual((await reconcile({ repair: true })).remaining, []);
    assert.equal((await probe(b, 0x400000)).value, 0x5a);
    assert.equal((await probe(b, 0x200000)).outcome, 'unmapped');
  });

  test('a memslot gmemd never created is found only by the slot sweep, and repair deletes it', async () => {
    const fd = t.ctx.registry.vmFd(a)!;
    const mapping = t.ctx.registry.gmem(inodeId)!.mapping!;
    assert.ok(t.kvm.setUserMemoryRegion2(fd, { slot: 500, flags: MEM.READONLY, guestPhysAddr: 0x800000n, memorySize: 0x1000n, userspaceAddr: mapping.addr, guestMemfd: 0, guestMemfdOffset: 0n }).ok);
    assert.deepEqual((await reconcile()).drift, [], 'untracked: invisible without the sweep');
    const swept = await reconcile({ sweepSlots: true });
    assert.deepEqual(kinds(swept.drift), ['memslot_unexpected']);
    assert.match(swept.drift[0].message, /did not create/);
    assert.deepEqual((await reconcile({ repair: true, sweepSlots: true })).remaining, []);
    assert.equal(exists(a, 500), false);
  });

  test('a refused repair is audited failed with its errno and changes nothing', async () => {
    const fd = t.ctx.registry.vmFd(b)!;
    assert.ok(t.kvm.setUserMemoryRegion2(fd, { slot: viewBinding.slot, flags: 0, guestPhysAddr: 0n, memorySize: 0n, userspaceAddr: 0n, guestMemfd: 0, guestMemfdOffset: 0n }).ok);
    // Something else now sits on the view's guest range: re-creating it collides (EEXIST).
    const mapping = t.ctx.registry.gmem(inodeId)!.mapping!;
    assert.ok(t.kvm.setUserMemoryRegion2(fd, { slot: 600, flags: 0, guestPhysAddr: 0x200000n, memorySize: 0x1000n, userspaceAddr: mapping.addr, guestMemfd: 0, guestMemfdOffset: 0n }).ok);
    const r = await reconcile({ repair: true });
    assert.deepEqual(r.repairs.map((x: { ok: boolean; errno?: string }) => [x.ok, x.errno]), [[false, 'EEXIST']]);
    assert.deepEqual(kinds(r.remaining), ['memslot_missing']);
    const failed = events('reconcile.repair');
    assert.deepEqual(failed.map((e) => [e.outcome, e.errno]), [['failed', 'EEXIST']]);
    assert.equal(t.store.bindings.get(viewBinding.id)!.state, 'active', 'the ledger is unchanged');
  });

  test('a guest_memfd closed behind gmemd\'s back: repair deletes the memslots into it and marks it lost', async () => {
    const gm = t.ctx.registry.gmem(inodeId)!;
    t.kvm.munmap(gm.mapping!.addr, gm.mapping!.length);
    t.kvm.close(gm.fd);
    const found = await reconcile();
    assert.deepEqual(kinds(found.drift), ['file_orphaned', 'file_orphaned', 'gmem_fd_missing']);
    const fixed = await reconcile({ repair: true });
    assert.deepEqual(fixed.lost.inodes, [inodeId]);
    assert.equal(fixed.lost.bindings.length, 2);
    assert.deepEqual(fixed.remaining, []);
    assert.equal(exists(a, ownerBinding.slot), false);
    assert.equal(exists(b, viewBinding.slot), false);
    assert.deepEqual(ledgerViolations(t.store.ledger.sqlite), []);
    assert.equal(t.store.inodes.get(inodeId)!.state, 'lost', 'marked, never deleted');
  });

  test('a VM fd closed behind gmemd\'s back: vm_fd_missing; repair marks the VM and what hangs off it lost', async () => {
    t.kvm.close(t.ctx.registry.vmFd(b)!);
    const found = await reconcile();
    assert.deepEqual(kinds(found.drift), ['file_orphaned', 'vm_fd_missing']);
    const fixed = await reconcile({ repair: true });
    assert.deepEqual(fixed.lost.vms, [b]);
    assert.deepEqual(fixed.remaining, []);
    assert.deepEqual(ledgerViolations(t.store.ledger.sqlite), []);
    assert.equal((await call(t.app, 'GET', `/v1/vms/${b}`)).json.vm.state, 'lost');
  });

  test('what the ledger cannot account for is reported, not touched: unknown fds, a missing mapping, a wrong inode number', async () => {
    const stray = t.kvm.createVm(0);
    assert.ok(stray.ok);
    const gm = t.ctx.registry.gmem(inodeId)!;
    sql('UPDATE inodes SET kernel_inode = kernel_inode + 1000 WHERE id = ?', inodeId);
    const r = await reconcile({ repair: true });
    assert.deepEqual(kinds(r.drift), ['inode_number_mismatch', 'mapping_missing', 'mapping_unexpected', 'vm_fd_unexpected']);
    assert.ok(r.drift.every((d: { repairable: boolean }) => !d.repairable));
    assert.deepEqual(r.repairs, []);
    assert.equal(t.kvm.fstat(stray.value).ok, true, 'the unknown VM fd is still open');
    t.kvm.close(stray.value);
    assert.ok(gm.mapping);
  });

  test('the test-only route that deletes a memslot exists only with GMEMD_TEST_HOOKS', async () => {
    const body = { vmId: b, slot: viewBinding.slot };
    assert.equal((await call(t.app, 'POST', '/_test/kernel/delete-memslot', body)).status, 404);
    const hooked = await buildApp({ ctx: t.ctx, lifecycle: { startup: null, handover: null, testHooks: true } });
    try {
      assert.equal((await call(hooked, 'POST', '/_test/kernel/delete-memslot', body)).status, 200);
      assert.deepEqual(kinds((await reconcile()).drift), ['memslot_missing']);
    } finally { await hooked.close(); }
  });
});
