// With the ledger's overlap check bypassed, the kernel path refuses on its own: the
// memslot really exists in the kernel, and its refusal is reported with errno and audited.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeBackends, makeApp, MiB } from '../support/app.js';
import { LOCAL_CALLER } from '../../src/services/context.js';
import { createVm } from '../../src/services/vm-service.js';
import { createInode } from '../../src/services/inode-service.js';
import { createBinding } from '../../src/services/binding-service.js';

describeBackends('binding service', (kind) => {
    test('a second binding over the same guest range is refused by the kernel: EEXIST', async () => {
      const t = await makeApp(kind);
      try {
        const vm = await createVm(t.ctx, LOCAL_CALLER, { name: 'k' });
        assert.ok(vm.ok);
        const ino = await createInode(t.ctx, LOCAL_CALLER, { ownerVmId: vm.value.id, size: 4 * MiB });
        assert.ok(ino.ok);
        const first = await createBinding(t.ctx, LOCAL_CALLER, ino.value.file.id, { gpa: 0x100000, offset: 0, size: MiB });
        assert.ok(first.ok);
        const second = await createBinding(t.ctx, LOCAL_CALLER, ino.value.file.id, { gpa: 0x100000, offset: 2 * MiB, size: MiB }, { ledgerChecks: false });
        assert.equal(second.ok, false);
        assert.equal(!second.ok && second.error.code, 'kernel.eexist');
        assert.deepEqual(!second.ok && second.error.details, { errno: 'EEXIST', operation: 'KVM_SET_USER_MEMORY_REGION2' });
        const ev = t.store.ledger.sqlite.prepare('SELECT outcome, errno, operation FROM events ORDER BY seq DESC LIMIT 1').get();
        assert.deepEqual(ev, { outcome: 'failed', errno: 'EEXIST', operation: 'KVM_SET_USER_MEMORY_REGION2' });
        assert.equal(t.store.bindings.activeByVm(vm.value.id).length, 1);
        // The same for a gmem offset overlap at a free guest range: EINVAL in 6.18.
        const third = await createBinding(t.ctx, LOCAL_CALLER, ino.value.file.id, { gpa: 0x800000, offset: 0, size: MiB }, { ledgerChecks: false });
        assert.equal(!third.ok && third.error.code, 'kernel.einval');
      } finally {
        await t.close();
      }
    });

    test('in-process callers skip the HTTP schema: the domain still refuses hostile numbers first, overlap checks off or not', async () => {
      const t = await makeApp(kind);
      try {
        const vm = await createVm(t.ctx, LOCAL_CALLER, { name: 'h' });
        assert.ok(vm.ok);
        const ino = await createInode(t.ctx, LOCAL_CALLER, { ownerVmId: vm.value.id, size: 2 * MiB });
        assert.ok(ino.ok);
        const cases: [{ gpa: number; offset: number; size: number }, string][] = [
          [{ gpa: MiB, offset: -2 * MiB, size: 4096 }, 'request.invalid'],
          [{ gpa: MiB, offset: 4096.5, size: 4096 }, 'request.invalid'],
          [{ gpa: MiB, offset: 2 ** 64, size: 4096 }, 'request.invalid'],
          [{ gpa: MiB, offset: 2 ** 53 - 4096, size: 8192 }, 'binding.out_of_bounds'],
          [{ gpa: 2 ** 46, offset: 0, size: 4096 }, 'binding.gpa_out_of_range'],
          [{ gpa: MiB, offset: 0, size: 0 }, 'binding.empty'],
        ];
        for (const [input, code] of cases) {
          for (const ledgerChecks of [true, false]) {
            const r = await createBinding(t.ctx, LOCAL_CALLER, ino.value.file.id, input, { ledgerChecks });
            assert.equal(!r.ok && r.error.code, code, JSON.stringify(input));
            const ev = t.store.ledger.sqlite.prepare('SELECT outcome, error_code FROM events ORDER BY seq DESC LIMIT 1').get();
            assert.deepEqual(ev, { outcome: 'denied', error_code: code });
          }
        }
        assert.equal(t.store.bindings.activeByVm(vm.value.id).length, 0);
        assert.equal(t.ctx.registry.memslots.has(vm.value.id), false, 'no memslot reached the kernel');
      } finally {
        await t.close();
      }
    });
});
