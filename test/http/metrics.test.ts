// /metrics after a scripted history: every figure an operator graphs has the value the
// history implies. Simulated backend with a small fd limit, so one VM creation is refused by
// the (simulated) kernel with EMFILE, as a host out of fds would refuse it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createSimulatedHost } from '../../src/kvm/simulated/sim-host.js';
import { Store } from '../../src/store/store.js';
import { createContext } from '../../src/services/context.js';
import { buildApp } from '../../src/http/app.js';
import { startWalCheckpointer } from '../../src/store/wal-checkpointer.js';
import { authOf, call, MiB } from '../support/app.js';
import { tempDir } from '../support/tmp.js';

/** The value of one sample line, e.g. sample(text, 'gmemd_vms{state="active"}'). */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  assert.ok(line, `no sample ${series}`);
  return Number(line.slice(series.length + 1));
}

test('the metrics after a scripted history', async () => {
  const tmp = tempDir();
  const store = Store.open(join(tmp.dir, 'gmemd.db'));
  // Five fds: three VMs and two guest_memfds fit, a sixth object does not.
  const kvm = createSimulatedHost({ fdBase: 1000, fdLimit: 1005 });
  const app = await buildApp({ ctx: createContext(store, kvm) });
  try {
    const vm = async (name: string) => (await call(app, 'POST', '/v1/vms', { name }));
    const [a, b, c] = [(await vm('m-a')).json.id, (await vm('m-b')).json.id, (await vm('m-c')).json.id];
    const shared = (await call(app, 'POST', '/v1/inodes', { ownerVmId: a, size: 2 * MiB })).json;
    const priv = (await call(app, 'POST', '/v1/inodes', { ownerVmId: a, size: MiB, shareable: false })).json;
    assert.equal(priv.inode.shareable, false);
    assert.equal((await call(app, 'POST', `/v1/files/${shared.file.id}/bindings`, { gpa: 0x100000, offset: 0, size: MiB })).json.kind, 'gmem');
    const grant = (await call(app, 'POST', `/v1/files/${shared.file.id}/shares`, { vmId: b, permissions: ['read'] })).json;
    assert.equal((await call(app, 'POST', `/v1/files/${grant.id}/bindings`, { gpa: 0x200000, offset: 0, size: MiB })).json.kind, 'view');
    const denied = await call(app, 'POST', `/v1/files/${shared.file.id}/shares`, { vmId: c, permissions: ['read', 'allocate'] });
    assert.equal(denied.status, 403);
    assert.equal((await call(app, 'DELETE', `/v1/vms/${c}`)).status, 200);
    assert.equal((await vm('m-d')).status, 201, 'c\'s fd was freed');
    const refused = await vm('m-e');
    assert.deepEqual([refused.status, refused.json.errno, refused.json.operation], [503, 'EMFILE', 'KVM_CREATE_VM']);

    const scrape = async () => {
      const r = await app.inject({ method: 'GET', url: '/metrics', headers: authOf(app) });
      assert.equal(r.statusCode, 200);
      return r.body;
    };
    const m = await scrape();
    assert.equal(sample(m, 'gmemd_vms{state="active"}'), 3);
    assert.equal(sample(m, 'gmemd_vms{state="destroyed"}'), 1);
    assert.equal(sample(m, 'gmemd_vms{state="lost"}'), 0);
    assert.equal(sample(m, 'gmemd_inodes_live{shareable="true"}'), 1);
    assert.equal(sample(m, 'gmemd_inodes_live{shareable="false"}'), 1);
    assert.equal(sample(m, 'gmemd_inode_bytes_live{shareable="true"}'), 2 * MiB);
    assert.equal(sample(m, 'gmemd_inode_bytes_live{shareable="false"}'), MiB);
    assert.equal(sample(m, 'gmemd_inode_bytes_multi_vm'), 2 * MiB, 'the shared inode: a and b hold files on it');
    assert.equal(sample(m, 'gmemd_bindings_active{kind="gmem"}'), 1);
    assert.equal(sample(m, 'gmemd_bindings_active{kind="view"}'), 1);
    assert.equal(sample(m, 'gmemd_kernel_errors_total{operation="KVM_CREATE_VM",errno="EMFILE"}'), 1);
    assert.equal(sample(m, 'gmemd_kernel_fds_held'), 5);
    const head = sample(m, 'gmemd_audit_head_seq');
    assert.equal(sample(m, 'gmemd_audit_events_total{outcome="denied"}'), 1);
    assert.equal(sample(m, 'gmemd_audit_events_total{outcome="failed"}'), 1);
    assert.equal(sample(m, 'gmemd_audit_events_total{outcome="ok"}'), head - 2);
    assert.ok(head >= 12, `head ${head}`);
    // Every committed transaction is one batch of one until group commit batches several.
    const batches = sample(m, 'gmemd_commit_batch_size_count');
    assert.ok(batches >= head - 2, `${batches} batches for ${head} events`);
    assert.equal(sample(m, 'gmemd_commit_batch_size_bucket{le="1"}'), batches);
    assert.equal(sample(m, 'gmemd_http_request_duration_seconds_count{route="/v1/vms",method="POST",status="201"}'), 4);
    assert.equal(sample(m, 'gmemd_http_request_duration_seconds_count{route="/v1/files/:fileId/bindings",method="POST",status="201"}'), 2);
    assert.equal(sample(m, 'gmemd_http_request_duration_seconds_count{route="/v1/vms",method="POST",status="503"}'), 1);
    assert.equal(sample(m, 'gmemd_http_requests_total{route="/v1/files/:fileId/shares",method="POST",status="403"}'), 1);

    // Counters advance by what happened since the previous scrape, and no more.
    await call(app, 'POST', `/v1/files/${grant.id}/shares`, { vmId: a, permissions: ['read'] });
    const m2 = await scrape();
    assert.equal(sample(m2, 'gmemd_audit_events_total{outcome="denied"}'), 2);
    assert.equal(sample(m2, 'gmemd_audit_events_total{outcome="ok"}'), head - 2);
    assert.equal(sample(m2, 'gmemd_kernel_errors_total{operation="KVM_CREATE_VM",errno="EMFILE"}'), 1);
    assert.equal(sample(m2, 'gmemd_http_request_duration_seconds_count{route="/metrics",method="GET",status="200"}'), 1);
  } finally {
    await app.close(); // the simulated host's objects go with it
    store.close();
    tmp.cleanup();
  }
});

