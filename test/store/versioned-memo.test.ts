// A memoized read holds exactly while the ledger's version does: it is answered again after
// a write on this connection or a commit by another, and a read made inside a transaction
// (which may see writes a rollback takes back) is never kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Store } from '../../src/store/store.js';
import { VersionedMemo } from '../../src/store/versioned-memo.js';
import { tempDir } from '../support/tmp.js';

function setup() {
  const tmp = tempDir();
  const path = join(tmp.dir, 'l.db');
  const store = Store.open(path);
  const sqlite = store.ledger.sqlite;
  sqlite.exec('CREATE TABLE t (v INTEGER)');
  const count = sqlite.prepare('SELECT count(*) FROM t').pluck();
  let loads = 0;
  const memo = new VersionedMemo<number>(sqlite, store.dataVersion);
  const read = () => memo.get('n', () => { loads += 1; return count.get() as number; });
  return { tmp, path, store, sqlite, read, loads: () => loads, close: () => { store.close(); tmp.cleanup(); } };
}

test('answered once between writes, again after a write on this connection', () => {
  const s = setup();
  try {
    assert.equal(s.read(), 0);
    assert.equal(s.read(), 0);
    assert.equal(s.loads(), 1);
    s.sqlite.exec('INSERT INTO t VALUES (1)');
    assert.equal(s.read(), 1);
    assert.equal(s.loads(), 2);
  } finally { s.close(); }
});

test("answered again after another connection's commit", () => {
  const s = setup();
  try {
    assert.equal(s.read(), 0);
    const other = new Database(s.path);
    other.exec('INSERT INTO t VALUES (1)');
    other.close();
    assert.equal(s.read(), 1);
  } finally { s.close(); }
});

test('a read inside a transaction is not kept: after a rollback the row it saw is gone from the answer', () => {
  const s = setup();
  try {
    assert.throws(() => s.sqlite.transaction(() => {
      s.sqlite.exec('INSERT INTO t VALUES (1)');
      assert.equal(s.read(), 1, 'inside, the uncommitted row is seen');
      throw new Error('roll back');
    })(), /roll back/);
    assert.equal(s.read(), 0);
    assert.equal(s.read(), 0);
    assert.equal(s.loads(), 2, 'the outside read was kept, the inside one was not');
  } finally { s.close(); }
});
