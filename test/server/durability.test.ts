// Every acknowledged mutation survives SIGKILL: the ledger runs WAL with synchronous=FULL,
// and a restarted gmemd on the same file opens it cleanly and finds them all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startServer, httpJson } from '../support/server-process.js';
import { tempDir } from '../support/tmp.js';

test('acknowledged mutations survive SIGKILL and a restart on the same database', async () => {
  const tmp = tempDir();
  const env = { GMEMD_DB: join(tmp.dir, 'ledger.db'), GMEMD_LISTEN: `unix:${join(tmp.dir, 'gmemd.sock')}` };
  try {
    const first = await startServer(env);
    const acked: { vms: string[]; inodes: string[] } = { vms: [], inodes: [] };
    for (let i = 0; i < 10; i++) {
      const vm = await httpJson(first.socket, 'POST', '/v1/vms', { name: `durable-${i}` });
      assert.equal(vm.status, 201);
      acked.vms.push(vm.json.id);
      const ino = await httpJson(first.socket, 'POST', '/v1/inodes', { ownerVmId: vm.json.id, size: 65536 });
      assert.equal(ino.status, 201);
      acked.inodes.push(ino.json.inode.id);
    }
    // Fire more requests and kill mid-flight: whatever was acknowledged must be there.
    const inflight = Array.from({ length: 20 }, (_, i) =>
      httpJson(first.socket, 'POST', '/v1/vms', { name: `late-${i}` }).then((r) => { if (r.status === 201) acked.vms.push(r.json.id); }, () => {}));
    await new Promise((r) => setTimeout(r, 5));
    first.child.kill('SIGKILL');
    await Promise.all(inflight);
    await first.exited;

    const db = new Database(env.GMEMD_DB, { readonly: true });
    assert.equal((db.pragma('integrity_check') as { integrity_check: string }[])[0]!.integrity_check, 'ok');
    db.close();

    const second = await startServer(env);
    try {
      for (const id of acked.vms) assert.equal((await httpJson(second.socket, 'GET', `/v1/vms/${id}`)).status, 200, id);
      for (const id of acked.inodes) assert.equal((await httpJson(second.socket, 'GET', `/v1/inodes/${id}`)).status, 200, id);
      const host = await httpJson(second.socket, 'GET', '/v1/host');
      assert.ok(host.json.ledger.events >= acked.vms.length + acked.inodes.length);
      // The operator sees why this backend, as the start-up line said it (a simulator holds no guest memory).
      const starting = second.output().split('\n').filter((l) => l.includes('"gmemd starting"')).map((l) => JSON.parse(l));
      assert.equal(starting.length, 1, second.output());
      assert.equal(host.json.backendNote, starting[0].note);
      assert.ok(host.json.backendNote.startsWith(`${host.json.backend} backend`), host.json.backendNote);
      // GMEMD_BACKEND=auto (unset): a warning exactly when it fell back to the simulator.
      const warned = second.output().includes('"msg":"no native backend: serving the simulator');
      if (!process.env.GMEMD_BACKEND) assert.equal(warned, host.json.backend === 'simulated', second.output());
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  } finally {
    tmp.cleanup();
  }
});
