// Quotas and limits over real HTTP (inject), each test with its own ledger and limits: a
// refused create answers its 409 code, leaves exactly one denied event and creates no
// ledger row and no kernel object; concurrent creates cannot overrun a quota together; the
// rate limiter answers 429 with Retry-After; over-long ids and names are 400s; idempotency
// records expire; the host scan and the memslot sweep stop at their deadlines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { totalmem } from 'node:os';
import { connect, type AddressInfo } from 'node:net';
import { describeBackends, call, makeApp, MiB, type TestApp } from '../support/app.js';
import type { Limits } from '../../src/domain/limits.js';

type Opts = { limits?: Partial<Limits>; now?: () => number };

async function withApp(kind: 'native' | 'simulated', opts: Opts, body: (t: TestApp) => Promise<void>) {
  const t = await makeApp(kind, opts);
  try { await body(t); } finally { await t.close(); }
}

const q = (t: TestApp, sql: string) => (t.store.ledger.sqlite.prepare(sql).get() as { n: number }).n;
const rows = (t: TestApp) => ({ vms: q(t, 'SELECT count(*) n FROM vms'), inodes: q(t, 'SELECT count(*) n FROM inodes'),
  files: q(t, 'SELECT count(*) n FROM files'), bindings: q(t, 'SELECT count(*) n FROM bindings') });
/** kvm-vm and kvm-gmem fds this process holds, as the kernel port reports them. */
function kernelFds(t: TestApp) {
  const h = t.kvm.heldFds();
  assert.ok(h.ok);
  return { vm: h.value.filter((f) => f.kind === 'kvm-vm').length, gmem: h.value.filter((f) => f.kind === 'kvm-gmem').length };
}
function eventsAfter(t: TestApp, seq: number) {
  return t.store.ledger.sqlite.prepare('SELECT action, outcome, error_code AS errorCode FROM events WHERE seq > ? ORDER BY seq').all(seq);
}
const head = (t: TestApp) => t.store.chain.getHead().seq;

/** Runs `refused`, and checks it answered `status`/`code`, wrote one denied event and nothing else. */
async function refusedAlone(t: TestApp, action: string, status: number, code: string, refused: () => Promise<{ status: number; json: any }>) {
  const before = { seq: head(t), rows: rows(t), fds: kernelFds(t), gmems: t.ctx.registry.gmems.size, vms: t.ctx.registry.vms.size };
  const r = await refused();
  assert.equal(r.status, status, JSON.stringify(r.json));
  assert.equal(r.json.code, code);
  assert.deepEqual(eventsAfter(t, before.seq), [{ action, outcome: 'denied', errorCode: code }]);
  assert.deepEqual(rows(t), before.rows);
  assert.deepEqual(kernelFds(t), before.fds);
  assert.deepEqual([t.ctx.registry.gmems.size, t.ctx.registry.vms.size], [before.gmems, before.vms]);
  return r.json;
}

