import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { AuditQueries } from '../../../src/store/audit/audit-queries.js';
import type { AuditEvent } from '../../../src/store/audit/event-rows.js';
import type { EventFilter } from '../../../src/store/audit/queries/events.js';
import { encodeCursor } from '../../../src/store/pagination.js';
import { buildScenario, type Scenario } from '../../support/audit-scenario.js';

describe('audit events query', () => {
  let s: Scenario;
  let q: AuditQueries;
  before(() => { s = buildScenario(); q = new AuditQueries(s.store.ledger.sqlite); });
  after(() => s.cleanup());

  const seqs = (f: EventFilter) => {
    const r = q.events(f);
    assert.ok(r.ok, JSON.stringify(r));
    return r.value.items.map((e) => e.seq);
  };
  /** Follows nextCursor to the end. */
  const all = (f: EventFilter): AuditEvent[] => {
    const out: AuditEvent[] = [];
    let cursor: string | undefined;
    for (;;) {
      const r = q.events({ ...f, ...(cursor ? { cursor } : {}) });
      assert.ok(r.ok);
      out.push(...r.value.items);
      if (!r.value.nextCursor) return out;
      cursor = r.value.nextCursor;
    }
  };

  test('unfiltered: every event in seq order, details parsed, hashes included', () => {
    const r = q.events();
    assert.ok(r.ok);
    assert.deepEqual(r.value.items.map((e) => e.seq), Array.from({ length: 19 }, (_, i) => i + 1));
    assert.equal(r.value.nextCursor, null);
    const share = r.value.items[s.seq.shareB! - 1]!;
    assert.deepEqual(share.details, { grantorFileId: s.files.fa.id, toVmId: s.vms.b.id, permissions: ['read', 'write'] });
    assert.match(share.hash, /^[0-9a-f]{64}$/);
    assert.equal(share.prevHash, r.value.items[s.seq.shareB! - 2]!.hash);
  });

  test('each filter selects by its column', () => {
    assert.deepEqual(seqs({ vmId: s.vms.b.id }), [2, 7, 8, 11, 12, 17, 18]);
    assert.deepEqual(seqs({ action: 'file.donate' }), [11, 13]);
    assert.deepEqual(seqs({ fileId: s.files.fb.id }), [7, 8, 11, 12]);
    assert.deepEqual(seqs({ inodeId: s.ino3.id }), [18, 19]);
    assert.deepEqual(seqs({ outcome: 'denied' }), [11]);
    assert.deepEqual(seqs({ since: s.t.revokeB, until: s.t.migrateE }), [12, 13, 14]);
  });

  test('filters combine', () => {
    assert.deepEqual(seqs({ vmId: s.vms.b.id, action: 'file.donate', outcome: 'denied' }), [11]);
    assert.deepEqual(seqs({ inodeId: s.ino1.id, since: s.t.donateC }), [13, 15, 16]);
    assert.deepEqual(seqs({ action: 'vm.create', until: s.t.vmC }), [1, 2]);
  });

  test('pages follow the cursor without gaps or repeats, in both orders', () => {
    const asc = all({ limit: 4 }).map((e) => e.seq);
    assert.deepEqual(asc, Array.from({ length: 19 }, (_, i) => i + 1));
    const desc = all({ limit: 3, order: 'desc' }).map((e) => e.seq);
    assert.deepEqual(desc, [...asc].reverse());
    const byVm = all({ vmId: s.vms.b.id, limit: 2 }).map((e) => e.seq);
    assert.deepEqual(byVm, [2, 7, 8, 11, 12, 17, 18]);
    const first = q.events({ limit: 5 });
    assert.ok(first.ok);
    assert.equal(first.value.nextCursor, encodeCursor('5'));
  });

  test('a cursor this service did not issue, or since after until, is refused', () => {
    for (const cursor of ['???', encodeCursor('vm_01hf7yat0angfsj4pfh8mr2137'), encodeCursor('-1'), 'bm90IGEgY3Vyc29y']) {
      const r = q.events({ cursor });
      assert.equal(!r.ok && r.error.code, 'audit.cursor_invalid', cursor);
    }
    const r = q.events({ since: 10, until: 5 });
    assert.equal(!r.ok && r.error.code, 'request.invalid');
  });

  test('limit is clamped to 1..1000', () => {
    const r = q.events({ limit: 0 });
    assert.ok(r.ok);
    assert.equal(r.value.items.length, 1);
  });
});
