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
      const inUse = new Set(s.store.bindings.claimedByVm('vm_a').map((b) => b.slot));
      const slots = s.store.bindings.slotsOf('vm_a');
      assert.equal(slots.count, inUse.size, 'the bindings holding a slot, claimed ones included');
      for (let slot = 0; slot <= extents.length + 1; slot++) assert.equal(slots.has(slot), inUse.has(slot), `slot ${slot}`);
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

// The lowest free slot is searched from a per-VM hint. Whatever happens to the VM's bindings
// (binds that are recorded or only claimed, decisions that chose and then took nothing, claims
// dropped, unbinds, the set-based lost marking), the search gives the lowest slot that neither a recorded active binding nor a
// claim holds: never a taken one (the kernel would move that memslot), and no higher free one.
const slotOps = fc.array(fc.oneof(
  fc.constant({ op: 'bind' as const }), fc.constant({ op: 'claim' as const }), fc.constant({ op: 'peek' as const }),
  fc.record({ op: fc.constant('drop' as const), pick: fc.nat() }), fc.record({ op: fc.constant('unbind' as const), pick: fc.nat() }),
  fc.constant({ op: 'lost' as const }),
), { maxLength: 60 });

test('the lowest free slot, searched from the hint, is the lowest slot nothing holds', () => {
  fc.assert(fc.property(slotOps, (ops) => {
    const s = seeded();
    try {
      const b = s.store.bindings;
      const claims: { id: string; release: () => void }[] = [];
      const recorded: string[] = [];
      for (const o of ops) {
        const inUse = new Set(b.claimedByVm('vm_a').map((x) => x.slot));
        let lowest = 0;
        while (inUse.has(lowest)) lowest++;
        if (o.op === 'bind' || o.op === 'claim' || o.op === 'peek') {
          // peek: a decision that chose a slot, then failed a later check and took nothing.
          const slot = b.slotsOf('vm_a').lowestFree(32763);
          assert.equal(slot, lowest, `after ${JSON.stringify(ops.slice(0, ops.indexOf(o)))}`);
          if (o.op === 'peek') continue;
          const row = { ...s.row(0, PAGE), slot: slot! };
          if (o.op === 'bind') { s.store.uow.run(() => b.insert(row)); recorded.push(row.id); }
          else claims.push({ id: row.id, release: b.claim(row) });
        } else if (o.op === 'drop' && claims.length) {
          claims.splice(o.pick % claims.length, 1)[0]!.release();
        } else if (o.op === 'unbind' && recorded.length) {
          const id = recorded.splice(o.pick % recorded.length, 1)[0]!;
          s.store.uow.run(() => b.update(id, { state: 'deleted', endedAt: 2 }));
        } else if (o.op === 'lost') {
          s.store.uow.run(() => b.markLost(recorded.splice(0), 2));
        }
      }
      for (const c of claims) c.release();
    } finally { s.close(); }
  }), { numRuns: 200 });
});