describeBackends('quotas and limits over HTTP', (kind) => {
  test('GET /v1/host shows the limits in force and each default on this host', async () => {
    await withApp(kind, { limits: { maxVms: 5 } }, async (t) => {
      const r = await call(t.app, 'GET', '/v1/host');
      assert.equal(r.status, 200);
      const l = r.json.limits;
      assert.equal(l.maxVms, 5);
      assert.equal(l.defaults.maxVms, 1024);
      assert.equal(l.defaults.memoryBudgetBytes, Math.floor(totalmem() / 2 / 4096) * 4096);
      assert.equal(l.memoryBudgetBytes, l.defaults.memoryBudgetBytes);
      assert.equal(l.maxBindingsPerVm, r.json.capabilities.nrMemslots - 1);
      assert.equal(l.maxInodeSizeBytes, Math.min(2 ** 40, l.memoryBudgetBytes));
      assert.equal(l.idempotencyTtlSeconds, 86400);
      assert.equal(l.wire.idMaxLength, 64);
      assert.equal(l.wire.pageLimitMax, 1000);
    });
  });

  test('quota.vms: the VM over the limit is refused and no kernel VM is created', async () => {
    await withApp(kind, { limits: { maxVms: 2 } }, async (t) => {
      for (const name of ['a', 'b']) assert.equal((await call(t.app, 'POST', '/v1/vms', { name })).status, 201);
      const p = await refusedAlone(t, 'vm.create', 409, 'quota.vms', () => call(t.app, 'POST', '/v1/vms', { name: 'c' }));
      assert.deepEqual([p.limit, p.used], [2, 2]);
      // A destroyed VM frees its place.
      const list = (await call(t.app, 'GET', '/v1/vms')).json.items;
      assert.equal((await call(t.app, 'DELETE', `/v1/vms/${list[0].id}`)).status, 200);
      assert.equal((await call(t.app, 'POST', '/v1/vms', { name: 'c' })).status, 201);
    });
  });

  test('quota.inodes: the inode over the count is refused and no guest_memfd is created', async () => {
    await withApp(kind, { limits: { maxInodes: 1 } }, async (t) => {
      const vm = (await call(t.app, 'POST', '/v1/vms', { name: 'owner' })).json;
      assert.equal((await call(t.app, 'POST', '/v1/inodes', { ownerVmId: vm.id, size: MiB })).status, 201);
      await refusedAlone(t, 'inode.create', 409, 'quota.inodes', () => call(t.app, 'POST', '/v1/inodes', { ownerVmId: vm.id, size: MiB }));
    });
  });

  test('quota.memory: live inodes stay within the budget; a size beyond it is refused on an empty host', async () => {
    await withApp(kind, { limits: { memoryBudgetBytes: 4 * MiB } }, async (t) => {
      const vm = (await call(t.app, 'POST', '/v1/vms', { name: 'owner' })).json;
      await refusedAlone(t, 'inode.create', 409, 'quota.memory', () => call(t.app, 'POST', '/v1/inodes', { ownerVmId: vm.id, size: 8 * MiB }));
      assert.equal((await call(t.app, 'POST', '/v1/inodes', { ownerVmId: vm.id, size: 3 * MiB })).status, 201);
      const p = await refusedAlone(t, 'inode.create', 409, 'quota.memory', () => call(t.app, 'POST', '/v1/inodes', { ownerVmId: vm.id, size: 2 * MiB }));
      assert.deepEqual([p.limit, p.used, p.requested, p.free], [4 * MiB, 3 * MiB, 2 * MiB, MiB]);
      assert.equal((await call(t.app, 'POST', '/v1/inodes', { ownerVmId: vm.id, size: MiB })).status, 201, 'what is left still fits');
      // 64 TiB is past the fixed bound of the wire schema: a 400 before any decision.
      assert.equal((await call(t.app, 'POST', '/v1/inodes', { ownerVmId: vm.id, size: 64 * 2 ** 40 })).status, 400);
    });
  });

  test('concurrent creates cannot overrun the memory budget or the VM count together', async () => {
    await withApp(kind, { limits: { memoryBudgetBytes: 4 * MiB, maxVms: 3 } }, async (t) => {
      const vm = (await call(t.app, 'POST', '/v1/vms', { name: 'owner' })).json;
      const inodes = await Promise.all([1, 2, 3, 4, 5].map(() => call(t.app, 'POST', '/v1/inodes', { ownerVmId: vm.id, size: 2 * MiB })));
      assert.deepEqual(inodes.map((r) => r.status).sort(), [201, 201, 409, 409, 409]);
      assert.equal(t.store.inodes.liveBytes(), 4 * MiB);
      const vms = await Promise.all(['v1', 'v2', 'v3', 'v4'].map((name) => call(t.app, 'POST', '/v1/vms', { name })));
      assert.deepEqual(vms.map((r) => r.json.code ?? r.status).sort(), [201, 201, 'quota.vms', 'quota.vms']);
      assert.equal(t.store.vms.countActive(), 3);
      assert.deepEqual([t.ctx.pipeline.pending.vms, t.ctx.pipeline.pending.inodes, t.ctx.pipeline.pending.inodeBytes], [0, 0, 0], 'every reservation released');
    });
  });

  test('quota.bindings: the binding over the per-VM limit is refused and the kernel has no memslot for it', async () => {
    await withApp(kind, { limits: { maxBindingsPerVm: 2 } }, async (t) => {
      const vm = (await call(t.app, 'POST', '/v1/vms', { name: 'binder' })).json;
      const file = (await call(t.app, 'POST', '/v1/inodes', { ownerVmId: vm.id, size: 4 * MiB })).json.file;
      const bind = (i: number) => call(t.app, 'POST', `/v1/files/${file.id}/bindings`, { gpa: (i + 1) * 16 * MiB, offset: i * MiB, size: MiB });
      // Three at once: the in-flight claims count, so only two pass.
      const first = await Promise.all([0, 1, 2].map(bind));
      assert.deepEqual(first.map((r) => r.json.code ?? r.status).sort(), [201, 201, 'quota.bindings']);
      const slots = t.ctx.registry.memslots.get(vm.id);
      assert.equal(slots?.size, 2);
      await refusedAlone(t, 'binding.create', 409, 'quota.bindings', () => bind(3));
      assert.equal(t.ctx.registry.memslots.get(vm.id)?.size, 2);
      const vmFd = t.ctx.registry.vmFd(vm.id)!;
      const { memslotExists } = await import('../../src/kvm/memslot-probe.js');
      const used = new Set(first.filter((r) => r.status === 201).map((r) => r.json.slot));
      for (let s = 0; s < 4; s++) assert.deepEqual(memslotExists(t.kvm, vmFd, s), { ok: true, value: used.has(s) }, `slot ${s}`);
    });
  });

  test('quota.bindings on a migration: the target cannot take more than its limit; nothing is prepared', async () => {
    await withApp(kind, { limits: { maxBindingsPerVm: 2 } }, async (t) => {
      const vm = async (name: string) => (await call(t.app, 'POST', '/v1/vms', { name })).json.id as string;
      const source = await vm('source'), target = await vm('target');
      const bindOn = async (owner: string, gpas: number[], firstSlot: number) => {
        const { file } = (await call(t.app, 'POST', '/v1/inodes', { ownerVmId: owner, size: 4 * MiB })).json;
        for (const [i, gpa] of gpas.entries()) {
          assert.equal((await call(t.app, 'POST', `/v1/files/${file.id}/bindings`, { gpa, offset: i * MiB, size: MiB, slot: firstSlot + i })).status, 201);
        }
      };
      // Slots and guest ranges apart, so the plan itself has no conflict: only the count is too high.
      await bindOn(source, [16 * MiB, 32 * MiB], 0);
      await bindOn(target, [64 * MiB], 5);
      const before = q(t, 'SELECT count(*) n FROM migrations');
      const p = await refusedAlone(t, 'migration.prepare', 409, 'quota.bindings',
        () => call(t.app, 'POST', '/v1/migrations', { sourceVmId: source, targetVmId: target }));
      assert.deepEqual([p.limit, p.used, p.requested], [2, 1, 2]);
      assert.equal(q(t, 'SELECT count(*) n FROM migrations'), before);
    });
  });

  test('ids, names, labels and page sizes past their bounds are 400s; a mutating one leaves a denied event only', async () => {
    await withApp(kind, {}, async (t) => {
      const long = 'a'.repeat(65);
      const get = await call(t.app, 'GET', `/v1/vms/${long}`);
      assert.equal(get.status, 400);
      assert.equal(get.json.code, 'request.invalid');
      assert.equal((await call(t.app, 'GET', `/v1/vms/${'a'.repeat(64)}`)).status, 404, 'at the bound: a well-formed id that names nothing');
      assert.equal((await call(t.app, 'GET', '/v1/vms/vm_x%20y')).status, 400, 'outside the safe set');
      assert.equal((await call(t.app, 'GET', `/v1/bindings?vmId=${long}`)).status, 400);
      assert.equal((await call(t.app, 'GET', `/v1/audit/events?inodeId=${'x'.repeat(60_000)}`)).status, 400);
      assert.equal((await call(t.app, 'GET', '/v1/vms?limit=1001')).status, 400);
      assert.equal((await call(t.app, 'GET', '/v1/vms?limit=1000')).status, 200);
      await refusedAlone(t, 'inode.create', 400, 'request.invalid', () => call(t.app, 'POST', '/v1/inodes', { ownerVmId: 'v'.repeat(60_000 / 2), size: MiB }));
      await refusedAlone(t, 'vm.create', 400, 'request.invalid', () => call(t.app, 'POST', '/v1/vms', { name: 'n'.repeat(129) }));
      const labels = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v']));
      await refusedAlone(t, 'vm.create', 400, 'request.invalid', () => call(t.app, 'POST', '/v1/vms', { name: 'many-labels', labels }));
      await refusedAlone(t, 'vm.create', 400, 'request.invalid', () => call(t.app, 'POST', '/v1/vms', { name: 'long-key', labels: { ['k'.repeat(64)]: 'v' } }));
      assert.equal((await call(t.app, 'POST', '/v1/vms', { name: 'n'.repeat(128), labels: { ['k'.repeat(63)]: 'v'.repeat(255) } })).status, 201);
      // The refused bodies did not reach the ledger: no event carries a 30 KB id.
      const biggest = (t.store.ledger.sqlite.prepare('SELECT max(length(details)) n FROM events').get() as { n: number }).n;
      assert.ok(biggest < 4096, `largest event details: ${biggest} bytes`);
    });
  });
});

