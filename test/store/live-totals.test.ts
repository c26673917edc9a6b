// The counts the quota checks read (live_totals, kept by triggers) equal a count of the rows
// after any sequence of writes: inserts in each state, state changes either way, the
// set-based lost marking, size changes, and writes rolled back with their savepoint. A ledger
// written before the table existed is seeded from its rows by the migration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import fc from 'fast-check';
import Database from 'better-sqlite3';
import { Store } from '../../src/store/store.js';
import { INODE_STATES, VM_STATES } from '../../src/domain/vocabulary.js';
import { ledgerBefore } from '../support/migrated-before.js';
import { tempDir } from '../support/tmp.js';

const recount = (db: Database.Database) => db.prepare(`SELECT
  (SELECT count(*) FROM vms WHERE state = 'active') AS vms,
  (SELECT count(*) FROM inodes WHERE state = 'live') AS inodes,
  (SELECT coalesce(sum(size), 0) FROM inodes WHERE state = 'live') AS bytes`).get();

const op = fc.oneof(
  fc.record({ k: fc.constant('vm' as const), state: fc.constantFrom(...VM_STATES) }),
  fc.record({ k: fc.constant('inode' as const), state: fc.constantFrom(...INODE_STATES), pages: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ k: fc.constant('vmState' as const), i: fc.nat(), state: fc.constantFrom(...VM_STATES) }),
  fc.record({ k: fc.constant('inodeState' as const), i: fc.nat(), state: fc.constantFrom(...INODE_STATES) }),
  fc.record({ k: fc.constant('lost' as const), every: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ k: fc.constant('rolledBack' as const), pages: fc.integer({ min: 1, max: 64 }) }),
);

test('live_totals equals a count of the rows after any sequence of writes', () => {
  fc.assert(fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
    const tmp = tempDir();
    const store = Store.open(join(tmp.dir, 'l.db'));
    try {
      const vmIds: string[] = [], inodeIds: string[] = [];
      let n = 0;
      const vm = (state: (typeof VM_STATES)[number]) => {
        const id = `vm_${n++}`;
        store.vms.insert({ id, name: id, labels: {}, vmType: 0, state, createdAt: 1, endedAt: state === 'active' ? null : 1 });
        vmIds.push(id);
        return id;
      };
      for (const o of ops) {
        store.uow.run(() => {
          if (o.k === 'vm') vm(o.state);
          else if (o.k === 'inode' || o.k === 'rolledBack') {
            const owner = vmIds[0] ?? vm('active');
            const id = `ino_${n++}`;
            const write = () => store.inodes.insert({ id, size: o.pages * 4096, shareable: true, kernelInode: n, originVmId: owner, ownerVmId: owner,
              labels: {}, state: o.k === 'inode' ? o.state : 'live', createdAt: 1, endedAt: null });
            if (o.k === 'inode') { write(); inodeIds.push(id); return; }
            // A member's savepoint rolled back: its insert and the trigger's update with it.
            try { store.ledger.sqlite.transaction(() => { write(); throw new Error('rolled back'); })(); } catch { /* expected */ }
          } else if (o.k === 'vmState' && vmIds.length) store.vms.setState(vmIds[o.i % vmIds.length]!, o.state, 1);
          else if (o.k === 'inodeState' && inodeIds.length) store.inodes.setState(inodeIds[o.i % inodeIds.length]!, o.state, 1);
          else if (o.k === 'lost') {
            store.inodes.markLost(inodeIds.filter((_, i) => i % o.every === 0), 1);
            store.vms.markLost(vmIds.filter((_, i) => i % o.every === 0), 1);
          }
        });
      }
      const want = recount(store.ledger.sqlite) as { vms: number; inodes: number; bytes: number };
      assert.deepEqual({ vms: store.vms.countActive(), ...store.inodes.liveTotals() }, want);
    } finally { store.close(); tmp.cleanup(); }
  }), { numRuns: 60 });
});

test('a ledger from before live_totals is seeded from its rows when it is migrated', () => {
  const tmp = tempDir();
  try {
    const { db, path } = ledgerBefore(tmp.dir, '0006_live_totals');
    db.exec(`INSERT INTO vms (id, name, labels, vm_type, state, created_at) VALUES ('vm_a', 'a', '{}', 0, 'active', 1), ('vm_b', 'b', '{}', 0, 'destroyed', 1);
      INSERT INTO inodes (id, size, shareable, kernel_inode, origin_vm_id, owner_vm_id, labels, state, created_at) VALUES
        ('ino_a', 8192, 1, 1, 'vm_a', 'vm_a', '{}', 'live', 1), ('ino_b', 4096, 1, 2, 'vm_a', 'vm_a', '{}', 'live', 1), ('ino_c', 65536, 1, 3, 'vm_a', 'vm_a', '{}', 'released', 1)`);
    db.close();
    const store = Store.open(path);
    try {
      assert.deepEqual({ vms: store.vms.countActive(), ...store.inodes.liveTotals() }, { vms: 1, inodes: 2, bytes: 12288 });
    } finally { store.close(); }
  } finally { tmp.cleanup(); }
});
