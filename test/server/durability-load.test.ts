// Group commit keeps the promise "nothing is acknowledged before it is durable" under load:
// 32 clients create VMs and inodes and bind/unbind, the server is SIGKILLed mid-flight, and
// every mutation any client saw acknowledged is in the ledger, with the chain intact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startServer, httpJson } from '../support/server-process.js';
import { verifyLedger } from '../../src/store/audit/verify.js';
import { tempDir } from '../support/tmp.js';

const MiB = 1024 * 1024;
const CLIENTS = 32;

test('SIGKILL under 32 concurrent writers: every acknowledged mutation is in the ledger, the chain intact', async () => {
  const tmp = tempDir();
  const env = { GMEMD_DB: join(tmp.dir, 'ledger.db'), GMEMD_LISTEN: `unix:${join(tmp.dir, 'gmemd.sock')}` };
  try {
    const s = await startServer(env);
    const acked = { vms: [] as string[], inodes: [] as string[], bound: [] as string[], unbound: [] as string[] };
    let stop = false;
    const client = async (i: number) => {
      try {
        const vm = await httpJson(s.socket, 'POST', '/v1/vms', { name: `load-${i}` });
        if (vm.status !== 201) return;
        acked.vms.push(vm.json.id);
        const ino = await httpJson(s.socket, 'POST', '/v1/inodes', { ownerVmId: vm.json.id, size: 2 * MiB });
        if (ino.status !== 201) return;
        acked.inodes.push(ino.json.inode.id);
        while (!stop) {
          const b = await httpJson(s.socket, 'POST', `/v1/files/${ino.json.file.id}/bindings`, { gpa: 0, offset: 0, size: MiB });
          if (b.status !== 201) return;
          acked.bound.push(b.json.id);
          const d = await httpJson(s.socket, 'DELETE', `/v1/bindings/${b.json.id}`);
          if (d.status !== 200) return;
          acked.unbound.push(b.json.id);
        }
      } catch { /* the connection died with the server */ }
    };
    const clients = Array.from({ length: CLIENTS }, (_, i) => client(i));
    // Let the load build up, then kill while requests are in flight.
    while (acked.unbound.length < 200 && s.child.exitCode === null) await new Promise((r) => setTimeout(r, 20));
    s.child.kill('SIGKILL');
    stop = true;
    await Promise.all(clients);
    await s.exited;
    assert.ok(acked.unbound.length >= 200, 'the load ran');

    const db = new Database(env.GMEMD_DB, { readonly: true });
    try {
      assert.equal((db.pragma('integrity_check') as { integrity_check: string }[])[0]!.integrity_check, 'ok');
      const chain = verifyLedger(db);
      assert.ok(chain.ok, JSON.stringify(chain));
      const has = (table: string, ids: string[]) => {
        const q = db.prepare(`SELECT 1 FROM ${table} WHERE id = ?`);
        return ids.filter((id) => q.get(id) === undefined);
      };
      assert.deepEqual(has('vms', acked.vms), []);
      assert.deepEqual(has('inodes', acked.inodes), []);
      assert.deepEqual(has('bindings', acked.bound), []);
      const state = db.prepare('SELECT state FROM bindings WHERE id = ?');
      assert.deepEqual(acked.unbound.filter((id) => (state.get(id) as { state: string }).state !== 'deleted'), [], 'every acknowledged unbind is recorded');
      const events = db.prepare("SELECT count(*) n FROM events WHERE action IN ('binding.create', 'binding.delete') AND outcome = 'ok'").get() as { n: number };
      assert.ok(events.n >= acked.bound.length + acked.unbound.length);
    } finally { db.close(); }
  } finally {
    tmp.cleanup();
  }
});