describeBackends('rate limit, idempotency expiry and deadlines', (kind) => {
  test('past the per-minute budget: 429 problem+json rate.limited with Retry-After; probes and other tokens unaffected', async () => {
    await withApp(kind, { limits: { rateLimitPerMinute: 3 } }, async (t) => {
      for (let i = 0; i < 3; i++) assert.equal((await call(t.app, 'GET', '/v1/vms')).status, 200);
      const r = await call(t.app, 'GET', '/v1/vms');
      assert.equal(r.status, 429);
      assert.equal(r.headers['content-type'], 'application/problem+json; charset=utf-8');
      assert.equal(r.json.code, 'rate.limited');
      assert.equal(r.json.status, 429);
      const after = Number(r.headers['retry-after']);
      assert.ok(Number.isInteger(after) && after >= 1 && after <= 60, `Retry-After: ${r.headers['retry-after']}`);
      assert.equal(r.json.retryAfterSeconds, after);
      // A refused write is refused before it is read: nothing recorded.
      const seq = head(t);
      assert.equal((await call(t.app, 'POST', '/v1/vms', { name: 'late' })).status, 429);
      assert.equal(head(t), seq);
      assert.equal(rows(t).vms, 0);
      for (let i = 0; i < 5; i++) {
        assert.equal((await call(t.app, 'GET', '/livez')).status, 200);
        assert.equal((await call(t.app, 'GET', '/readyz')).status, 200);
      }
      // Each token has its own budget: keyed by a hash of the Authorization header.
      for (let i = 0; i < 3; i++) assert.notEqual((await call(t.app, 'GET', '/v1/vms', undefined, { authorization: 'Bearer other' })).status, 429);
      assert.equal((await call(t.app, 'GET', '/v1/vms', undefined, { authorization: 'Bearer other' })).status, 429);
    });
  });

  test('timeouts reach the HTTP server; a limit of 0 turns the rate limiter off', async () => {
    await withApp(kind, { limits: { rateLimitPerMinute: 0, headersTimeoutMs: 1234, requestTimeoutMs: 5678, connectionTimeoutMs: 9012 } }, async (t) => {
      assert.deepEqual([t.app.server.headersTimeout, t.app.server.requestTimeout, t.app.server.timeout], [1234, 5678, 9012]);
      for (let i = 0; i < 50; i++) assert.equal((await call(t.app, 'GET', '/v1/vms')).status, 200);
    });
  });

  test('a client that never finishes its headers, or its body, is answered 408 and cut off; no VM is created', async () => {
    await withApp(kind, { limits: { headersTimeoutMs: 200, requestTimeoutMs: 400 } }, async (t) => {
      await t.app.listen({ host: '127.0.0.1', port: 0 });
      const { port } = t.app.server.address() as AddressInfo;
      const seq = head(t);
      const slow = (text: string) => new Promise<string>((resolve, reject) => {
        const s = connect(port, '127.0.0.1', () => s.write(text));
        let got = '';
        s.on('data', (d) => { got += d; });
        s.on('close', () => resolve(got));
        s.on('error', reject);
        // A guard against a hang, not a timing claim: the server must close it well before.
        setTimeout(() => { s.destroy(); resolve(`no answer; got ${JSON.stringify(got)}`); }, 20_000).unref();
      });
      assert.match(await slow('GET /v1/vms HTTP/1.1\r\nHost: x\r\n'), /^HTTP\/1\.1 408/);
      assert.match(await slow('POST /v1/vms HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"name":'), /^HTTP\/1\.1 408/);
      // The body that never came is refused like a malformed one: a denied event, no VM.
      assert.deepEqual(eventsAfter(t, seq), [{ action: 'vm.create', outcome: 'denied', errorCode: 'request.invalid' }]);
      assert.equal(rows(t).vms, 0);
    });
  });

  test('an Idempotency-Key reply is replayed until its TTL, then the key is a new request; prune deletes expired records', async () => {
    let now = Date.parse('2026-12-01T00:00:00Z');
    await withApp(kind, { now: () => now, limits: { idempotencyTtlSeconds: 3600 } }, async (t) => {
      const k = { 'idempotency-key': 'expiring-1' };
      const first = await call(t.app, 'POST', '/v1/vms', { name: 'idem' }, k);
      assert.equal(first.status, 201);
      now += 3599_000;
      const replay = await call(t.app, 'POST', '/v1/vms', { name: 'idem' }, k);
      assert.equal(replay.headers['idempotent-replayed'], 'true');
      assert.deepEqual(replay.json, first.json);
      now += 2000; // past the hour
      const fresh = await call(t.app, 'POST', '/v1/vms', { name: 'idem' }, k);
      assert.equal(fresh.headers['idempotent-replayed'], undefined);
      assert.equal(fresh.status, 409, 'decided anew: the VM of the first request holds the name');
      assert.equal(fresh.json.code, 'vm.name_taken');
      // The new reply replaced the expired one under the key.
      assert.equal((await call(t.app, 'POST', '/v1/vms', { name: 'idem' }, k)).headers['idempotent-replayed'], 'true');
      await call(t.app, 'POST', '/v1/vms', { name: 'idem-2' }, { 'idempotency-key': 'expiring-2' });
      const count = () => q(t, 'SELECT count(*) n FROM idempotency');
      assert.equal(count(), 2);
      assert.equal(t.store.idempotency.prune(), 0, 'nothing has expired yet');
      now += 3601_000;
      assert.equal(t.store.idempotency.prune(), 2);
      assert.equal(count(), 0);
    });
  });

  test('the host scan stops at its deadline and says so; without one it reads every process', async () => {
    // A clock that moves 1 s on every reading: the scan's deadline passes after two processes.
    let now = Date.parse('2026-12-01T00:00:00Z');
    const tick = () => (now += 1000);
    await withApp(kind, { now: tick, limits: { hostScanDeadlineMs: 2500 } }, async (t) => {
      const r = await call(t.app, 'GET', '/v1/host/scan');
      assert.equal(r.status, 200);
      assert.equal(r.json.truncated, true);
      assert.equal(r.json.deadlineMs, 2500);
      assert.equal(r.json.scanned + r.json.unreadable, 2);
      assert.ok(r.json.skipped > 0);
    });
    await withApp(kind, {}, async (t) => {
      const r = await call(t.app, 'GET', '/v1/host/scan');
      assert.equal(r.json.truncated, false);
      assert.equal(r.json.skipped, 0);
      assert.ok(r.json.scanned > 2);
    });
  });

  test('the memslot sweep stops at its deadline and the reconcile report says so', async () => {
    let now = Date.parse('2026-12-01T00:00:00Z');
    let step = 0;
    await withApp(kind, { now: () => (now += step), limits: { memslotSweepDeadlineMs: 1500 } }, async (t) => {
      assert.equal((await call(t.app, 'POST', '/v1/vms', { name: 'swept' })).status, 201);
      const plain = await call(t.app, 'POST', '/v1/reconcile', { sweepSlots: true });
      assert.equal(plain.status, 200);
      assert.equal(plain.json.sweepTruncated, false, 'a still clock: the sweep finishes');
      step = 1000; // each look at the clock: 1 s later
      const cut = await call(t.app, 'POST', '/v1/reconcile', { sweepSlots: true });
      assert.equal(cut.status, 200);
      assert.equal(cut.json.sweepTruncated, true);
      const without = await call(t.app, 'POST', '/v1/reconcile', {});
      assert.equal(without.json.sweepTruncated, false);
    });
  });
});
