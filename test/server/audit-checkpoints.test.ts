// With GMEMD_AUDIT_KEY the running service signs the chain's head every N events and on
// graceful close, and verify catches the newest events being deleted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startServer, httpJson } from '../support/server-process.js';
import { tempDir } from '../support/tmp.js';

test('checkpoints every N events and at shutdown; tail truncation is detected after restart', async () => {
  const tmp = tempDir();
  const env = { GMEMD_DB: join(tmp.dir, 'ledger.db'), GMEMD_LISTEN: `unix:${join(tmp.dir, 's.sock')}`, GMEMD_AUDIT_KEY: 'test-key', GMEMD_CHECKPOINT_EVERY: '5' };
  try {
    const first = await startServer(env);
    for (let i = 0; i < 7; i++) assert.equal((await httpJson(first.socket, 'POST', '/v1/vms', { name: `cp-${i}` })).status, 201);
    first.child.kill('SIGTERM');
    assert.equal(await first.exited, 0);
    const db = new Database(env.GMEMD_DB);
    const head = (db.prepare('SELECT max(seq) s FROM events').get() as { s: number }).s;
    const cps = (db.prepare('SELECT seq FROM checkpoints ORDER BY seq').all() as { seq: number }[]).map((r) => r.seq);
    assert.ok(cps.includes(5), `a checkpoint at the 5th event: ${cps}`);
    assert.equal(cps[cps.length - 1], head, 'the head is signed at shutdown');

    const second = await startServer(env);
    let v = await httpJson(second.socket, 'GET', '/v1/audit/verify');
    assert.equal(v.json.ok, true);
    assert.equal(v.json.checkpoints.macsVerified, true);
    second.child.kill('SIGTERM');
    await second.exited;

    // Delete the newest events, as someone hiding recent activity would. (Deleting the
    // checkpoint rows as well is not caught: they live in the same file, see README.)
    const last = (db.prepare('SELECT max(seq) s FROM events').get() as { s: number }).s;
    db.prepare('DELETE FROM events WHERE seq > ?').run(last - 2);
    db.close();
    const third = await startServer(env);
    v = await httpJson(third.socket, 'GET', '/v1/audit/verify');
    third.child.kill('SIGTERM');
    await third.exited;
    assert.equal(v.json.ok, false, JSON.stringify(v.json));
    assert.match(v.json.reason, /^checkpoint_/);
  } finally {
    tmp.cleanup();
  }
});
