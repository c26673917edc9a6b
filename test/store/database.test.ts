// The ledger connection as openLedger configures it: WAL with an fsync per commit (the
// durability every acknowledged write relies on), foreign keys enforced, and the page cache
// bounded (resident memory at 10,000 inodes, README "Memory"), whatever better-sqlite3's
// build defaults to; group commit's statement journals kept in memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { readdirSync, readlinkSync } from 'node:fs';
import { openLedger, PAGE_CACHE_KIB } from '../../src/store/database.js';
import { Store } from '../../src/store/store.js';
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

test('a batch whose savepoints journal more than 64 KiB opens no temp file (statement journals in memory)', async () => {
  const tmp = tempDir();
  const store = Store.open(join(tmp.dir, 'l.db'));
  try {
    // Pages that exist before the transaction: changing them journals their originals.
    store.ledger.sqlite.exec('CREATE TABLE blobs (id INTEGER PRIMARY KEY, b BLOB)');
    const put = store.ledger.sqlite.prepare('INSERT INTO blobs (b) VALUES (?)');
    store.uow.run(() => { for (let i = 0; i < 200; i++) put.run(Buffer.alloc(4096, 1)); });
    const change = store.ledger.sqlite.prepare('UPDATE blobs SET b = ? WHERE id BETWEEN ? AND ?');
    // SQLite names its temp files etilqs_*, and unlinks them as soon as they are open.
    const tempFiles = () => readdirSync('/proc/self/fd').flatMap((fd) => {
      try { return /etilqs_/.test(readlinkSync(`/proc/self/fd/${fd}`)) ? [fd] : []; } catch { return []; }
    });
    let seen: string[] = [];
    // Each member changes 50 rows of a page each (~200 KiB) in its own SAVEPOINT; the last looks for a spill.
    const members = Array.from({ length: 4 }, (_, m) => store.uow.commit(() => { change.run(Buffer.alloc(4096, 2 + m), 1 + 50 * m, 50 * (m + 1)); }));
    members.push(store.uow.commit(() => { seen = tempFiles(); }));
    await Promise.all(members);
    assert.equal(store.uow.stats.batches, 1, 'one batch, so the savepoints share one transaction');
    assert.deepEqual(seen, []);
  } finally { store.close(); tmp.cleanup(); }
});
