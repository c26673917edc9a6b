// One gmemd per ledger: the lock is exclusive between open file descriptions (flock(2)), so a
// second start on the same GMEMD_DB is refused with one line and exit 2, and changes nothing;
// the kernel drops the lock with its process, so after a SIGKILL a new start takes it; an
// inherited descriptor (a handover successor's) holds the same lock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lockLedger, lockPathOf } from '../../src/lifecycle/ledger-lock.js';
import { httpJson, startServer } from '../support/server-process.js';
import { tempDir } from '../support/tmp.js';

const SERVER = fileURLToPath(new URL('../../dist/server.js', import.meta.url));

test('the lock: exclusive between opens, shared by an inherited descriptor, released with the descriptor', () => {
  const tmp = tempDir();
  try {
    const db = join(tmp.dir, 'ledger', 'l.db');
    const first = lockLedger(db);
    assert.ok(first.ok);
    assert.equal(readFileSync(lockPathOf(db), 'utf8'), `${process.pid}\n`, 'the lock file names its holder');
    assert.equal((statSync(lockPathOf(db)).mode & 0o777).toString(8), '600');
    const second = lockLedger(db);
    assert.equal(second.ok, false);
    assert.match(second.ok ? '' : second.error, new RegExp(`another gmemd process \\(pid ${process.pid}\\) holds the ledger .*l\\.db`));
    const inherited = lockLedger(db, first.value.fd);
    assert.ok(inherited.ok, 'the same open file description holds the same lock');
    closeSync(first.value.fd);
    const after = lockLedger(db);
    assert.ok(after.ok, 'closed with its last descriptor, the lock is free');
    closeSync(after.value.fd);
    // A ledger where no lock file can be made: refused with the reason, not thrown.
    const blocked = lockLedger(join(lockPathOf(db), 'under-a-file.db'));
    assert.equal(blocked.ok, false);
    assert.match(blocked.ok ? '' : blocked.error, /cannot open the ledger lock .*under-a-file\.db\.lock/);
  } finally { tmp.cleanup(); }
});

test('a second gmemd on a ledger in use exits 2 with one line and changes nothing; after a SIGKILL a new one starts', async () => {
  const tmp = tempDir();
  try {
    const db = join(tmp.dir, 'l.db');
    const env = { GMEMD_DB: db, GMEMD_BACKEND: 'simulated' };
    const s = await startServer({ ...env, GMEMD_LISTEN: `unix:${join(tmp.dir, 'a.sock')}` }, 60_000, SERVER);
    try {
      assert.equal((await httpJson(s.socket, 'POST', '/v1/vms', { name: 'held' })).status, 201);
      const r = spawnSync(process.execPath, [SERVER], { env: { ...process.env, ...env, GMEMD_LISTEN: `unix:${join(tmp.dir, 'b.sock')}` }, encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`another gmemd process \\(pid ${s.child.pid}\\) holds the ledger`));
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      const vms = await httpJson(s.socket, 'GET', '/v1/vms?state=active');
      assert.deepEqual(vms.json.items.map((v: { name: string }) => v.name), ['held'], 'the refused start marked nothing lost');
    } finally { s.child.kill('SIGKILL'); await s.exited; }
    const again = await startServer({ ...env, GMEMD_LISTEN: `unix:${join(tmp.dir, 'c.sock')}` }, 60_000, SERVER);
    try {
      assert.equal((await httpJson(again.socket, 'GET', '/v1/vms?state=lost')).json.items.length, 1, 'the crash left the VM lost, as a restart says');
    } finally { again.child.kill('SIGTERM'); await again.exited; }
  } finally { tmp.cleanup(); }
});
