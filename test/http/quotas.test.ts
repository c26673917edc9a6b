// Quotas and wire bounds over real HTTP (inject), each test with its own ledger and limits:
// a refused create answers its 409 code, leaves exactly one denied event and creates no
// ledger row and no kernel object; concurrent creates cannot overrun a quota together;
// over-long ids, names and labels are 400s.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { totalmem } from 'node:os';
import { describeBackends, call, MiB } from '../support/app.js';
import { q, refusedAlone, withApp } from '../support/limits.js';

describeBackends('quotas and limits over HTTP', (kind) => {
  test('GET /v1/host shows the limits in force and each default on this host', async () => {
    await withApp(kind, { limits: { maxVms: 5 } }, async (t) => {
      const r = await call(t.app, 'GET', '/v1/host');
      assert.equal(r.status, 200);
      const l = r.json.limits;
      assert.equal(l.maxVms, 5);
      assert.equal(l.defaults.maxVms, 1024);
      assert.equal(l.defaults.memoryBudgetBytes, Math.floor(totalmem() / 2 / 4096) * 4096);
      assert.equal(l.memoryBudgetBytes, l.defaults.memoryBudgetBytes);
      assert.equal(l.maxBindingsPerVm, r.json.capabilities.nrMemslots - 1);
      assert.equal(l.maxInodeSizeBytes, Math.min(2 ** 40, l.memoryBudgetBytes));
      assert.equal(l.idempotencyTtlSeconds, 86400);
      assert.equal(l.wire.idMaxLength, 64);
      assert.equal(l.wire.pageLimitMax, 1000);
    });
  });

  test('quota.vms: the VM over the limit is refused and no kernel VM is created', async () => {
    await withApp(kind, { limits: { maxVms: 2 } }, async (t) => {
      for (const name of ['a', 'b']) assert.equal((await call(t.app, 'POST', '/v1/vms', { name })).status, 201);
      const p = await refusedAlone(t, 'vm.create', 409, 'quota.vms', () => call(t.app, 'POST', '/v1/vms', { name: 'c' }));
      assert.deepEqual([p.limit, p.used], [2, 2]);
      // A destroyed VM frees its place.
      const list = (await call(t.app, 'GET', '/v1/vms')).json.items;
      assert.equal((await call(t.app, 'DELETE', `/v1/vms/${list[0].id}`)).status, 200);
      assert.equal((await call(t.app, 'POST', '/v1/vms', { name: 'c' })).status, 201);
    });
  });

  test('quota.inodes: the inode over the count is refused and no guest_memfd is created', async () => {
    await withApp(kind, { limits: { maxInodes: 1 } }, async (t) => {
      const vm = (await call(t.app, 'POST', '/v1/vms', { name: 'owner' })).json;
      assert.equal((await call(t.app, 'POST', '/v1/inodes', { ownerVmId: vm.id, size: MiB })).status, 201);
      await refusedAlone(t, 'inode.create', 409, 'quota.inodes', () => call(t.app, 'POST', '/v1/inodes', { ownerVmId: vm.id, size: MiB }));
    });
  });

  test('quota.memory: live inodes stay within the budget; a size beyond it is refused on an empty host', async () => {
    await withApp(kind, { limits: { memoryBudgetBytes: 4 * MiB } }, async (t) => {
      const vm = (await call(t.app, 'POST', '/v1/vms', { name: 'owner' })).json;
      await refusedAlone(t, 'inode.create', 409, 'quota.memory', () => call(t.app, 'POST', '/v1/inodes', { ownerVmId: vm.id, size: 8 * MiB }));
      assert.equal((await call(t.app, 'POST', '/v1/inodes', { ownerVmId: vm.id, size: 3 * MiB })).status, 201);
      const p = await refusedAlone(t, 'inode.create', 409, 'quota.memory', () => call(t.app, 'POST', '/v1/inodes', { ownerVmId: vm.id, size: 2 * MiB }));
      assert.deepEqual([p.limit, p.used, p.requested, p.free], [4 * MiB, 3 * MiB, 2 * MiB, MiB]);
      assert.equal((await call(t.app, 'POST', '/v1/inodes', { ownerVmId: vm.id, size: MiB })).status, 201, 'what is left still fits');
      // 64 TiB is past the fixed bound of the wire schema: a 400 before any decision.
      assert.equal((await call(t.app, 'POST', '/v1/inodes', { ownerVmId: vm.id, size: 64 * 2 ** 40 })).status, 400);
    });
  });

  test('concurrent creates cannot overrun the memory budget or the VM count together', async () => {
    await withApp(kind, { limits: { memoryBudgetBytes: 4 * MiB, maxVms: 3 } }, async (t) => {
      const vm = (await call(t.app, 'POST', '/v1/vms', { name: 'owner' })).json;
      const inodes = await Promise.all([1, 2, 3, 4, 5].map(() => call(t.app, 'POST', '/v1/inodes', { ownerVmId: vm.id, size: 2 * MiB })));
      assert.deepEqual(inodes.map((r) => r.status).sort(), [201, 201, 409, 409, 409]);
      assert.equal(t.store.inodes.liveBytes(), 4 * MiB);
      const vms = await Promise.all(['v1', 'v2', 'v3', 'v4'].map((name) => call(t.app, 'POST', '/v1/vms', { name })));
      assert.deepEqual(vms.map((r) => r.json.code ?? r.status).sort(), [201, 201, 'quota.vms', 'quota.vms']);
      assert.equal(t.store.vms.countActive(), 3);
      assert.deepEqual([t.ctx.pipeline.pending.vms, t.ctx.pipeline.pending.inodes, t.ctx.pipeline.pending.inodeBytes], [0, 0, 0], 'every reservation released');
    });
  });

  test('quota.bindings: the binding over the per-VM limit is refused and the kernel has no memslot for it', async () => {
    await withApp(kind, { limits: { maxBindingsPerVm: 2 } }, async (t) => {
      const vm = (await call(t.app, 'POST', '/v1/vms', { name: 'binder' })).json;
      const file = (await call(t.app, 'POST', '/v1/inodes', { ownerVmId: vm.id, size: 4 * MiB })).json.file;
      const bind = (i: number) => call(t.app, 'POST', `/v1/files/${file.id}/bindings`, { gpa: (i + 1) * 16 * MiB, offset: i * MiB, size: MiB });
      // Three at once: the in-flight claims count, so only two pass.
      const first = await Promise.all([0, 1, 2].map(bind));
      assert.deepEqual(first.map((r) => r.json.code ?? r.status).sort(), [201, 201, 'quota.bindings']);
      const slots = t.ctx.registry.memslots.get(vm.id);
      assert.equal(slots?.size, 2);
      await refusedAlone(t, 'binding.create', 409, 'quota.bindings', () => bind(3));
      assert.equal(t.ctx.registry.memslots.get(vm.id)?.size, 2);
      const vmFd = t.ctx.registry.vmFd(vm.id)!;
      const { memslotExists } = await import('../../src/kvm/memslot-probe.js');
      const used = new Set(first.filter((r) => r.status === 201).map((r) => r.json.slot));
      for (let s = 0; s < 4; s++) assert.deepEqual(memslotExists(t.kvm, vmFd, s), { ok: true, value: used.has(s) }, `slot ${s}`);
    });
  });

  test('quota.bindings on a migration: the target cannot take more than its limit; nothing is prepared', async () => {
    await withApp(kind, { limits: { maxBindingsPerVm: 2 } }, async (t) => {
      const vm = async (name: string) => (await call(t.app, 'POST', '/v1/vms', { name })).json.id as string;
      const source = await vm('source'), target = await vm('target');
      const bindOn = async (owner: string, gpas: number[], firstSlot: number) => {
        const { file } = (await call(t.app, 'POST', '/v1/inodes', { ownerVmId: owner, size: 4 * MiB })).json;
        for (const [i, gpa] of gpas.entries()) {
          assert.equal((await call(t.app, 'POST', `/v1/files/${file.id}/bindings`, { gpa, offset: i * MiB, size: MiB, slot: firstSlot + i })).status, 201);
        }
      };
      // Slots and guest ranges apart, so the plan itself has no conflict: only the count is too high.
      await bindOn(source, [16 * MiB, 32 * MiB], 0);
      await bindOn(target, [64 * MiB], 5);
      const before = q(t, 'SELECT count(*) n FROM migrations');
      const p = await refusedAlone(t, 'migration.prepare', 409, 'quota.bindings',
        () => call(t.app, 'POST', '/v1/migrations', { sourceVmId: source, targetVmId: target }));
      assert.deepEqual([p.limit, p.used, p.requested], [2, 1, 2]);
      assert.equal(q(t, 'SELECT count(*) n FROM migrations'), before);
    });
  });

  test('ids, names, labels and page sizes past their bounds are 400s; a mutating one leaves a denied event only', async () => {
    await withApp(kind, {}, async (t) => {
      const long = 'a'.repeat(65);
      const get = await call(t.app, 'GET', `/v1/vms/${long}`);
      assert.equal(get.status, 400);
      assert.equal(get.json.code, 'request.invalid');
      assert.equal((await call(t.app, 'GET', `/v1/vms/${'a'.repeat(64)}`)).status, 404, 'at the bound: a well-formed id that names nothing');
      assert.equal((await call(t.app, 'GET', '/v1/vms/vm_x%20y')).status, 400, 'outside the safe set');
      assert.equal((await call(t.app, 'GET', `/v1/bindings?vmId=${long}`)).status, 400);
      assert.equal((await call(t.app, 'GET', `/v1/audit/events?inodeId=${'x'.repeat(60_000)}`)).status, 400);
      assert.equal((await call(t.app, 'GET', '/v1/vms?limit=1001')).status, 400);
      assert.equal((await call(t.app, 'GET', '/v1/vms?limit=1000')).status, 200);
      await refusedAlone(t, 'inode.create', 400, 'request.invalid', () => call(t.app, 'POST', '/v1/inodes', { ownerVmId: 'v'.repeat(60_000 / 2), size: MiB }));
      await refusedAlone(t, 'vm.create', 400, 'request.invalid', () => call(t.app, 'POST', '/v1/vms', { name: 'n'.repeat(129) }));
      const labels = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v']));
      await refusedAlone(t, 'vm.create', 400, 'request.invalid', () => call(t.app, 'POST', '/v1/vms', { name: 'many-labels', labels }));
      await refusedAlone(t, 'vm.create', 400, 'request.invalid', () => call(t.app, 'POST', '/v1/vms', { name: 'long-key', labels: { ['k'.repeat(64)]: 'v' } }));
      assert.equal((await call(t.app, 'POST', '/v1/vms', { name: 'n'.repeat(128), labels: { ['k'.repeat(63)]: 'v'.repeat(255) } })).status, 201);
      // The refused bodies did not reach the ledger: no event carries a 30 KB id.
      const biggest = (t.store.ledger.sqlite.prepare('SELECT max(length(details)) n FROM events').get() as { n: number }).n;
      assert.ok(biggest < 4096, `largest event details: ${biggest} bytes`);
    });
  });
});

