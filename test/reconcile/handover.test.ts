// An upgrade that keeps guest memory, end to end on the real server: a pattern written through
// the probe survives a handover (POST /v1/admin/handover, then SIGUSR2 to the successor) and
// is read back in every VM and grantee, with read-only views still read-only; the ledger and
// the kernel agree afterwards; requests sent throughout either succeed or get a retryable 503
// and none is lost. A private inode refuses the handover, and a forced one loses only it.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { httpJson, startServer, type ServerProcess } from '../support/server-process.js';
import { ledgerViolationsAt } from '../support/ledger-invariants.js';
import { needsGuestMemfd } from '../support/kvm.js';
import { tempDir } from '../support/tmp.js';

const MiB = 1024 * 1024;
const GPA = { a: 0x100000, b: 0x200000, c: 0x300000 };

const send = httpJson;

const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };
async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 120_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

for (const backend of ['simulated', 'native'] as const) {
  // As describeBackends does: a backend that cannot run here is one skipped test with the reason.
  const skip = backend === 'native' ? needsGuestMemfd() : {};
  if (skip.skip) { test(`handover keeps guest memory (${backend})`, skip, () => {}); continue; }
  describe(`handover keeps guest memory (${backend})`, () => {
    const tmp = tempDir();
    // The forced handover's workers create VMs as fast as the service takes them (1000+ on a
    // quiet host): the VM quota (default 1024) and the rate limit are not what this test is about.
    const env = { GMEMD_DB: join(tmp.dir, 'ledger.db'), GMEMD_LISTEN: `unix:${join(tmp.dir, 'gmemd.sock')}`, GMEMD_BACKEND: backend,
      GMEMD_MAX_VMS: '100000', GMEMD_RATE_LIMIT_PER_MINUTE: '0' };
    const socket = join(tmp.dir, 'gmemd.sock');
    const pids: number[] = [];
    let first: ServerProcess;
    const api = async (method: string, path: string, body?: unknown, status?: number) => {
      const r = await send(socket, method, path, body);
      if (status !== undefined) assert.equal(r.status, status, `${method} ${path}: ${JSON.stringify(r.json)}`);
      return r.json;
    };
    const probe = (vm: string, gpa: number, write?: number) => api('POST', `/v1/vms/${vm}/probe`, write === undefined ? { gpa } : { gpa, write }, 200);
    const vm: Record<string, string> = {};
    let shared: { id: string }, priv: { id: string };

    after(async () => {
      for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
      tmp.cleanup();
    });

    test('set up: one inode in three VMs (owner, read-only, read-write), a private inode, a pattern', async () => {
      first = await startServer(env);
      pids.push(first.child.pid!);
      for (const n of ['a', 'b', 'c', 'd']) vm[n] = (await api('POST', '/v1/vms', { name: `ho-${n}` }, 201)).id;
      const ino = await api('POST', '/v1/inodes', { ownerVmId: vm.a, size: 2 * MiB }, 201);
      shared = ino.inode;
      assert.equal((await api('POST', `/v1/files/${ino.file.id}/bindings`, { gpa: GPA.a, offset: 0, size: MiB }, 201)).kind, 'gmem');
      for (const [n, perms] of [['b', ['read']], ['c', ['read', 'write']]] as const) {
        const g = await api('POST', `/v1/files/${ino.file.id}/shares`, { vmId: vm[n], permissions: perms }, 201);
        await api('POST', `/v1/files/${g.id}/bindings`, { gpa: GPA[n], offset: 0, size: MiB }, 201);
      }
      const p = await api('POST', '/v1/inodes', { ownerVmId: vm.d, size: MiB, shareable: false }, 201);
      priv = p.inode;
      // A type-0 guest cannot reach a private gmem through any memslot (KERNEL.md, first
      // section), so binding it is refused; the inode itself exists and holds memory.
      const refused = await send(socket, 'POST', `/v1/files/${p.file.id}/bindings`, { gpa: GPA.a, offset: 0, size: MiB });
      assert.equal(refused.status, 409);
      assert.equal(refused.json.code, 'inode.not_guest_reachable');
      assert.equal((await probe(vm.a, GPA.a + 0x10, 0xab)).value, 0xab);
      assert.equal((await probe(vm.a, GPA.a + 0x11, 0xcd)).value, 0xcd);
      assert.deepEqual(await probe(vm.d, GPA.a), { vmId: vm.d, gpa: GPA.a, outcome: 'unmapped' });
      assert.equal((await probe(vm.b, GPA.b + 0x10)).value, 0xab);
      assert.equal((await probe(vm.c, GPA.c + 0x11)).value, 0xcd);
    });

    test('a private inode refuses the handover and is named', async () => {
      const r = await send(socket, 'POST', '/v1/admin/handover', {});
      assert.equal(r.status, 409);
      assert.equal(r.json.code, 'handover.private_inodes');
      assert.deepEqual(r.json.inodes, [priv.id]);
      assert.equal((await api('GET', '/v1/host', undefined, 200)).service.pid, first.child.pid, 'nothing changed hands');
    });

    test('forced: the successor serves, every request sent meanwhile succeeds or is retryable, none lost', async () => {
      const outcomes: { key: string; status: number; code?: string; retryAfter?: unknown; id?: string }[] = [];
      const failures: string[] = [];
      let stop = false;
      let n = 0;
      const worker = async () => {
        while (!stop) {
          const key = `load-${n++}`;
          try {
            const w = await send(socket, 'POST', '/v1/vms', { name: key }, { 'idempotency-key': key });
            outcomes.push({ key, status: w.status, code: w.json?.code, retryAfter: w.headers['retry-after'], id: w.json?.id });
            const r = await send(socket, 'GET', `/v1/vms/${vm.a}`);
            if (r.status !== 200) failures.push(`GET during handover: ${r.status}`);
          } catch (e) {
            failures.push(`${key}: ${(e as Error).message}`);
          }
        }
      };
      const workers = [worker(), worker(), worker()];
      const t0 = Date.now();
      let h;
      try {
        const r = await send(socket, 'POST', '/v1/admin/handover', { force: true });
        assert.equal(r.status, 200, JSON.stringify(r.json));
        h = r.json;
        pids.push(h.successorPid);
        assert.equal(h.fromPid, first.child.pid);
        assert.notEqual(h.successorPid, first.child.pid);
        assert.equal(await first.exited, 0, 'the old process exits cleanly');
        await new Promise((res) => setTimeout(res, 300)); // a little traffic on the successor alone
      } finally {
        // A failed assertion must not leave the workers sending forever.
        stop = true;
        await Promise.all(workers);
      }
      assert.deepEqual(failures, [], 'no request failed at the connection or with a non-retryable answer');
      assert.ok(outcomes.some((o) => o.status === 503), `writes overlapped the handover (${outcomes.length} in ${Date.now() - t0} ms)`);
      for (const o of outcomes) {
        if (o.status === 201) continue;
        assert.deepEqual([o.status, o.code, o.retryAfter], [503, 'handover.in_progress', '1'], JSON.stringify(o));
      }
      // Every refused request succeeds when retried after the handover, and every accepted one is there.
      for (const o of outcomes.filter((x) => x.status === 503)) {
        const again = await send(socket, 'POST', '/v1/vms', { name: o.key }, { 'idempotency-key': o.key });
        assert.equal(again.status, 201, JSON.stringify(again.json));
        o.id = again.json.id;
      }
      for (const o of outcomes) assert.equal((await api('GET', `/v1/vms/${o.id}`, undefined, 200)).vm.state, 'active', o.key);
      assert.ok(h.vms.includes(vm.a) && h.vms.includes(vm.d));
      assert.deepEqual(h.inodes, [shared.id]);
      assert.deepEqual(h.lostInodes, [priv.id]);
      assert.equal(h.memslots, 3);
    });

    test('after it: every VM and grantee reads the pattern, read-only stays read-only, writes are shared', async () => {
      const host = await api('GET', '/v1/host', undefined, 200);
      assert.notEqual(host.service.pid, first.child.pid);
      assert.equal(host.reconcile.cause, 'handover');
      assert.deepEqual(host.reconcile.lost.inodes, [priv.id]);
      assert.equal((await probe(vm.a, GPA.a + 0x10)).value, 0xab);
      assert.equal((await probe(vm.b, GPA.b + 0x10)).value, 0xab);
      assert.equal((await probe(vm.b, GPA.b + 0x10, 0x11)).outcome, 'write_trapped');
      assert.equal((await probe(vm.c, GPA.c + 0x11)).value, 0xcd);
      assert.equal((await probe(vm.c, GPA.c + 0x12, 0x77)).wrote, true);
      assert.equal((await probe(vm.a, GPA.a + 0x12)).value, 0x77);
      assert.equal((await probe(vm.d, GPA.a)).outcome, 'unmapped', 'the private inode could not come along');
    });

    test('after it: ledger and kernel agree, and the ledger records the handover per VM', async () => {
      assert.deepEqual((await api('POST', '/v1/reconcile', {}, 200)).drift, []);
      const bindings = (await api('GET', `/v1/bindings?inodeId=${shared.id}&state=active`, undefined, 200)).items;
      assert.deepEqual(bindings.map((b: { kind: string }) => b.kind), ['view', 'view', 'view']);
      assert.deepEqual(bindings.map((b: { readonly: boolean }) => b.readonly).sort(), [false, false, true]);
      const migs = (await api('GET', '/v1/migrations?state=committed&limit=1000', undefined, 200)).items.filter((m: { kind: string }) => m.kind === 'handover');
      for (const id of Object.values(vm)) assert.equal(migs.filter((m: { sourceVmId: string; targetVmId: string }) => m.sourceVmId === id && m.targetVmId === id).length, 1, id);
      assert.equal((await api('GET', `/v1/vms/${vm.a}`, undefined, 200)).vm.state, 'active', 'each VM keeps its identity');
      assert.deepEqual(ledgerViolationsAt(env.GMEMD_DB), []);
    });

    test('SIGUSR2 hands over again; new memory binds as gmem on the new kernel VM', async () => {
      const before = (await api('GET', '/v1/host', undefined, 200)).service.pid as number;
      process.kill(before, 'SIGUSR2');
      const next = await until('a new successor', async () => {
        const pid = (await send(socket, 'GET', '/v1/host')).json?.service?.pid;
        return pid !== undefined && pid !== before ? pid as number : undefined;
      });
      pids.push(next);
      await until('the previous process to exit', async () => (alive(before) ? undefined : true));
      assert.equal((await probe(vm.b, GPA.b + 0x12)).value, 0x77);
      assert.equal((await probe(vm.a, GPA.a + 0x10)).value, 0xab);
      const ino = await api('POST', '/v1/inodes', { ownerVmId: vm.a, size: MiB }, 201);
      assert.equal((await api('POST', `/v1/files/${ino.file.id}/bindings`, { gpa: 0x800000, offset: 0, size: MiB }, 201)).kind, 'gmem');
      assert.equal((await probe(vm.a, 0x800010, 0x99)).value, 0x99);
      assert.deepEqual((await api('POST', '/v1/reconcile', {}, 200)).drift, []);
      assert.deepEqual(ledgerViolationsAt(env.GMEMD_DB), []);
      // The ledger lock passed along with the memory: after two handovers, with both earlier
      // processes gone, a plain start on the ledger is refused (src/lifecycle/ledger-lock.ts).
      const intruder = spawnSync(process.execPath, ['--import', 'tsx', 'src/server.ts'], { cwd: fileURLToPath(new URL('../..', import.meta.url)),
        env: { ...process.env, ...env, GMEMD_LISTEN: `unix:${join(tmp.dir, 'intruder.sock')}` }, encoding: 'utf8', timeout: 60_000 });
      assert.equal(intruder.status, 2, intruder.stderr);
      assert.match(intruder.stderr, new RegExp(`another gmemd process \\(pid ${next}\\) holds the ledger`));
      process.kill(next, 'SIGTERM');
      await until('the last gmemd to exit', async () => (alive(next) ? undefined : true));
    });
  });
}
