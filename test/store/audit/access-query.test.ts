import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { AuditQueries } from '../../../src/store/audit/audit-queries.js';
import type { AccessHolder } from '../../../src/store/audit/queries/access.js';
import { buildScenario, type Scenario } from '../../support/audit-scenario.js';

const ALL = ['allocate', 'read', 'share', 'write'];

describe('audit access query (who could touch an inode at an instant)', () => {
  let s: Scenario;
  let q: AuditQueries;
  before(() => { s = buildScenario(); q = new AuditQueries(s.store.ledger.sqlite); });
  after(() => s.cleanup());

  /** [vm name, role, permissions] for each holder, by VM name. */
  const names = (): Record<string, string> => Object.fromEntries(Object.entries(s.vms).map(([n, v]) => [v.id, n]));
  const holders = (inodeId: string, at: { at?: number; atSeq?: number }) => {
    const r = q.access({ inodeId, ...at });
    assert.ok(r.ok, JSON.stringify(r));
    const n = names();
    return r.value.items.map((h: AccessHolder) => [n[h.vmId], h.role, h.permissions.join(',')]).sort();
  };

  test('from history, not current state: each step of the scenario', () => {
    const i = s.ino1.id;
    assert.deepEqual(holders(i, { at: s.t.create! - 1 }), []);
    assert.deepEqual(holders(i, { at: s.t.create! }), [['a', 'owner', ALL.join(',')]]);
    assert.deepEqual(holders(i, { at: s.t.shareB! + 5 }), [['a', 'owner', ALL.join(',')], ['b', 'grantee', 'read,write']]);
    assert.deepEqual(holders(i, { at: s.t.narrowB! }), [['a', 'owner', ALL.join(',')], ['b', 'grantee', 'read']]);
    assert.deepEqual(holders(i, { at: s.t.reshareD! }), [
      ['a', 'owner', ALL.join(',')], ['b', 'grantee', 'read'], ['c', 'grantee', 'read,share'], ['d', 'grantee', 'read']]);
    // The revoke ends b's period at that instant: [from, to) excludes its end.
    assert.deepEqual(holders(i, { at: s.t.revokeB! }), [['a', 'owner', ALL.join(',')], ['c', 'grantee', 'read,share'], ['d', 'grantee', 'read']]);
    assert.deepEqual(holders(i, { at: s.t.donateC! }), [['c', 'owner', ALL.join(',')], ['d', 'grantee', 'read']]);
    assert.deepEqual(holders(i, { at: s.t.migrateE! + 1000 }), [['d', 'grantee', 'read'], ['e', 'owner', ALL.join(',')]]);
  });

  test('periods carry their bounds (time and the event seq that began and ended them)', () => {
    const r = q.access({ inodeId: s.ino1.id, at: s.t.shareB! });
    assert.ok(r.ok);
    const b = r.value.items.find((h) => h.vmId === s.vms.b.id)!;
    assert.deepEqual(b, { vmId: s.vms.b.id, fileId: s.files.fb.id, role: 'grantee', permissions: ['read', 'write'],
      from: { time: s.t.shareB, seq: s.seq.shareB }, to: { time: s.t.narrowB, seq: s.seq.narrowB } });
    const open = q.access({ inodeId: s.ino1.id, at: s.t.share3! });
    assert.ok(open.ok);
    assert.equal(open.value.items.find((h) => h.vmId === s.vms.e.id)!.to, null);
  });

  test('atSeq separates events within one millisecond', () => {
    const h = s.h;
    const f = h.share(s.files.f3.id, s.vms.d.id, ['read', 'write']); // same ms as the next two
    const sharedAt = s.store.chain.getHead().seq;
    h.narrow(f.id, ['read']);
    const narrowedAt = s.store.chain.getHead().seq;
    h.revoke(f.id);
    const d = (atSeq: number) => holders(s.ino3.id, { atSeq }).filter(([vm]) => vm === 'd');
    assert.deepEqual(d(sharedAt), [['d', 'grantee', 'read,write']]);
    assert.deepEqual(d(narrowedAt), [['d', 'grantee', 'read']]);
    assert.deepEqual(d(narrowedAt + 1), []);
    // By time, the zero-length periods are empty: only what holds after the last of them shows.
    assert.deepEqual(holders(s.ino3.id, { at: s.clock.t }).filter(([vm]) => vm === 'd'), []);
  });

  test('pages by cursor', () => {
    const r1 = q.access({ inodeId: s.ino1.id, at: s.t.reshareD!, limit: 3 });
    assert.ok(r1.ok && r1.value.nextCursor);
    const r2 = q.access({ inodeId: s.ino1.id, at: s.t.reshareD!, limit: 3, cursor: r1.value.nextCursor });
    assert.ok(r2.ok);
    assert.equal(r2.value.nextCursor, null);
    assert.equal(r1.value.items.length + r2.value.items.length, 4);
  });

  test('unknown inode, missing or double instant, bad cursor are refused', () => {
    const codes = [
      q.access({ inodeId: 'ino_01hf7yat5m3c6sjpz972bwmwzz', at: 1 }),
      q.access({ inodeId: s.ino1.id }),
      q.access({ inodeId: s.ino1.id, at: 1, atSeq: 1 }),
      q.access({ inodeId: s.ino1.id, at: 1, cursor: '!!' }),
    ].map((r) => !r.ok && r.error.code);
    assert.deepEqual(codes, ['inode.not_found', 'request.invalid', 'request.invalid', 'audit.cursor_invalid']);
  });
});
