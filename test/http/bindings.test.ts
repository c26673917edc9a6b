// Bindings are memslots: the kernel holds them, and both the ledger and the kernel refuse
// overlaps.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { describeBackends, call, makeApp, MiB, type TestApp } from '../support/app.js';

describeBackends('bindings over HTTP', (kind) => {
    let t: TestApp;
    let vm: { id: string };
    let file: { id: string };
    before(async () => {
      t = await makeApp(kind);
      vm = (await call(t.app, 'POST', '/v1/vms', { name: 'binder' })).json;
      file = (await call(t.app, 'POST', '/v1/inodes', { ownerVmId: vm.id, size: 4 * MiB })).json.file;
    });
    after(async () => { await t?.close(); });

    test('a gmem binding on the origin VM, listed and deletable', async () => {
      const b = await call(t.app, 'POST', `/v1/files/${file.id}/bindings`, { gpa: 0x100000, offset: 0, size: MiB });
      assert.equal(b.status, 201);
      assert.equal(b.json.kind, 'gmem');
      assert.equal(b.json.readonly, false);
      assert.equal(b.json.slot, 0);
      const list = await call(t.app, 'GET', `/v1/bindings?vmId=${vm.id}`);
      assert.deepEqual(list.json.items.map((x: { id: string }) => x.id), [b.json.id]);
      const del = await call(t.app, 'DELETE', `/v1/bindings/${b.json.id}`);
      assert.equal(del.status, 200);
      assert.equal(del.json.state, 'deleted');
      // The kernel really dropped it: the same range binds again.
      const again = await call(t.app, 'POST', `/v1/files/${file.id}/bindings`, { gpa: 0x100000, offset: 0, size: MiB });
      assert.equal(again.status, 201);
      await call(t.app, 'DELETE', `/v1/bindings/${again.json.id}`);
    });

    test('overlapping guest ranges and gmem offsets are refused with codes; nothing is written', async () => {
      const b = await call(t.app, 'POST', `/v1/files/${file.id}/bindings`, { gpa: 0x200000, offset: 0, size: MiB });
      assert.equal(b.status, 201);
      const gpa = await call(t.app, 'POST', `/v1/files/${file.id}/bindings`, { gpa: 0x280000, offset: 2 * MiB, size: MiB });
      assert.equal(gpa.status, 409);
      assert.equal(gpa.json.code, 'binding.gpa_overlap');
      assert.equal(gpa.json.bindingId, b.json.id);
      const off = await call(t.app, 'POST', `/v1/files/${file.id}/bindings`, { gpa: 0x800000, offset: 0x80000, size: MiB });
      assert.equal(off.json.code, 'binding.offset_overlap');
      const oob = await call(t.app, 'POST', `/v1/files/${file.id}/bindings`, { gpa: 0x900000, offset: 3 * MiB, size: 2 * MiB });
      assert.equal(oob.json.code, 'binding.out_of_bounds');
      const mis = await call(t.app, 'POST', `/v1/files/${file.id}/bindings`, { gpa: 0x900001, offset: 0, size: MiB });
      assert.equal(mis.json.code, 'binding.misaligned');
      const slot = await call(t.app, 'POST', `/v1/files/${file.id}/bindings`, { gpa: 0xa00000, offset: 3 * MiB, size: MiB, slot: b.json.slot });
      assert.equal(slot.json.code, 'binding.slot_in_use');
      const list = await call(t.app, 'GET', `/v1/bindings?vmId=${vm.id}&state=active`);
      assert.equal(list.json.items.length, 1);
    });

    test('unknown ids are 404 problems', async () => {
      const r = await call(t.app, 'POST', '/v1/files/file_00000000000000000000000000/bindings', { gpa: 0, offset: 0, size: 4096 });
      assert.equal(r.status, 404);
      assert.equal(r.json.code, 'file.not_found');
      assert.equal((await call(t.app, 'DELETE', '/v1/bindings/bind_00000000000000000000000000')).json.code, 'binding.not_found');
    });
});
