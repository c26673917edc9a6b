// Decisions made while earlier requests' records wait for their batch still see them: two
// binds racing for one guest range, two binds without a slot, two VMs of one name. And a
// command waiting for the kernel is one group commit waits for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { call, describeBackends, makeApp, MiB } from '../../support/app.js';
import { ledgerViolations } from '../../support/ledger-invariants.js';
import { ok, run } from '../../../src/services/pipeline/run.js';
import { SYSTEM_CALLER } from '../../../src/reconcile/startup.js';

describeBackends('read-your-writes under group commit', (kind) => {
  test('racing requests are decided as if one came after the other, and share one commit', async () => {
    const t = await makeApp(kind);
    try {
      const vm = (await call(t.app, 'POST', '/v1/vms', { name: 'r' })).json;
      const { file } = (await call(t.app, 'POST', '/v1/inodes', { ownerVmId: vm.id, size: 8 * MiB })).json;
      const batches = t.store.uow.stats.batches;
      const same = await Promise.all([0, 1].map(() => call(t.app, 'POST', `/v1/files/${file.id}/bindings`, { gpa: 0, offset: 0, size: MiB })));
      assert.deepEqual(same.map((r) => r.status).sort(), [201, 409]);
      assert.equal(same.find((r) => r.status === 409)!.json.code, 'binding.gpa_overlap', 'refused by the ledger, not by the kernel (EEXIST)');
      const apart = await Promise.all([1, 2, 3].map((i) => call(t.app, 'POST', `/v1/files/${file.id}/bindings`, { gpa: i * 2 * MiB, offset: i * 2 * MiB, size: MiB })));
      assert.deepEqual(apart.map((r) => r.status), [201, 201, 201]);
      assert.equal(new Set(apart.map((r) => r.json.slot)).size, 3, 'each got its own slot');
      assert.ok(t.store.uow.stats.batches - batches < 5, `5 binds in 2 rounds: fewer commits than requests (${t.store.uow.stats.batches - batches})`);
      const names = await Promise.all([0, 1].map(() => call(t.app, 'POST', '/v1/vms', { name: 'twin' })));
      assert.deepEqual(names.map((r) => r.status).sort(), [201, 409]);
      assert.deepEqual(ledgerViolations(t.store.ledger.sqlite), []);
    } finally { await t.close(); }
  });
});

test('a command whose kernel call is in flight counts as a writer about to join the next batch', async () => {
  const t = await makeApp('simulated');
  try {
    let land!: (r: { ok: true; value: undefined } | { ok: false; error: Error }) => void;
    const started: Promise<void>[] = [];
    const command = () => {
      let begun!: () => void;
      started.push(new Promise<void>((resolve) => { begun = resolve; }));
      return run(t.ctx, SYSTEM_CALLER, {
        action: 'vm.probe', keys: [],
        decide: () => ok({
          steps: [{ id: 'k', run: () => ({ ok: true, value: undefined }),
            start: () => { begun(); return new Promise((resolve) => { land = resolve as typeof land; }); } }],
          record: (rec) => { rec.event('vm.probe', {}); },
        }),
      });
    };
    const one = command();
    await started[0];
    assert.equal(t.store.uow.joining(), 1, 'the write it will make is expected');
    land({ ok: true, value: undefined });
    assert.deepEqual(await one, { ok: true, value: undefined });
    assert.equal(t.store.uow.joining(), 0);
    // A call that rejects (koffi refused its arguments) stops counting too.
    const two = command();
    await started[1];
    assert.equal(t.store.uow.joining(), 1);
    (land as unknown as (r: unknown) => void)(Promise.reject(new Error('refused')));
    assert.equal((await two).ok, false);
    assert.equal(t.store.uow.joining(), 0);
  } finally { await t.close(); }
});
