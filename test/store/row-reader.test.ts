// RowReader's column subsets (fields()) read what its full rows read for those fields: the
// same values, JSON and boolean columns mapped by drizzle's own mappers, in the tail's order.
// The lost marking after a crash reads every live inode, file and binding through them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Store } from '../../src/store/store.js';
import { inodes, vms } from '../../src/store/schema.js';
import { RowReader } from '../../src/store/row-reader.js';
import type { InodeRow, VmRow } from '../../src/store/rows.js';
import { tempDir } from '../support/tmp.js';

test('fields() gives the chosen fields of the rows its tail selects, mapped as full rows are', () => {
  const tmp = tempDir();
  const store = Store.open(join(tmp.dir, 'r.db'));
  try {
    const { sqlite, db } = store.ledger;
    db.insert(vms).values({ id: 'vm_a', name: 'a', labels: { team: 'x' }, vmType: 0, state: 'active', createdAt: 1, endedAt: null }).run();
    const inode = (id: string, shareable: boolean, state: InodeRow['state']): InodeRow => ({ id, size: 4096, shareable, kernelInode: id.length * 7,
      originVmId: 'vm_a', ownerVmId: 'vm_a', labels: { k: id }, state, createdAt: 2, endedAt: null });
    db.insert(inodes).values([inode('ino_c', true, 'live'), inode('ino_a', false, 'live'), inode('ino_bb', true, 'lost')]).run();

    const reader = new RowReader<InodeRow>(sqlite, inodes);
    const pick = reader.fields(['id', 'kernelInode', 'shareable', 'labels'] as const);
    const live = pick.all(`WHERE "state" = ? ORDER BY "id"`, 'live');
    assert.deepEqual(live, [
      { id: 'ino_a', kernelInode: 35, shareable: false, labels: { k: 'ino_a' } },
      { id: 'ino_c', kernelInode: 35, shareable: true, labels: { k: 'ino_c' } },
    ]);
    // The same values as the full rows, field for field.
    for (const row of live) {
      const full = store.inodes.get(row.id)!;
      assert.deepEqual(row, { id: full.id, kernelInode: full.kernelInode, shareable: full.shareable, labels: full.labels });
    }
    assert.deepEqual(Object.keys(live[0]!), ['id', 'kernelInode', 'shareable', 'labels'], 'only the chosen fields');
    assert.deepEqual(store.inodes.liveRefs(), [{ id: 'ino_a', ownerVmId: 'vm_a', kernelInode: 35 }, { id: 'ino_c', ownerVmId: 'vm_a', kernelInode: 35 }]);
    const vmReader = new RowReader<VmRow>(sqlite, vms);
    assert.deepEqual(vmReader.fields(['name', 'labels'] as const).all('WHERE "id" = ?', 'vm_a'), [{ name: 'a', labels: { team: 'x' } }]);
  } finally {
    store.close();
    tmp.cleanup();
  }
});
