// The idempotency reply is written in the same transaction as the change: a server killed
// right after the commit (before any byte of the reply left) is restarted, and a replay with
// the same Idempotency-Key returns the reply the first request would have had, changing nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startServer, httpJson } from '../support/server-process.js';
import { tempDir } from '../support/tmp.js';

const MiB = 1024 * 1024;

test('SIGKILL after the commit, then a replay with the same key: the stored reply, and no change', async () => {
  const tmp = tempDir();
  const env = { GMEMD_DB: join(tmp.dir, 'ledger.db'), GMEMD_LISTEN: `unix:${join(tmp.dir, 'gmemd.sock')}` };
  try {
    const first = await startServer({ ...env, GMEMD_TEST_CRASH_AT: 'binding.create:recorded' });
    const vm = await httpJson(first.socket, 'POST', '/v1/vms', { name: 'replayed' });
    const ino = await httpJson(first.socket, 'POST', '/v1/inodes', { ownerVmId: vm.json.id, size: 2 * MiB });
    const key = { 'idempotency-key': 'bind-once' };
    const body = { gpa: 0, offset: 0, size: MiB };
    await assert.rejects(httpJson(first.socket, 'POST', `/v1/files/${ino.json.file.id}/bindings`, body, key), 'the request dies after its commit');
    await first.exited;

    const db = new Database(env.GMEMD_DB, { readonly: true });
    const stored = db.prepare('SELECT status, body FROM idempotency WHERE key = ?').get('bind-once') as { status: number; body: string };
    const bound = db.prepare('SELECT id FROM bindings').all() as { id: string }[];
    db.close();
    assert.equal(stored.status, 201, 'the reply was committed with the binding');
    assert.equal(bound.length, 1);
    assert.equal(JSON.parse(stored.body).id, bound[0]!.id, 'and it names the binding that commit recorded');

    const second = await startServer(env);
    try {
      const before = (await httpJson(second.socket, 'GET', '/v1/host')).json.ledger.events;
      const replay = await httpJson(second.socket, 'POST', `/v1/files/${ino.json.file.id}/bindings`, body, key);
      assert.equal(replay.status, 201);
      assert.equal(replay.headers['idempotent-replayed'], 'true');
      assert.deepEqual(replay.json, JSON.parse(stored.body));
      assert.equal((await httpJson(second.socket, 'GET', '/v1/host')).json.ledger.events, before, 'the replay wrote nothing');
      const conflict = await httpJson(second.socket, 'POST', `/v1/files/${ino.json.file.id}/bindings`, { ...body, gpa: 4 * MiB }, key);
      assert.equal(conflict.json.code, 'request.idempotency_conflict');
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  } finally {
    tmp.cleanup();
  }
});
