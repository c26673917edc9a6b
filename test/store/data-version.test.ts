// Store#dataVersion: the same while nothing is committed; different after any commit, by this
// connection through any code path or by another connection (a successor, a tool), which the
// -shm header check must never miss (data-version.ts). A checkpoint by another connection
// commits nothing and changes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { Store } from '../../src/store/store.js';
import { tempDir } from '../support/tmp.js';

test('the version holds still, and changes with every commit by this or another connection', () => {
  const tmp = tempDir();
  const path = join(tmp.dir, 'l.db');
  const store = Store.open(path);
  const other = new Database(path);
  try {
    const sql = store.ledger.sqlite;
    assert.equal(store.dataVersion.via, 'mapping', "a ledger file's -shm header is read from its mapping");
    sql.exec("INSERT INTO vms (id, name, labels, vm_type, state, created_at) VALUES ('vm_a', 'a', '{}', 0, 'active', 1)");
    const v0 = store.dataVersion();
    assert.equal(store.dataVersion(), v0, 'no commit: same version');

    other.prepare("UPDATE vms SET name = 'b' WHERE id = 'vm_a'").run();
    const v1 = store.dataVersion();
    assert.notEqual(v1, v0, "another connection's commit");
    assert.equal(store.dataVersion(), v1);

    sql.prepare("UPDATE vms SET name = 'c' WHERE id = 'vm_a'").run();
    const v2 = store.dataVersion();
    assert.notEqual(v2, v1, "this connection's write");

    other.pragma('wal_checkpoint(PASSIVE)');
    assert.equal(store.dataVersion(), v2, 'a checkpoint commits nothing');

    // Any interleaving of the two writers: the version moves exactly when one of them commits.
    fc.assert(fc.property(fc.array(fc.constantFrom('self', 'other', 'none', 'checkpoint'), { minLength: 1, maxLength: 40 }), (steps) => {
      for (const step of steps) {
        const before = store.dataVersion();
        if (step === 'self') sql.prepare("UPDATE vms SET name = name || 's' WHERE id = 'vm_a'").run();
        else if (step === 'other') other.prepare("UPDATE vms SET name = name || 'o' WHERE id = 'vm_a'").run();
        else if (step === 'checkpoint') other.pragma('wal_checkpoint(PASSIVE)');
        const after = store.dataVersion();
        if (step === 'self' || step === 'other') assert.notEqual(after, before, step);
        else assert.equal(after, before, step);
      }
    }), { numRuns: 50 });
  } finally { other.close(); store.close(); tmp.cleanup(); }
});

test('an in-memory ledger (no -shm file) asks SQLite every time', () => {
  const store = Store.open(':memory:');
  try {
    assert.equal(store.dataVersion.via, 'pragma');
    const v0 = store.dataVersion();
    store.ledger.sqlite.exec("INSERT INTO vms (id, name, labels, vm_type, state, created_at) VALUES ('vm_m', 'm', '{}', 0, 'active', 1)");
    assert.notEqual(store.dataVersion(), v0);
  } finally { store.close(); }
});

// Whether another process could take the -shm's "dead man switch" byte exclusively, i.e.
// whether no connection of this process holds it (UNIX_SHM_DMS, byte 128, in the bundled
// sqlite3.c). A process that gets it treats the WAL-index as dead and rebuilds it.
const dmsFree = (shm: string): boolean => {
  const r = spawnSync('python3', ['-c', `import fcntl, os
fd = os.open(${JSON.stringify(shm)}, os.O_RDWR)
try:
    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 128)
    print('free')
except BlockingIOError:
    print('held')`], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim() === 'free';
};

test("the -shm's fd closes only after the connection: SQLite's locks on it hold until then", () => {
  const tmp = tempDir();
  const path = join(tmp.dir, 'l.db');
  try {
    const store = Store.open(path);
    assert.equal(dmsFree(`${path}-shm`), false, 'an open connection holds the DMS byte');
    assert.throws(() => store.dataVersion.close(), /close the connection before the -shm file descriptor/);
    assert.equal(dmsFree(`${path}-shm`), false, 'the refused close dropped nothing');
    store.close();
    store.close();

    // Why the order matters, and that the probe sees a drop: any fd of this process on the
    // -shm, closed while a connection is open, releases the connection's lock with it.
    const again = Store.open(path);
    try {
      assert.equal(dmsFree(`${path}-shm`), false);
      closeSync(openSync(`${path}-shm`, 'r'));
      assert.equal(dmsFree(`${path}-shm`), true, 'POSIX: closing any fd of the process drops its locks on the file');
    } finally { again.close(); }
  } finally { tmp.cleanup(); }
});
