// When the record after a kernel change fails without a crash (provoked here by a trigger
// that refuses the write, as a constraint would), the runner undoes the kernel change and
// audits it; when it cannot undo, it refuses writes with 503 until a reconcile with repair.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { call, describeBackends, makeApp, MiB, type TestApp } from '../../support/app.js';
import { memslotExists } from '../../../src/kvm/memslot-probe.js';
import { ledgerViolations } from '../../support/ledger-invariants.js';

const refuse = (t: TestApp, name: string, when: string) =>
  t.store.ledger.sqlite.exec(`CREATE TRIGGER ${name} BEFORE ${when} BEGIN SELECT RAISE(ABORT, 'provoked by the test'); END`);
const allow = (t: TestApp, name: string) => t.store.ledger.sqlite.exec(`DROP TRIGGER ${name}`);
const lastEvent = (t: TestApp) => t.store.ledger.sqlite.prepare('SELECT action, outcome, error_code, details FROM events ORDER BY seq DESC LIMIT 1')
  .get() as { action: string; outcome: string; error_code: string | null; details: string };

async function vmWithFile(t: TestApp, name: string) {
  const vm = (await call(t.app, 'POST', '/v1/vms', { name })).json;
  const ino = (await call(t.app, 'POST', '/v1/inodes', { ownerVmId: vm.id, size: 4 * MiB })).json;
  return { vm, file: ino.file };
}

describeBackends('the runner undoes what the ledger could not record', (kind) => {
  test('a bind whose record fails: the memslot just created is deleted, the failure audited, the slot free again', async () => {
    const t = await makeApp(kind);
    try {
      const { vm, file } = await vmWithFile(t, 'u1');
      refuse(t, 'no_bindings', 'INSERT ON bindings');
      const r = await call(t.app, 'POST', `/v1/files/${file.id}/bindings`, { gpa: 0, offset: 0, size: MiB });
      assert.equal(r.status, 500);
      assert.equal(r.json.code, 'internal.error');
      assert.equal(r.json.undone, true);
      const e = lastEvent(t);
      assert.deepEqual([e.action, e.outcome, e.error_code], ['binding.create', 'failed', 'internal.error']);
      assert.equal(JSON.parse(e.details).undone, true);
      assert.match(JSON.parse(e.details).ledgerError, /provoked/);
      const fd = t.ctx.registry.vmFd(vm.id)!;
      assert.deepEqual(memslotExists(t.kvm, fd, 0), { ok: true, value: false }, 'the kernel holds no memslot the ledger lacks');
      allow(t, 'no_bindings');
      const again = await call(t.app, 'POST', `/v1/files/${file.id}/bindings`, { gpa: 0, offset: 0, size: MiB });
      assert.equal(again.status, 201, 'writes go on: nothing was left behind');
      assert.equal(again.json.slot, 0);
      assert.deepEqual(ledgerViolations(t.store.ledger.sqlite), []);
    } finally { await t.close(); }
  });

  test('an unbind whose record fails: the memslot just deleted is re-created', async () => {
    const t = await makeApp(kind);
    try {
      const { vm, file } = await vmWithFile(t, 'u2');
      const b = (await call(t.app, 'POST', `/v1/files/${file.id}/bindings`, { gpa: 0, offset: 0, size: MiB })).json;
      refuse(t, 'no_update', 'UPDATE ON bindings');
      const r = await call(t.app, 'DELETE', `/v1/bindings/${b.id}`);
      assert.equal(r.status, 500);
      assert.equal(r.json.undone, true);
      assert.deepEqual(memslotExists(t.kvm, t.ctx.registry.vmFd(vm.id)!, b.slot), { ok: true, value: true }, 'the memslot is back, as the ledger says');
      allow(t, 'no_update');
      assert.deepEqual((await call(t.app, 'POST', '/v1/reconcile', {})).json.drift, []);
    } finally { await t.close(); }
  });

  test('a revoke whose record fails: the grantee\'s memslots come back, and the intent is resolved', async () => {
    const t = await makeApp(kind);
    try {
      const { file } = await vmWithFile(t, 'u3');
      const other = (await call(t.app, 'POST', '/v1/vms', { name: 'u3-b' })).json;
      const g = (await call(t.app, 'POST', `/v1/files/${file.id}/shares`, { vmId: other.id, permissions: ['read'] })).json;
      const gb = (await call(t.app, 'POST', `/v1/files/${g.id}/bindings`, { gpa: 0, offset: 0, size: MiB })).json;
      refuse(t, 'no_close', "UPDATE OF state ON files WHEN NEW.state = 'closed'");
      const r = await call(t.app, 'POST', `/v1/files/${g.id}/revoke`);
      assert.equal(r.status, 500);
      assert.deepEqual(memslotExists(t.kvm, t.ctx.registry.vmFd(other.id)!, gb.slot), { ok: true, value: true });
      allow(t, 'no_close');
      assert.deepEqual((await call(t.app, 'POST', '/v1/reconcile', {})).json.drift, [], 'ledger and kernel agree, no intent left open');
      assert.equal((await call(t.app, 'POST', `/v1/files/${g.id}/revoke`)).status, 200);
    } finally { await t.close(); }
  });

  test('a change that cannot be undone stops writes with 503 until a reconcile with repair; both audited', async () => {
    const t = await makeApp(kind);
    try {
      const { file } = await vmWithFile(t, 'u4');
      // fallocate cannot be taken back.
      refuse(t, 'no_alloc', "INSERT ON events WHEN NEW.action = 'inode.allocate' AND NEW.outcome = 'ok'");
      const r = await call(t.app, 'POST', `/v1/files/${file.id}/allocate`, { offset: 0, length: MiB });
      assert.equal(r.status, 500);
      assert.equal(r.json.undone, false);
      const failed = lastEvent(t);
      assert.deepEqual([failed.action, failed.outcome], ['inode.allocate', 'failed']);
      assert.equal(JSON.parse(failed.details).writesRefused, true);
      allow(t, 'no_alloc');
      const refused = await call(t.app, 'POST', '/v1/vms', { name: 'u4-b' });
      assert.equal(refused.status, 503);
      assert.equal(refused.json.code, 'service.unavailable');
      assert.equal(refused.headers['retry-after'], '1');
      const denied = lastEvent(t);
      assert.deepEqual([denied.action, denied.outcome, denied.error_code], ['vm.create', 'denied', 'service.unavailable']);
      assert.equal((await call(t.app, 'POST', '/v1/reconcile', {})).status, 200);
      assert.equal((await call(t.app, 'POST', '/v1/vms', { name: 'u4-c' })).status, 503, 'a report alone does not lift it');
      assert.equal((await call(t.app, 'POST', '/v1/reconcile', { repair: true })).status, 200);
      assert.equal((await call(t.app, 'POST', '/v1/vms', { name: 'u4-d' })).status, 201);
    } finally { await t.close(); }
  });
});
