// The host scan reads /proc of other processes. On any host: a separate helper process holds
// a memfd (mapped) and pipes, and the scan of its pid finds each with its kind and inode
// number, and the mapping with its range. On a KVM host: a helper creates a real VM and a
// shareable guest_memfd and maps it, and GET /v1/host/scan finds its pid and inode number,
// marked untracked, while gmemd's own gmem is tracked.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { classifyFdTarget, listPids, parseMaps, scanProcess } from '../../src/reconcile/proc.js';
import { foreignHolders } from '../../src/reconcile/host-scan.js';
import { call, makeApp, MiB } from '../support/app.js';
import { needsGuestMemfd } from '../support/kvm.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

async function holder(mode: 'memfd' | 'kvm'): Promise<{ child: ChildProcess; report: any; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/fd-holder.ts', mode], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const line = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d) => { buf += d; if (buf.includes('\n')) resolve(buf.slice(0, buf.indexOf('\n'))); });
    child.once('exit', (code) => reject(new Error(`fd-holder ${mode} exited ${code} before reporting`)));
  });
  return { child, report: JSON.parse(line), stop: async () => { child.stdin!.end(); await exited; } };
}

describe('reading another process from /proc', () => {
  test('a helper\'s memfd, its mapping, a pipe and sockets, with kinds and inode numbers', async () => {
    const h = await holder('memfd');
    try {
      assert.ok(listPids().includes(h.report.pid));
      const scan = scanProcess(h.report.pid);
      assert.ok(scan, 'the helper is readable');
      assert.match(scan.command, /fd-holder\.ts memfd/);
      const byFd = new Map(scan.fds.map((f) => [f.fd, f]));
      assert.deepEqual(pick(byFd.get(h.report.memfd.fd)), { kind: 'memfd', ino: h.report.memfd.ino });
      assert.match(byFd.get(h.report.memfd.fd)!.target, /^\/memfd:gmemd-scan-test/);
      for (const fd of h.report.pipe.fds) assert.deepEqual(pick(byFd.get(fd)), { kind: 'pipe', ino: h.report.pipe.ino });
      assert.equal(byFd.get(h.report.pipe.fds[0])!.target, `pipe:[${h.report.pipe.ino}]`);
      // node spawns stdio 'pipe' as socketpairs.
      assert.deepEqual(pick(byFd.get(0)), { kind: 'socket', ino: h.report.stdin.ino });
      assert.deepEqual(pick(byFd.get(1)), { kind: 'socket', ino: h.report.stdout.ino });
      const m = scan.mappings.find((x) => x.ino === h.report.memfd.ino);
      assert.ok(m, 'the memfd mapping is in its maps, under the memfd\'s inode number');
      assert.equal(`0x${m.start.toString(16)}`, h.report.memfd.start);
      assert.equal(`0x${m.end.toString(16)}`, h.report.memfd.end);
      assert.equal(m.offset, 0n);
      assert.match(m.perms, /^rw-s/);
      assert.match(m.path, /^\/memfd:gmemd-scan-test/);
      // Nothing here is KVM: the scan reports no kvm fd or gmem mapping for it.
      assert.equal(scan.fds.filter((f) => f.kind.startsWith('kvm-')).length, 0);
    } finally { await h.stop(); }
    assert.equal(scanProcess(h.report.pid), null, 'a process that is gone scans as null');
  });

  test('this process\'s own maps parse line for line', () => {
    const self = scanProcess(process.pid)!;
    assert.ok(self.mappings.length > 10);
    assert.ok(self.mappings.every((m) => m.end > m.start));
    assert.ok(self.mappings.some((m) => m.path === '[stack]'));
    // A path with spaces stays whole.
    assert.equal(parseMaps('7f00-7f10 rw-s 00000000 00:01 42 /memfd:a b (deleted)')[0]!.path, '/memfd:a b (deleted)');
  });

  test('link targets as KERNEL.md §2.1 gives them', () => {
    // Classification of the strings the kernel prints; the scans above and below read real ones.
    assert.equal(classifyFdTarget('anon_inode:[kvm-gmem]'), 'kvm-gmem');
    assert.equal(classifyFdTarget('anon_inode:kvm-vm'), 'kvm-vm');
    assert.equal(classifyFdTarget('anon_inode:kvm-vcpu:0'), 'kvm-vcpu');
    assert.equal(classifyFdTarget('socket:[123]'), 'socket');
    assert.equal(classifyFdTarget('anon_inode:[eventfd]'), 'anon_inode');
    assert.equal(classifyFdTarget('/dev/null'), 'file');
  });

  test('GET /v1/host/scan over this host', async () => {
    const t = await makeApp('simulated');
    const h = await holder('memfd');
    try {
      const r = await call(t.app, 'GET', '/v1/host/scan');
      assert.equal(r.status, 200);
      assert.ok(r.json.scanned > 1);
      assert.equal(r.json.backend, 'simulated');
      assert.ok(!r.json.processes.some((p: { pid: number }) => p.pid === h.report.pid), 'a process without kvm fds is not listed');
      for (const p of r.json.processes) assert.ok(p.fds.length + p.mappings.length > 0);
    } finally { await h.stop(); await t.close(); }
  });
});

test('a separate process\'s VM and guest_memfd, found by pid and inode number', needsGuestMemfd(), async () => {
  const t = await makeApp('native');
  const h = await holder('kvm');
  try {
    const vm = (await call(t.app, 'POST', '/v1/vms', { name: 'scan-own' })).json.id;
    const own = (await call(t.app, 'POST', '/v1/inodes', { ownerVmId: vm, size: 2 * MiB })).json.inode;
    const r = (await call(t.app, 'GET', '/v1/host/scan')).json;
    const other = r.processes.find((p: { pid: number }) => p.pid === h.report.pid);
    assert.ok(other, 'the helper is listed');
    assert.equal(other.self, false);
    assert.deepEqual(other.fds.map((f: any) => [f.fd, f.kind, f.tracked]).sort(), [[h.report.vm.fd, 'kvm-vm', false], [h.report.gmem.fd, 'kvm-gmem', false]].sort());
    assert.equal(other.fds.find((f: any) => f.kind === 'kvm-gmem').ino, h.report.gmem.ino);
    assert.deepEqual(other.mappings.map((m: any) => [m.start, m.end, m.ino, m.tracked]), [[h.report.gmem.start, h.report.gmem.end, h.report.gmem.ino, false]]);
    const self = r.processes.find((p: { pid: number }) => p.pid === process.pid);
    const mine = self.fds.find((f: any) => f.kind === 'kvm-gmem' && f.ino === own.kernelInode);
    assert.deepEqual([mine.tracked, mine.ledgerInodeId], [true, own.id]);
    assert.ok(r.untracked.fds >= 2 && r.untracked.mappings >= 1);
    assert.deepEqual(foreignHolders().byIno.get(h.report.gmem.ino), [{ pid: h.report.pid, command: other.command }]);
  } finally { await h.stop(); await t.close(); }
});

function pick(f: { kind: string; ino: number | null } | undefined) {
  return f && { kind: f.kind, ino: f.ino };
}

test('the holders scan of a start-up stops at its deadline and counts what it did not read', () => {
  const all = listPids().length;
  assert.ok(all > 0);
  const cut = foreignHolders('/proc', 0);
  assert.deepEqual([cut.byIno.size, cut.skipped], [0, all], 'a deadline already passed reads nothing');
  assert.equal(foreignHolders('/proc').skipped, 0, 'without one it reads every process');
});
