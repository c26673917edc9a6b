import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { AuditQueries } from '../../../src/store/audit/audit-queries.js';
import { buildScenario, type Scenario } from '../../support/audit-scenario.js';

describe('audit lineage query (chain of owners)', () => {
  let s: Scenario;
  let q: AuditQueries;
  before(() => { s = buildScenario(); q = new AuditQueries(s.store.ledger.sqlite); });
  after(() => s.cleanup());

  test('create, then ok ownership donations and migrations; denied and grantee moves left out', () => {
    const r = q.lineage(s.ino1.id);
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual(r.value.items, [
      { seq: s.seq.create, time: s.t.create, actor: 'local', action: 'inode.create', fromVmId: null, toVmId: s.vms.a.id,
        fromFileId: null, toFileId: s.files.fa.id, migrationId: null, requestId: null },
      { seq: s.seq.donateC, time: s.t.donateC, actor: 'local', action: 'file.donate', fromVmId: s.vms.a.id, toVmId: s.vms.c.id,
        fromFileId: s.files.fa.id, toFileId: s.files.fc.id, migrationId: null, requestId: null },
      { seq: s.seq.migrateE, time: s.t.migrateE, actor: 'local', action: 'file.migrate', fromVmId: s.vms.c.id, toVmId: s.vms.e.id,
        fromFileId: s.files.fc.id, toFileId: s.files.fe.id, migrationId: 'mig_01', requestId: null },
    ]);
    assert.equal(r.value.nextCursor, null);
  });

  test('an ownership event recorded without inode_id is still found through its file', () => {
    const { inode, file } = s.h.inode(s.vms.b.id);
    const to = s.h.transferOwner(file.id, s.vms.c.id);
    // Append one more, as a service that sets only fileId would.
    const again = s.store.uow.run(() => s.store.chain.append({ actor: 'svc', action: 'file.donate', outcome: 'ok', fileId: to.id,
      details: { fromVmId: s.vms.c.id, toVmId: s.vms.d.id, fromFileId: to.id, toFileId: to.id, role: 'owner' } }));
    const r = q.lineage(inode.id);
    assert.ok(r.ok);
    assert.deepEqual(r.value.items.map((x) => [x.action, x.toVmId]), [
      ['inode.create', s.vms.b.id], ['file.donate', s.vms.c.id], ['file.donate', s.vms.d.id]]);
    assert.equal(r.value.items[2]!.seq, again.seq);
  });

  test('pages by seq; unknown inode is not found', () => {
    const p1 = q.lineage(s.ino1.id, { limit: 2 });
    assert.ok(p1.ok && p1.value.nextCursor);
    const p2 = q.lineage(s.ino1.id, { limit: 2, cursor: p1.value.nextCursor });
    assert.ok(p2.ok);
    assert.deepEqual(p2.value.items.map((x) => x.seq), [s.seq.migrateE]);
    const r = q.lineage('ino_01hf7yat5m3c6sjpz972bwmwzz');
    assert.equal(!r.ok && r.error.code, 'inode.not_found');
  });
});
