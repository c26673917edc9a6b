// A bind's decision reads little: the slots in use, and of the recorded bindings only the
// one starting highest below the new range's end, in guest-physical space (the VM's) and in
// file offsets (the inode's gmem bindings). For any set of recorded bindings that do not
// overlap one another (what the kernel allows), that single candidate, with the claimed
// ones, finds an overlap exactly when the whole set does (fast-check).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import fc from 'fast-check';
import { Store } from '../../src/store/store.js';
import { checkBindingOverlap, type BindingSpan } from '../../src/domain/ranges.js';
import type { BindingRow } from '../../src/store/rows.js';
import { tempDir } from '../support/tmp.js';

const PAGE = 4096;

function seeded() {
  const tmp = tempDir();
  const store = Store.open(join(tmp.dir, 'l.db'));
  const t = 1;
  store.uow.run(() => {
    store.vms.insert({ id: 'vm_a', name: 'a', labels: {}, vmType: 0, state: 'active', createdAt: t, endedAt: null });
    store.inodes.insert({ id: 'ino_a', size: 1 << 30, shareable: true, kernelInode: 1, originVmId: 'vm_a', ownerVmId: 'vm_a', labels: {}, state: 'live', createdAt: t, endedAt: null });
    store.files.insert({ id: 'file_a', inodeId: 'ino_a', vmId: 'vm_a', role: 'owner', permissions: ['read', 'write'], grantedByFileId: null, migrationId: null, state: 'open', createdAt: t, endedAt: null });
  });
  let n = 0;
  const row = (gpa: number, size: number, state: BindingRow['state'] = 'active', offset = 0, kind: BindingRow['kind'] = 'view'): BindingRow => ({
    id: `bind_${String(n++).padStart(4, '0')}`, fileId: 'file_a', vmId: 'vm_a', inodeId: 'ino_a',
    slot: n, gpa, offset, size, kind, readonly: false, state, createdAt: t, endedAt: state === 'active' ? null : t });
  return { store, row, close: () => { store.close(); tmp.cleanup(); } };
}

// Disjoint extents (in pages), as gaps and lengths laid end to end; some recorded, some only claimed, some deleted.
const layout = fc.array(fc.record({ gap: fc.nat(4), pages: fc.integer({ min: 1, max: 4 }), as: fc.constantFrom('recorded', 'claimed', 'deleted') }), { maxLength: 12 });
const query = fc.record({ start: fc.nat(80), pages: fc.integer({ min: 1, max: 10 }) });

test('the nearest recorded binding below the end, with the claimed ones, finds every guest-range overlap', () => {
  fc.assert(fc.property(layout, query, (extents, q) => {
    const s = seeded();
    try {
      let at = 0;
      const releases: (() => void)[] = [];
      s.store.uow.run(() => {
        for (const e of extents) {
          at += e.gap;
          const r = s.row(at * PAGE, e.pages * PAGE, e.as === 'deleted' ? 'deleted' : 'active');
          if (e.as === 'claimed') releases.push(s.store.bindings.claim(r));
          else s.store.bindings.insert(r);
          at += e.pages;
        }
      });
      const span: BindingSpan = { guest: { start: BigInt(q.start * PAGE), size: BigInt(q.pages * PAGE) }, inode: { start: 0n, size: BigInt(q.pages * PAGE) } };
      const all = checkBindingOverlap(span, s.store.bindings.claimedByVm('vm_a'), null);
      const few = checkBindingOverlap(span, s.store.bindings.claimedBelow('vm_a', (q.start + q.pages) * PAGE), null);
      assert.equal(few.ok, all.ok, `range [${q.start}, ${q.start + q.pages}) pages over ${JSON.stringify(extents)}`);
      assert.deepEqual(s.store.bindings.claimedSlots('vm_a').sort((a, b) => a - b),
        s.store.bindings.claimedByVm('vm_a').map((b) => b.slot).sort((a, b) => a - b), 'the slots in use, claimed ones included');
      for (const r of releases) r();
    } finally { s.close(); }
  }), { numRuns: 150 });
});

// In file offsets: the inode's live gmem bindings are disjoint; view bindings (any offsets)
// and deleted ones are none of the gmem check's business, claimed gmem ones are.
const gmemLayout = fc.array(fc.record({ gap: fc.nat(4), pages: fc.integer({ min: 1, max: 4 }),
  as: fc.constantFrom('recorded', 'claimed', 'deleted', 'view', 'claimed view') }), { maxLength: 12 });

test('the nearest recorded gmem binding below the end, with the claimed ones, finds every file-offset overlap', () => {
  fc.assert(fc.property(gmemLayout, query, (extents, q) => {
    const s = seeded();
    try {
      let at = 0;
      const live: BindingRow[] = [];
      const releases: (() => void)[] = [];
      s.store.uow.run(() => {
        extents.forEach((e, i) => {
          at += e.gap;
          // Guest ranges far apart: only offsets are in question here.
          const view = e.as.endsWith('view');
          const r = s.row(i * (1 << 24), e.pages * PAGE, e.as === 'deleted' ? 'deleted' : 'active', (view ? 0 : at) * PAGE, view ? 'view' : 'gmem');
          if (e.as.startsWith('claimed')) releases.push(s.store.bindings.claim(r));
          else s.store.bindings.insert(r);
          if (e.as === 'recorded' || e.as === 'claimed') live.push(r);
          at += e.pages;
        });
      });
      const span: BindingSpan = { guest: { start: BigInt(1 << 40), size: BigInt(q.pages * PAGE) }, inode: { start: BigInt(q.start * PAGE), size: BigInt(q.pages * PAGE) } };
      const all = checkBindingOverlap(span, [], live);
      const few = checkBindingOverlap(span, [], s.store.bindings.claimedGmemBelow('ino_a', (q.start + q.pages) * PAGE));
      assert.equal(few.ok, all.ok, `offsets [${q.start}, ${q.start + q.pages}) pages over ${JSON.stringify(extents)}`);
      for (const r of releases) r();
    } finally { s.close(); }
  }), { numRuns: 150 });
});
