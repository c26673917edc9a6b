import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { AuditQueries } from '../../../src/store/audit/audit-queries.js';
import type { ExposureKind } from '../../../src/store/audit/queries/exposure.js';
import { buildScenario, type Scenario } from '../../support/audit-scenario.js';

describe('audit exposure query', () => {
  let s: Scenario;
  let q: AuditQueries;
  beforeEach(() => { s = buildScenario(); q = new AuditQueries(s.store.ledger.sqlite); });
  afterEach(() => s.cleanup());

  const findings = (kind?: ExposureKind): Record<string, ExposureKind[]> => {
    const r = q.exposure(kind ? { kind } : {});
    assert.ok(r.ok, JSON.stringify(r));
    return Object.fromEntries(r.value.items.map((e) => [e.inodeId, e.findings]));
  };

  test('the scenario: ino1 shared and orphaned by its origin, ino3 write-shared, private ino2 absent', () => {
    assert.deepEqual(findings(), {
      [s.ino1.id]: ['multi_vm', 'origin_gone'],
      [s.ino3.id]: ['multi_vm', 'write_shared'],
    });
    const r = q.exposure();
    assert.ok(r.ok);
    const ino1 = r.value.items[0]!;
    assert.deepEqual(ino1.vmIds, [s.vms.d.id, s.vms.e.id].sort());
    assert.deepEqual([ino1.originVmId, ino1.originVmState, ino1.ownerVmId], [s.vms.a.id, 'destroyed', s.vms.e.id]);
    // Closed files (a's, b's, c's) are not exposure: only live ones are listed.
    assert.deepEqual(ino1.files.map((f) => f.fileId).sort(), [s.files.fd.id, s.files.fe.id].sort());
  });

  test('a grantee that re-shares makes a grant of a grant; it ends when that file leaves', () => {
    const onward = s.h.share(s.files.f3c.id, s.vms.d.id, ['read']);
    assert.deepEqual(findings('grant_of_grant'), { [s.ino3.id]: ['multi_vm', 'write_shared', 'grant_of_grant'] });
    const r = q.exposure({ kind: 'grant_of_grant' });
    assert.ok(r.ok);
    const f = r.value.items[0]!.files.find((x) => x.fileId === onward.id)!;
    assert.deepEqual([f.grantedByFileId, f.grantedByRole], [s.files.f3c.id, 'grantee']);
    s.h.revoke(onward.id);
    assert.deepEqual(findings('grant_of_grant'), {});
  });

  test('write sharing ends when the grant narrows to read, and starts with a writable grant', () => {
    s.h.narrow(s.files.f3c.id, ['read']);
    assert.deepEqual(findings('write_shared'), {});
    assert.deepEqual(findings('multi_vm'), { [s.ino1.id]: ['multi_vm', 'origin_gone'], [s.ino3.id]: ['multi_vm'] });
    s.h.share(s.files.f2.id, s.vms.c.id, ['read', 'write']);
    assert.deepEqual(Object.keys(findings('write_shared')), [s.ino2.id]);
  });

  test('origin gone only while the inode is live', () => {
    s.h.destroyVm(s.vms.d.id);
    s.h.destroyVm(s.vms.e.id); // ino1's last files close: released, no longer exposure
    assert.deepEqual(findings('origin_gone'), {});
    s.h.destroyVm(s.vms.b.id); // ino3 lives on in c: origin b gone, and c still writes as a grantee
    assert.deepEqual(findings(), { [s.ino3.id]: ['write_shared', 'origin_gone'] });
  });

  test('pages by inode id', () => {
    const p1 = q.exposure({ limit: 1 });
    assert.ok(p1.ok && p1.value.nextCursor);
    const p2 = q.exposure({ limit: 1, cursor: p1.value.nextCursor });
    assert.ok(p2.ok);
    assert.deepEqual([p1.value.items[0]!.inodeId, p2.value.items[0]!.inodeId, p2.value.nextCursor], [s.ino1.id, s.ino3.id, null]);
    const bad = q.exposure({ cursor: Buffer.from('42').toString('base64url') });
    assert.equal(!bad.ok && bad.error.code, 'audit.cursor_invalid');
  });
});