test('the WAL checkpointer\'s counts, each scrape adding only what happened since the last', async () => {
  const tmp = tempDir();
  const path = join(tmp.dir, 'gmemd.db');
  const store = Store.open(path);
  // A restart as soon as the WAL holds a frame: the writes below make some.
  const cp = startWalCheckpointer(store.ledger.sqlite, path, { everyMs: 5, restartFrames: 1 });
  const app = await buildApp({ ctx: createContext(store, createSimulatedHost()), wal: cp.stats });
  try {
    const scrape = async () => (await app.inject({ method: 'GET', url: '/metrics', headers: authOf(app) })).body;
    for (let i = 0; i < 20; i++) assert.equal((await call(app, 'POST', '/v1/vms', { name: `w-${i}` })).status, 201);
    const waitFor = async (cond: () => boolean) => { for (let i = 0; i < 300 && !cond(); i++) await new Promise((r) => setTimeout(r, 10)); };
    await waitFor(() => cp.stats.restarts > 0);
    // Ten reports with no write: restarts and the frame count have settled (the checkpoints go on).
    const settled = cp.stats.checkpoints + 10;
    await waitFor(() => cp.stats.checkpoints >= settled);
    assert.ok(cp.stats.restarts > 0 && cp.stats.checkpoints >= settled, `restarts ${cp.stats.restarts}, checkpoints ${cp.stats.checkpoints}`);
    const first = await scrape();
    assert.equal(sample(first, 'gmemd_wal_restarts_total'), cp.stats.restarts);
    assert.equal(sample(first, 'gmemd_wal_frames'), cp.stats.lastLogFrames);
    assert.equal(sample(first, 'gmemd_wal_fallbacks_total'), 0);
    assert.equal(sample(first, 'gmemd_wal_restarts_refused_total'), cp.stats.restartsRefused);
    const checkpoints = sample(first, 'gmemd_wal_checkpoints_total');
    assert.ok(checkpoints >= settled && checkpoints <= cp.stats.checkpoints, `${checkpoints} checkpoints`);
    // Read again: the totals are the stats' own, not what two scrapes added up.
    const second = await scrape();
    assert.equal(sample(second, 'gmemd_wal_restarts_total'), cp.stats.restarts);
    const again = sample(second, 'gmemd_wal_checkpoints_total');
    assert.ok(again >= checkpoints && again <= cp.stats.checkpoints, `${again} checkpoints after ${checkpoints}`);
  } finally {
    await app.close();
    await cp.stop();
    store.close();
    tmp.cleanup();
  }
});
