// The reads on every bind and GET must touch live rows only, however long an inode's or a
// VM's history grows: the planner uses the (…, state, id) indexes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Store } from '../../src/store/store.js';
import { tempDir } from '../support/tmp.js';

test('live-row lookups search (key, state) instead of scanning history', () => {
  const tmp = tempDir();
  const store = Store.open(join(tmp.dir, 'l.db'));
  try {
    const plan = (sql: string) => (store.ledger.sqlite.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((r) => r.detail).join(' | ');
    assert.match(plan("SELECT * FROM bindings WHERE inode_id = 'x' AND state = 'active' ORDER BY id"), /USING INDEX bindings_inode_idx \(inode_id=\? AND state=\?\)/);
    assert.match(plan("SELECT * FROM bindings WHERE file_id = 'x' AND state = 'active' ORDER BY id"), /USING INDEX bindings_file_idx \(file_id=\? AND state=\?\)/);
    assert.match(plan("SELECT * FROM files WHERE inode_id = 'x' AND state IN ('open','pending') ORDER BY id"), /(files_inode_idx \(inode_id=\? AND state=\?\)|files_one_live_per_vm_uq)/);
    assert.match(plan("SELECT * FROM files WHERE vm_id = 'x' AND state IN ('open') ORDER BY id"), /files_vm_idx \(vm_id=\? AND state=\?\)/);
    // A bind's decision: the slots in use from the partial index alone, the nearest binding below a range in O(log n).
    assert.match(plan("SELECT slot FROM bindings WHERE vm_id = 'x' AND state = 'active'"), /COVERING INDEX bindings_active_slot_uq \(vm_id=\?\)/);
    assert.match(plan("SELECT * FROM bindings WHERE vm_id = 'x' AND state = 'active' AND gpa < 5 ORDER BY gpa DESC LIMIT 1"), /bindings_vm_idx \(vm_id=\? AND state=\? AND gpa<\?\)/);
    assert.match(plan("SELECT * FROM bindings WHERE inode_id = 'x' AND state = 'active' AND kind = 'gmem' AND offset < 5 ORDER BY offset DESC LIMIT 1"), /bindings_gmem_offset_idx \(inode_id=\? AND offset<\?\)/);
  } finally {
    store.close();
    tmp.cleanup();
  }
});
