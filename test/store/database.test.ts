// The ledger connection as openLedger configures it: WAL with an fsync per commit (the
// durability every acknowledged write relies on), foreign keys enforced, and the page cache
// bounded (resident memory at 10,000 inodes, README "Memory"), whatever better-sqlite3's
// build defaults to.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openLedger, PAGE_CACHE_KIB } from '../../src/store/database.js';
import { tempDir } from '../support/tmp.js';

test('openLedger: WAL, synchronous=FULL, foreign keys on, page cache of PAGE_CACHE_KIB', () => {
  const tmp = tempDir();
  const ledger = openLedger(join(tmp.dir, 'l.db'));
  try {
    const get = (p: string) => ledger.sqlite.pragma(p, { simple: true });
    assert.equal(get('journal_mode'), 'wal');
    assert.equal(get('synchronous'), 2); // FULL
    assert.equal(get('foreign_keys'), 1);
    assert.equal(get('cache_size'), -PAGE_CACHE_KIB);
    // Not the driver's default: the setting is what bounds the cache.
    const plain = new Database(':memory:');
    try { assert.notEqual(plain.pragma('cache_size', { simple: true }), -PAGE_CACHE_KIB); } finally { plain.close(); }
  } finally { ledger.close(); tmp.cleanup(); }
});
