// No memslot outlives the mapping under it (KERNEL.md, probe-stale-view.c): releasing an inode
// is refused while a memslot points into its mapping, and a region outside the binding's own
// mapping is never issued. On both backends, observed through the kernel (held mappings, probe).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeBackends, makeApp, MiB } from '../support/app.js';
import { LOCAL_CALLER } from '../../src/services/context.js';
import { createVm } from '../../src/services/vm-service.js';
import { createInode } from '../../src/services/inode-service.js';
import { createBinding } from '../../src/services/binding-service.js';
import { createMemslot, deleteMemslot, releaseGmem } from '../../src/services/memslots.js';

const GPA = 0x4000_0000;

describeBackends('memslots', (kind) => {
  test('an inode with a memslot into its mapping is not unmapped; once the memslot is gone it is', async () => {
    const t = await makeApp(kind);
    try {
      const vm = await createVm(t.ctx, LOCAL_CALLER, { name: 'm' });
      assert.ok(vm.ok);
      const ino = await createInode(t.ctx, LOCAL_CALLER, { ownerVmId: vm.value.id, size: 2 * MiB });
      assert.ok(ino.ok);
      const b = await createBinding(t.ctx, LOCAL_CALLER, ino.value.file.id, { gpa: GPA, offset: 0, size: MiB });
      assert.ok(b.ok);
      const mapping = t.ctx.registry.gmem(ino.value.inode.id)!.mapping!;
      const held = () => { const m = t.kvm.heldMappings(); assert.ok(m.ok); return m.value.some((x) => x.start === mapping.addr); };
      const vmFd = t.ctx.registry.vmFd(vm.value.id)!;
      const probe = (write?: number) => { const r = t.kvm.probe(vmFd, { gpa: BigInt(GPA + 0x40), write, codeGpa: 0xf000_0000n, codeSlot: 32000 }); assert.ok(r.ok); return r.value; };
      assert.deepEqual(probe(0x3c), { kind: 'value', value: 0x3c, wrote: true });

      const refused = releaseGmem(t.ctx, ino.value.inode.id);
      assert.equal(!refused.ok && refused.error.code, 'memslot.mapping_in_use');
      assert.ok(held(), 'the mapping is still there');
      assert.ok(t.ctx.registry.gmem(ino.value.inode.id), 'the handle is kept');
      assert.deepEqual(probe(), { kind: 'value', value: 0x3c, wrote: false });

      assert.ok(deleteMemslot(t.ctx, b.value).ok);
      assert.deepEqual(probe(), { kind: 'unmapped' });
      assert.ok(releaseGmem(t.ctx, ino.value.inode.id).ok);
      assert.equal(held(), false, 'unmapped once nothing points into it');
      assert.equal(t.ctx.registry.gmem(ino.value.inode.id), undefined);
    } finally {
      await t.close();
    }
  });

  test('a region outside the binding\'s own mapping is refused before the kernel is called', async () => {
    const t = await makeApp(kind);
    try {
      const vm = await createVm(t.ctx, LOCAL_CALLER, { name: 'm' });
      assert.ok(vm.ok);
      const a = await createInode(t.ctx, LOCAL_CALLER, { ownerVmId: vm.value.id, size: 2 * MiB });
      const s = await createInode(t.ctx, LOCAL_CALLER, { ownerVmId: vm.value.id, size: 2 * MiB });
      assert.ok(a.ok && s.ok);
      const ma = t.ctx.registry.gmem(a.value.inode.id)!.mapping!, ms = t.ctx.registry.gmem(s.value.inode.id)!.mapping!;
      // The report's attack: the distance from A's mapping to S's, as an offset into A.
      const toS = Number(ms.addr - ma.addr);
      for (const offset of [toS, -2 * MiB, 2 * MiB, 2 ** 53, -(2 ** 60)]) {
        for (const kindOfSlot of ['view', 'gmem'] as const) {
          const r = createMemslot(t.ctx, { vmId: vm.value.id, inodeId: a.value.inode.id, slot: 7, gpa: GPA, offset, size: 4096, kind: kindOfSlot, readonly: false });
          assert.equal(!r.ok && 'code' in r.error && r.error.code, 'memslot.outside_mapping', `offset ${offset}`);
        }
      }
      assert.equal(t.ctx.registry.memslots.get(vm.value.id), undefined, 'no memslot was issued');
      const r = t.kvm.probe(t.ctx.registry.vmFd(vm.value.id)!, { gpa: BigInt(GPA), codeGpa: 0xf000_0000n, codeSlot: 32000 });
      assert.deepEqual(r.ok && r.value, { kind: 'unmapped' });
    } finally {
      await t.close();
    }
  });
});
