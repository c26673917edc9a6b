// The per-VM count of active bindings the binding quota reads (vm_binding_totals, kept by
// triggers) equals a count of the rows after any sequence of writes: inserts in each state,
// state changes either way, the set-based lost marking, a delete, and inserts rolled back with
// their savepoint. A ledger written before the table existed is seeded from its rows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import fc from 'fast-check';
import Database from 'better-sqlite3';
import { Store } from '../../src/store/store.js';
import { BINDING_STATES } from '../../src/domain/vocabulary.js';
import type { BindingRow } from '../../src/store/rows.js';
import { ledgerBefore } from '../support/migrated-before.js';
import { tempDir } from '../support/tmp.js';

const VMS = ['vm_a', 'vm_b', 'vm_c'] as const;
const recount = (db: Database.Database, vmId: string) =>
  (db.prepare(`SELECT count(*) AS n FROM bindings WHERE vm_id = ? AND state = 'active'`).get(vmId) as { n: number }).n;

function seeded(dir: string) {
  const store = Store.open(join(dir, 'l.db'));
  store.uow.run(() => {
    for (const vm of VMS) {
      store.vms.insert({ id: vm, name: vm, labels: {}, vmType: 0, state: 'active', createdAt: 1, endedAt: null });
      store.inodes.insert({ id: `ino_${vm}`, size: 1 << 30, shareable: true, kernelInode: 1, originVmId: vm, ownerVmId: vm, labels: {}, state: 'live', createdAt: 1, endedAt: null });
      store.files.insert({ id: `file_${vm}`, inodeId: `ino_${vm}`, vmId: vm, role: 'owner', permissions: ['read', 'write'], grantedByFileId: null, migrationId: null, state: 'open', createdAt: 1, endedAt: null });
    }
  });
  return store;
}

const state = fc.constantFrom(...BINDING_STATES);
const op = fc.oneof(
  fc.record({ k: fc.constant('insert' as const), vm: fc.nat(VMS.length - 1), state }),
  fc.record({ k: fc.constant('setState' as const), i: fc.nat(), state }),
  fc.record({ k: fc.constant('lost' as const), every: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ k: fc.constant('delete' as const), i: fc.nat() }),
  fc.record({ k: fc.constant('rolledBack' as const), vm: fc.nat(VMS.length - 1) }),
);

test('vm_binding_totals equals a count of each VM\'s active bindings after any sequence of writes', () => {
  fc.assert(fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
    const tmp = tempDir();
    const store = seeded(tmp.dir);
    try {
      const ids: string[] = [];
      let n = 0;
      const row = (vm: number, s: BindingRow['state']): BindingRow => {
        const vmId = VMS[vm]!;
        return { id: `bind_${n}`, fileId: `file_${vmId}`, vmId, inodeId: `ino_${vmId}`, slot: n++, gpa: n * 4096, offset: 0, size: 4096,
          kind: 'view', readonly: false, state: s, createdAt: 1, endedAt: s === 'active' ? null : 1 };
      };
      for (const o of ops) {
        store.uow.run(() => {
          if (o.k === 'insert') { const r = row(o.vm, o.state); store.bindings.insert(r); ids.push(r.id); }
          else if (o.k === 'setState' && ids.length) store.bindings.update(ids[o.i % ids.length]!, { state: o.state, endedAt: o.state === 'active' ? null : 1 });
          else if (o.k === 'lost') store.bindings.markLost(ids.filter((_, i) => i % o.every === 0), 1);
          else if (o.k === 'delete' && ids.length) {
            // gmemd never deletes a binding; the trigger is there so a row removed by hand cannot leave the count high.
            store.ledger.sqlite.prepare('DELETE FROM bindings WHERE id = ?').run(ids.splice(o.i % ids.length, 1)[0]);
          } else if (o.k === 'rolledBack') {
            try { store.ledger.sqlite.transaction(() => { store.bindings.insert(row(o.vm, 'active')); throw new Error('rolled back'); })(); } catch { /* expected */ }
          }
        });
      }
      for (const vm of VMS) assert.equal(store.bindings.slotsOf(vm).count, recount(store.ledger.sqlite, vm), vm);
    } finally { store.close(); tmp.cleanup(); }
  }), { numRuns: 80 });
});

test('a ledger from before vm_binding_totals is seeded from its rows when it is migrated', () => {
  const tmp = tempDir();
  try {
    const { db, path } = ledgerBefore(tmp.dir, '0008_vm_binding_totals');
    db.exec(`INSERT INTO vms (id, name, labels, vm_type, state, created_at) VALUES ('vm_a', 'a', '{}', 0, 'active', 1), ('vm_b', 'b', '{}', 0, 'active', 1);
      INSERT INTO inodes (id, size, shareable, kernel_inode, origin_vm_id, owner_vm_id, labels, state, created_at) VALUES ('ino_a', 1073741824, 1, 1, 'vm_a', 'vm_a', '{}', 'live', 1);
      INSERT INTO files (id, inode_id, vm_id, role, permissions, state, created_at) VALUES ('file_a', 'ino_a', 'vm_a', 'owner', '["read","write"]', 'open', 1);`);
    const bind = db.prepare(`INSERT INTO bindings (id, file_id, vm_id, inode_id, slot, gpa, "offset", size, readonly, kind, state, created_at, ended_at)
      VALUES (?, 'file_a', ?, 'ino_a', ?, ?, 0, 4096, 0, 'view', ?, 1, ?)`);
    bind.run('b1', 'vm_a', 0, 0, 'active', null);
    bind.run('b2', 'vm_a', 1, 4096, 'active', null);
    bind.run('b3', 'vm_a', 2, 8192, 'deleted', 1);
    bind.run('b4', 'vm_b', 0, 0, 'active', null);
    db.close();
    const store = Store.open(path);
    try {
      assert.deepEqual(VMS.map((vm) => store.bindings.slotsOf(vm).count), [2, 1, 0]);
      // And kept from then on.
      store.uow.run(() => store.bindings.update('b1', { state: 'deleted', endedAt: 2 }));
      assert.equal(store.bindings.slotsOf('vm_a').count, 1);
    } finally { store.close(); }
  } finally { tmp.cleanup(); }
});
