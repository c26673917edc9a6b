// Start-up reconcile, in process: a ledger written by one "process" (context and kernel) is
// opened by another that holds nothing. Every VM, inode, file and binding is marked lost
// (rows kept, history intact), each with one reconcile.lost event; open intents are resolved
// with reconcile.intent events; a prepared migration is aborted; access periods end; GET
// /v1/host and POST /v1/reconcile report it. A second pass finds nothing more.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSimulatedHost } from '../../src/kvm/simulated/sim-host.js';
import { Store } from '../../src/store/store.js';
import { createContext } from '../../src/services/context.js';
import { buildApp } from '../../src/http/app.js';
import { startupReconcile } from '../../src/reconcile/startup.js';
import { call, makeApp, MiB } from '../support/app.js';
import { ledgerViolations } from '../support/ledger-invariants.js';

test('a restart marks everything the ledger held lost, resolves intents, and says so', async () => {
  const first = await makeApp('simulated');
  const vm = async (name: string) => (await call(first.app, 'POST', '/v1/vms', { name })).json.id as string;
  const a = await vm('st-a'), b = await vm('st-b'), c = await vm('st-c'), gone = await vm('st-gone');
  const ino = (await call(first.app, 'POST', '/v1/inodes', { ownerVmId: a, size: 2 * MiB })).json;
  await call(first.app, 'POST', `/v1/files/${ino.file.id}/bindings`, { gpa: 0, offset: 0, size: MiB });
  const grant = (await call(first.app, 'POST', `/v1/files/${ino.file.id}/shares`, { vmId: b, permissions: ['read'] })).json;
  await call(first.app, 'POST', `/v1/files/${grant.id}/bindings`, { gpa: 0, offset: 0, size: MiB });
  const mig = (await call(first.app, 'POST', '/v1/migrations', { sourceVmId: a, targetVmId: c })).json;
  assert.equal((await call(first.app, 'DELETE', `/v1/vms/${gone}`)).status, 200);
  // An operation that recorded its intent and never finished (what a crash leaves).
  const intent = first.store.uow.run(() => first.store.intents.open('file.revoke', { files: [grant.id] }));
  const dbPath = first.dbPath;
  first.store.close();

  const store = Store.open(dbPath);
  try {
    const ctx = createContext(store, createSimulatedHost());
    const report = startupReconcile(ctx);
    assert.deepEqual(report.intents.map((i) => [i.intentId, i.kind, i.resolution]), [[intent.id, 'file.revoke', 'abandoned']]);
    assert.deepEqual(report.lost.vms.sort(), [a, b, c].sort(), 'the destroyed VM stays destroyed');
    assert.deepEqual(report.lost.inodes, [ino.inode.id]);
    assert.equal(report.lost.files.length, 3, 'owner, grantee and the pending migration file');
    assert.equal(report.lost.bindings.length, 2);
    assert.deepEqual(report.lost.migrations, [mig.id]);
    assert.equal(store.vms.get(gone)!.state, 'destroyed');
    assert.equal(store.migrations.get(mig.id)!.state, 'aborted');

    const sqlite = store.ledger.sqlite;
    const ev = sqlite.prepare('SELECT action, count(*) n FROM events WHERE seq BETWEEN ? AND ? GROUP BY action ORDER BY action')
      .all(report.events!.from, report.events!.to);
    assert.deepEqual(ev, [{ action: 'reconcile.intent', n: 1 }, { action: 'reconcile.lost', n: 3 + 1 + 3 + 2 + 1 }]);
    assert.deepEqual(ledgerViolations(sqlite), []);
    const rows = sqlite.prepare('SELECT (SELECT count(*) FROM vms) v, (SELECT count(*) FROM files) f, (SELECT count(*) FROM bindings) b').get();
    assert.deepEqual(rows, { v: 4, f: 3, b: 2 }, 'nothing deleted');
    const open = sqlite.prepare('SELECT count(*) n FROM access_intervals WHERE to_seq IS NULL').get() as { n: number };
    assert.equal(open.n, 0, 'every access period ends at its file\'s loss');

    const app = await buildApp({ ctx, lifecycle: { startup: report, handover: null, testHooks: false } });
    try {
      const host = (await call(app, 'GET', '/v1/host')).json;
      assert.deepEqual(host.reconcile.lost.vms.sort(), [a, b, c].sort());
      assert.equal(host.reconcile.intents[0].intentId, intent.id);
      const again = (await call(app, 'POST', '/v1/reconcile', {})).json;
      assert.deepEqual(again.drift, []);
      assert.deepEqual(again.startup.lost, host.reconcile.lost);
      assert.equal((await call(app, 'POST', `/v1/files/${grant.id}/bindings`, { gpa: MiB, offset: 0, size: MiB })).status, 409, 'a lost file cannot be bound');
    } finally { await app.close(); }

    const second = startupReconcile(ctx);
    assert.equal(second.events, null, 'a second pass finds nothing to record');
  } finally {
    store.close();
    await first.close();
  }
});

test('who else holds a lost inode: asked once, before the transaction, only when an inode is lost; a scan cut short says so', async () => {
  const first = await makeApp('simulated');
  const vm = (await call(first.app, 'POST', '/v1/vms', { name: 'held' })).json.id as string;
  const held = (await call(first.app, 'POST', '/v1/inodes', { ownerVmId: vm, size: 2 * MiB })).json.inode;
  const other = (await call(first.app, 'POST', '/v1/inodes', { ownerVmId: vm, size: 2 * MiB })).json.inode;
  const dbPath = first.dbPath;
  first.store.close();
  const store = Store.open(dbPath);
  try {
    const ctx = createContext(store, createSimulatedHost());
    const asked: boolean[] = [];
    const holders = () => {
      asked.push(store.ledger.sqlite.inTransaction);
      return { byIno: new Map([[held.kernelInode as number, [{ pid: 4242, command: 'qemu-system-x86' }]]]), skipped: 7 };
    };
    const report = startupReconcile(ctx, { holders });
    assert.deepEqual(asked, [false], 'one scan, outside the transaction');
    const details = (id: string) => JSON.parse((store.ledger.sqlite.prepare(`SELECT details FROM events
      WHERE action = 'reconcile.lost' AND inode_id = ? AND seq BETWEEN ? AND ? AND json_extract(details, '$.object') = 'inode'`)
      .get(id, report.events!.from, report.events!.to) as { details: string }).details);
    assert.deepEqual(details(held.id).heldBy, [{ pid: 4242, command: 'qemu-system-x86' }]);
    assert.equal(details(held.id).heldByUnknown, undefined);
    assert.equal(details(other.id).heldBy, undefined);
    assert.match(details(other.id).heldByUnknown, /stopped at its deadline, 7 processes unread/);
    startupReconcile(ctx, { holders });
    assert.deepEqual(asked, [false], 'nothing live is unheld any more: no scan');
  } finally {
    store.close();
    await first.close();
  }
});
