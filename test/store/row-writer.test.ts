// The prepared write path stores exactly what drizzle's query builder stores: the same bytes
// in every column (JSON text, booleans as 0/1, nulls, column defaults), and updates touch
// only the named row and fields.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Store } from '../../src/store/store.js';
import { inodes, vms } from '../../src/store/schema.js';
import { RowWriter } from '../../src/store/row-writer.js';
import type { InodeRow, VmRow } from '../../src/store/rows.js';
import { tempDir } from '../support/tmp.js';

test('RowWriter writes rows byte for byte as drizzle does', () => {
  const tmp = tempDir();
  const store = Store.open(join(tmp.dir, 'w.db'));
  try {
    const { sqlite, db } = store.ledger;
    const raw = (table: string, id: string) => sqlite.prepare(`SELECT * FROM ${table} WHERE id = ?`).get(id) as Record<string, unknown>;
    const vm = (id: string): VmRow => ({ id, name: `n-${id}`, labels: { team: 'a', 'k/v': 'ü"' }, vmType: 0, state: 'active', createdAt: 5, endedAt: null });
    const writer = new RowWriter<VmRow>(sqlite, vms);
    writer.insert(vm('vm_a'));
    db.insert(vms).values(vm('vm_b')).run();
    const { id: _a, name: _na, ...a } = raw('vms', 'vm_a');
    const { id: _b, name: _nb, ...b } = raw('vms', 'vm_b');
    assert.deepEqual(a, b);
    assert.equal(a.labels, JSON.stringify({ team: 'a', 'k/v': 'ü"' }));

    // A field left out gets the column's default, as with drizzle.
    const { vmType: _t, ...noType } = vm('vm_c');
    writer.insert(noType as VmRow);
    assert.equal(raw('vms', 'vm_c').vm_type, 0);

    const inode = (id: string, shareable: boolean): InodeRow => ({ id, size: 4096, shareable, kernelInode: 77, originVmId: 'vm_a',
      ownerVmId: 'vm_a', labels: {}, state: 'live', createdAt: 6, endedAt: null });
    const iw = new RowWriter<InodeRow>(sqlite, inodes);
    iw.insert(inode('ino_t', true));
    db.insert(inodes).values(inode('ino_u', true)).run();
    iw.insert(inode('ino_f', false));
    assert.deepEqual([raw('inodes', 'ino_t').shareable, raw('inodes', 'ino_u').shareable, raw('inodes', 'ino_f').shareable], [1, 1, 0]);
    assert.deepEqual(store.inodes.get('ino_t'), inode('ino_t', true), 'read back through the repository');

    writer.update('vm_a', { state: 'destroyed', endedAt: 9 });
    assert.deepEqual([raw('vms', 'vm_a').state, raw('vms', 'vm_a').ended_at, raw('vms', 'vm_b').state], ['destroyed', 9, 'active']);
    assert.throws(() => writer.update('vm_a', { nope: 1 } as unknown as Partial<VmRow>), /no column for field nope/);
  } finally {
    store.close();
    tmp.cleanup();
  }
});
