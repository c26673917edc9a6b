// The native adapter. The first half needs no KVM: the file and memory primitives run on a
// memfd and anonymous memory, errno mapping on real failing calls. The second half runs on
// /dev/kvm (needsKvm): it repeats, through the adapter, what the C probes in
// /work/shared/kernel-probes/ saw on a 6.18 host.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fstatSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KResult } from '../../src/kvm/kernel-error.js';
import type { MemoryRegion } from '../../src/kvm/kvm-host.js';
import { FALLOC, GMEM_FLAGS_SHAREABLE, MAP, MEM, PROT } from '../../src/kvm/uapi.js';
import { MFD_CLOEXEC, libcLoads, sys } from '../../src/kvm/native/libc.js';
import { encodeProbeProgram } from '../../src/kvm/native/guest-probe.js';
import { NativeKvmHost, openNativeHost, parseGmemMappings } from '../../src/kvm/native/native-host.js';
import { needsKvm } from '../support/kvm.js';
import { tempDir } from '../support/tmp.js';

const PAGE = 4096n;
const RW = PROT.READ | PROT.WRITE;
const MiB = 1n << 20n;

function ok<T>(r: KResult<T>): T {
  if (!r.ok) assert.fail(r.error.message);
  return r.value;
}
function fails(r: KResult<unknown>, operation: string, errno: string): void {
  assert.equal(r.ok, false, `expected ${operation} to fail with ${errno}`);
  if (!r.ok) assert.deepEqual([r.error.operation, r.error.errno], [operation, errno]);
}
function memfd(host: NativeKvmHost, size: bigint): number {
  const fd = sys.memfdCreate('gmemd-test', MFD_CLOEXEC);
  assert.ok(fd >= 0, 'memfd_create');
  ok(host.fallocate(fd, 0, 0n, size)); // mode 0 on shmem allocates and extends i_size
  return fd;
}
const fdsOn = (target: string) => readdirSync('/proc/self/fd').filter((n) => {
  try { return readlinkSync(`/proc/self/fd/${n}`) === target; } catch { return false; }
}).length;

describe('without /dev/kvm', () => {
  const host = new NativeKvmHost();

  test('libc is loaded once per process, not per host', () => {
    const other = new NativeKvmHost();
    fails(other.close(-1), 'close', 'EBADF');
    assert.equal(libcLoads(), 1);
  });

  test('close(-1) is EBADF for operation close', () => {
    fails(host.close(-1), 'close', 'EBADF');
  });

  test('memfd: fstat, fallocate, mmap, read/write through the mapping, munmap, close', () => {
    const fd = memfd(host, 2n * PAGE);
    const st = ok(host.fstat(fd));
    assert.equal(st.size, 2n * PAGE);
    assert.equal(st.ino, fstatSync(fd, { bigint: true }).ino);
    assert.equal(st.mode & 0o170000, 0o100000);
    const addr = ok(host.mmap(fd, 3n * PAGE, RW, MAP.SHARED, 0n));
    const pattern = Buffer.from('guest memory, written by the host');
    ok(host.writeMemory(addr + 100n, pattern));
    assert.deepEqual(ok(host.readMemory(addr + 100n, pattern.length)), pattern);
    assert.equal(ok(host.readMemory(addr + 2n * PAGE - 1n, 1)).length, 1);
    // The third page is mapped but lies beyond i_size: touching it would be SIGBUS.
    fails(host.readMemory(addr + 2n * PAGE, 1), 'memory', 'EFAULT');
    fails(host.writeMemory(addr + 2n * PAGE - 4n, Buffer.alloc(8)), 'memory', 'EFAULT');
    fails(host.readMemory(addr + 3n * PAGE, 1), 'memory', 'EFAULT');
    fails(host.readMemory(addr - 1n, 2), 'memory', 'EFAULT');
    ok(host.fallocate(fd, 0, 2n * PAGE, PAGE)); // i_size grows: the page becomes reachable
    assert.deepEqual(ok(host.readMemory(addr + 2n * PAGE, 4)), Buffer.alloc(4));
    // A second, read-only mapping at file offset 4096 sees the first one's writes.
    const ro = ok(host.mmap(fd, PAGE, PROT.READ, MAP.SHARED, PAGE));
    ok(host.writeMemory(addr + PAGE + 7n, Buffer.from([0xa5])));
    assert.deepEqual(ok(host.readMemory(ro + 7n, 1)), Buffer.from([0xa5]));
    fails(host.writeMemory(ro, Buffer.from([1])), 'memory', 'EFAULT');
    ok(host.munmap(addr, 3n * PAGE));
    fails(host.readMemory(addr, 1), 'memory', 'EFAULT');
    ok(host.close(fd));
    // Still mapped, but its size can no longer be checked through an fd: refused.
    fails(host.readMemory(ro, 1), 'memory', 'EFAULT');
    ok(host.munmap(ro, PAGE));
    fails(host.close(fd), 'close', 'EBADF');
  });

  test('anonymous mappings (fd -1) are readable and writable; munmap can cut a hole', () => {
    const addr = ok(host.mmap(-1, 3n * PAGE, RW, MAP.SHARED | MAP.ANONYMOUS, 0n));
    for (let i = 0n; i < 3n; i++) ok(host.writeMemory(addr + i * PAGE, Buffer.from([Number(i) + 1])));
    assert.deepEqual(ok(host.readMemory(addr, 0)), Buffer.alloc(0));
    ok(host.munmap(addr + PAGE, PAGE));
    assert.deepEqual(ok(host.readMemory(addr, 1)), Buffer.from([1]));
    fails(host.readMemory(addr + PAGE, 1), 'memory', 'EFAULT');
    assert.deepEqual(ok(host.readMemory(addr + 2n * PAGE, 1)), Buffer.from([3]));
    fails(host.readMemory(addr + PAGE - 1n, 2), 'memory', 'EFAULT');
    ok(host.munmap(addr, 3n * PAGE));
    fails(host.readMemory(addr + 2n * PAGE, 1), 'memory', 'EFAULT');
  });

  test('errno of failing calls, by operation', () => {
    const fd = memfd(host, PAGE);
    fails(host.fallocate(fd, FALLOC.PUNCH_HOLE, 0n, PAGE), 'fallocate', 'EOPNOTSUPP'); // punch needs KEEP_SIZE
    fails(host.fallocate(fd, 0, -1n, PAGE), 'fallocate', 'EINVAL');
    fails(host.fallocate(-1, 0, 0n, PAGE), 'fallocate', 'EBADF');
    fails(host.fstat(-1), 'fstat', 'EBADF');
    fails(host.mmap(-1, PAGE, RW, MAP.SHARED, 0n), 'mmap', 'EBADF');
    fails(host.mmap(fd, 0n, RW, MAP.SHARED, 0n), 'mmap', 'EINVAL');
    fails(host.munmap(1n, PAGE), 'munmap', 'EINVAL');
    fails(host.checkExtension(234, fd), 'KVM_CHECK_EXTENSION', 'ENOTTY');
    fails(host.createVm(0), 'KVM_CREATE_VM', 'EBADF');
    fails(host.createGuestMemfd(fd, 2n * MiB, 3n), 'KVM_CREATE_GUEST_MEMFD', 'ENOTTY');
    const region: MemoryRegion = { slot: 0, flags: 0, guestPhysAddr: 0n, memorySize: PAGE, userspaceAddr: 0n,
      guestMemfdOffset: 0n, guestMemfd: -1 };
    fails(host.setUserMemoryRegion2(fd, region), 'KVM_SET_USER_MEMORY_REGION2', 'ENOTTY');
    const req = { gpa: 0x2000n, codeGpa: 0x1000n, codeSlot: 1 };
    fails(host.probe(fd, req), 'KVM_CREATE_VCPU', 'ENOTTY');
    fails(host.probe(fd, req), 'KVM_CREATE_VCPU', 'ENOTTY'); // nothing was cached for a non-VM
    fails(host.probe(fd, { ...req, gpa: 1n << 32n }), 'KVM_RUN', 'EINVAL');
    fails(host.probe(fd, { ...req, gpa: 0x1010n }), 'KVM_RUN', 'EINVAL'); // inside the code page
    ok(host.close(fd));
  });

  test('heldFds lists this process fds with their inode; heldMappings only gmem', () => {
    const fd = memfd(host, PAGE);
    const addr = ok(host.mmap(fd, PAGE, RW, MAP.SHARED, 0n));
    const held = ok(host.heldFds()).find((h) => h.fd === fd);
    assert.deepEqual(held, { fd, kind: 'other', ino: ok(host.fstat(fd)).ino });
    assert.deepEqual(ok(host.heldMappings()), []);
    ok(host.munmap(addr, PAGE));
    ok(host.close(fd));
  });

  test('parseGmemMappings reads the /proc/PID/maps line format', () => {
    const maps = [
      '7f3a40000000-7f3a40200000 rw-s 00100000 00:10 821536                     anon_inode:[kvm-gmem]',
      '7f3a40200000-7f3a40201000 rw-s 00000000 00:01 2050                       /memfd:x (deleted)',
      '7f3a40400000-7f3a40401000 rw-s 00000000 00:10 18                         anon_inode:kvm-vcpu:0',
    ].join('\n');
    assert.deepEqual(parseGmemMappings(maps), [
      { start: 0x7f3a40000000n, end: 0x7f3a40200000n, offset: 0x100000n, ino: 821536n },
    ]);
  });

  test('probe program: the bytes of probe-protected-mode.c, as objdump decodes them', (t) => {
    const program = (gpa: number, write?: number) => {
      const code = Buffer.alloc(32);
      return code.subarray(0, encodeProbeProgram(code, gpa, write));
    };
    assert.deepEqual(program(0xc0000123, 0x66), Buffer.from(
      'c6052301 00c066 a0230100c0 e610 f4'.replace(/ /g, ''), 'hex'));
    assert.deepEqual(program(0x80000000), Buffer.from('a0 00000080 e610 f4'.replace(/ /g, ''), 'hex'));
    if (spawnSync('objdump', ['--version']).error) return t.skip('objdump (binutils) is not installed');
    const { dir, cleanup } = tempDir('gmemd-probe-');
    t.after(cleanup);
    writeFileSync(join(dir, 'p.bin'), program(0xc0000123, 0x66));
    const dis = spawnSync('objdump', ['-D', '-b', 'binary', '-mi386', '-Mintel', join(dir, 'p.bin')], { encoding: 'utf8' });
    const insns = dis.stdout.split('\n').map((l) => l.split('\t')[2]?.trim().replace(/\s+/g, ' ')).filter(Boolean);
    assert.deepEqual(insns, ['mov BYTE PTR ds:0xc0000123,0x66', 'mov al,ds:0xc0000123', 'out 0x10,al', 'hlt']);
  });

  test('openNativeHost: a missing device is ENOENT; a non-KVM device is refused and closed', () => {
    const missing = openNativeHost('/nonexistent/kvm');
    assert.equal(missing.ok, false);
    if (!missing.ok) assert.match(missing.reason, /ENOENT/);
    const before = fdsOn('/dev/null');
    const notKvm = openNativeHost('/dev/null');
    assert.equal(notKvm.ok, false);
    if (!notKvm.ok) assert.match(notKvm.reason, /ENOTTY/);
    assert.equal(fdsOn('/dev/null'), before);
  });
});

// Skipped per test (so each one shows as skipped), opened once for all of them.
const kvmOpts = needsKvm();
describe('on /dev/kvm', () => {
  let opened: ReturnType<typeof openNativeHost> | undefined;
  before(() => { if (!kvmOpts.skip) opened = openNativeHost(); });
  after(() => { if (opened?.ok) opened.host.close(opened.host.kvmFd); });
  const kvm = (): NativeKvmHost => {
    if (!opened?.ok) assert.fail(opened?.reason ?? 'openNativeHost did not run');
    return opened.host;
  };

  const region = (r: Partial<MemoryRegion> & { slot: number }): MemoryRegion => ({
    flags: 0, guestPhysAddr: 0n, memorySize: 0n, userspaceAddr: 0n, guestMemfdOffset: 0n, guestMemfd: 0, ...r,
  });
  const heldKind = (host: NativeKvmHost, kind: string) => ok(host.heldFds()).filter((h) => h.kind === kind);

  test('capabilities of a 6.18 host', kvmOpts, () => {
    const host = kvm();
    const caps = ok(host.capabilities());
    assert.equal(caps.guestMemfd, 1);
    assert.equal(caps.guestMemfdFlags, 3);
    assert.equal(caps.nrMemslots, 32764);
    assert.equal(caps.readonlyMem, 1);
    assert.equal(caps.userMemory2, 1);
    assert.equal(caps.vmTypes & 1, 1);
  });

  test('VM and flags-3 gmem: fstat, heldFds, fallocate and punch, invalid creations', kvmOpts, () => {
    const host = kvm();
    const vm = ok(host.createVm(0));
    const gf = ok(host.createGuestMemfd(vm, 4n * MiB, GMEM_FLAGS_SHAREABLE));
    const st = ok(host.fstat(gf));
    assert.deepEqual([st.size, st.mode, st.blocks, st.blksize], [4n * MiB, 0o100600, 0n, 4096n]);
    assert.ok(st.ino > 0n);
    const held = ok(host.heldFds());
    assert.deepEqual(held.find((h) => h.fd === gf), { fd: gf, kind: 'kvm-gmem', ino: st.ino });
    assert.equal(held.find((h) => h.fd === vm)?.kind, 'kvm-vm');
    ok(host.fallocate(gf, FALLOC.KEEP_SIZE, 0n, MiB));
    ok(host.fallocate(gf, FALLOC.PUNCH_HOLE | FALLOC.KEEP_SIZE, 0n, PAGE));
    fails(host.fallocate(gf, 0, 0n, PAGE), 'fallocate', 'EOPNOTSUPP');
    fails(host.fallocate(gf, FALLOC.PUNCH_HOLE | FALLOC.KEEP_SIZE, 0n, 100n), 'fallocate', 'EINVAL');
    fails(host.fallocate(gf, FALLOC.KEEP_SIZE, 4n * MiB, PAGE), 'fallocate', 'EINVAL');
    for (const size of [0n, 1n, 4095n, 4097n]) fails(host.createGuestMemfd(vm, size, 0n), 'KVM_CREATE_GUEST_MEMFD', 'EINVAL');
    fails(host.createGuestMemfd(vm, PAGE, 4n), 'KVM_CREATE_GUEST_MEMFD', 'EINVAL');
    fails(host.createGuestMemfd(host.kvmFd, PAGE, 0n), 'KVM_CREATE_GUEST_MEMFD', 'EINVAL');
    ok(host.close(gf));
    ok(host.close(vm));
  });

  test('gmem slot, read-only view slot in another VM, EEXIST on GPA overlap, EINVAL on offset overlap', kvmOpts, () => {
    const host = kvm();
    const a = ok(host.createVm(0)), b = ok(host.createVm(0));
    const gf = ok(host.createGuestMemfd(a, 4n * MiB, GMEM_FLAGS_SHAREABLE));
    const ino = ok(host.fstat(gf)).ino;
    const mem = ok(host.mmap(gf, 4n * MiB, RW, MAP.SHARED, 0n));
    const gmemSlot = (slot: number, gpa: bigint, off: bigint) => host.setUserMemoryRegion2(a, region({
      slot, flags: MEM.GUEST_MEMFD, guestPhysAddr: gpa, memorySize: 2n * MiB, userspaceAddr: mem,
      guestMemfdOffset: off, guestMemfd: gf }));
    ok(gmemSlot(0, 0n, 0n));
    fails(gmemSlot(1, MiB, 2n * MiB), 'KVM_SET_USER_MEMORY_REGION2', 'EEXIST');
    fails(gmemSlot(1, 16n * MiB, MiB), 'KVM_SET_USER_MEMORY_REGION2', 'EINVAL');
    ok(gmemSlot(1, 16n * MiB, 2n * MiB));
    ok(host.setUserMemoryRegion2(b, region({ slot: 0, flags: MEM.READONLY, guestPhysAddr: 0x40000000n,
      memorySize: 4n * MiB, userspaceAddr: mem })));
    assert.deepEqual(ok(host.heldMappings()).filter((m) => m.ino === ino),
      [{ start: mem, end: mem + 4n * MiB, ino, offset: 0n }]);
    ok(host.munmap(mem, 4n * MiB));
    for (const fd of [gf, b, a]) ok(host.close(fd));
  });

  test('host access that would fault is refused: MMAP-only gmem, beyond i_size', kvmOpts, () => {
    const host = kvm();
    const vm = ok(host.createVm(0));
    const priv = ok(host.createGuestMemfd(vm, 2n * MiB, 1n)); // MMAP without INIT_SHARED: SIGBUS on touch
    const pm = ok(host.mmap(priv, 2n * MiB, RW, MAP.SHARED, 0n));
    fails(host.readMemory(pm, 1), 'memory', 'EFAULT');
    const small = ok(host.createGuestMemfd(vm, PAGE, GMEM_FLAGS_SHAREABLE));
    const sm = ok(host.mmap(small, 2n * PAGE, RW, MAP.SHARED, 0n)); // mmap does not check the size
    assert.deepEqual(ok(host.readMemory(sm, 1)), Buffer.from([0]));
    fails(host.readMemory(sm + PAGE, 1), 'memory', 'EFAULT');
    ok(host.munmap(pm, 2n * MiB));
    ok(host.munmap(sm, 2n * PAGE));
    for (const fd of [priv, small, vm]) ok(host.close(fd));
  });

  test('probe: gmem origin, read-only and read-write views, unmapped, punch, one cached vCPU per VM', kvmOpts, () => {
    const host = kvm();
    const vcpusBefore = heldKind(host, 'kvm-vcpu').length;
    const a = ok(host.createVm(0)), b = ok(host.createVm(0)), c = ok(host.createVm(0));
    const gf = ok(host.createGuestMemfd(a, 2n * MiB, GMEM_FLAGS_SHAREABLE));
    const mem = ok(host.mmap(gf, 2n * MiB, RW, MAP.SHARED, 0n));
    ok(host.writeMemory(mem + 0x123n, Buffer.from([0x5a])));
    ok(host.setUserMemoryRegion2(a, region({ slot: 0, flags: MEM.GUEST_MEMFD, guestPhysAddr: 0xc0000000n,
      memorySize: 2n * MiB, userspaceAddr: mem, guestMemfd: gf })));
    ok(host.setUserMemoryRegion2(b, region({ slot: 0, guestPhysAddr: 0x40000000n, memorySize: 2n * MiB,
      userspaceAddr: mem })));
    ok(host.setUserMemoryRegion2(c, region({ slot: 1, flags: MEM.READONLY, guestPhysAddr: 0x40000000n,
      memorySize: 2n * MiB, userspaceAddr: mem })));
    const inA = { gpa: 0xc0000123n, codeGpa: 0x1000n, codeSlot: 32000 };
    const inView = { gpa: 0x40000123n, codeGpa: 0xfffff000n, codeSlot: 2 };
    const byte = () => ok(host.readMemory(mem + 0x123n, 1))[0];

    assert.deepEqual(ok(host.probe(a, inA)), { kind: 'value', value: 0x5a, wrote: false });
    assert.deepEqual(ok(host.probe(c, { ...inView, write: 0x11 })), { kind: 'write_trapped', value: 0x5a });
    assert.equal(byte(), 0x5a);
    assert.deepEqual(ok(host.probe(b, { ...inView, write: 0x66 })), { kind: 'value', value: 0x66, wrote: true });
    assert.equal(byte(), 0x66);
    assert.deepEqual(ok(host.probe(a, inA)), { kind: 'value', value: 0x66, wrote: false });
    assert.deepEqual(ok(host.probe(a, { ...inA, write: 0x77 })), { kind: 'value', value: 0x77, wrote: true });
    assert.equal(byte(), 0x77);
    assert.deepEqual(ok(host.probe(a, { ...inA, gpa: 0x80000000n })), { kind: 'unmapped' });
    assert.deepEqual(ok(host.probe(a, { ...inA, gpa: 0x80000000n, write: 1 })), { kind: 'unmapped' });
    ok(host.fallocate(gf, FALLOC.PUNCH_HOLE | FALLOC.KEEP_SIZE, 0n, PAGE));
    assert.deepEqual(ok(host.probe(a, inA)), { kind: 'value', value: 0, wrote: false });
    assert.deepEqual(ok(host.probe(b, inView)), { kind: 'value', value: 0, wrote: false });
    assert.equal(byte(), 0);

    // Every probe deleted its code slot: the same slot and address are free again.
    const page = ok(host.mmap(-1, PAGE, RW, MAP.SHARED | MAP.ANONYMOUS, 0n));
    ok(host.setUserMemoryRegion2(a, region({ slot: 32000, guestPhysAddr: 0x1000n, memorySize: PAGE, userspaceAddr: page })));
    ok(host.setUserMemoryRegion2(a, region({ slot: 32000, guestPhysAddr: 0x1000n })));
    ok(host.munmap(page, PAGE));

    assert.equal(heldKind(host, 'kvm-vcpu').length, vcpusBefore + 3);
    ok(host.close(a));
    assert.equal(heldKind(host, 'kvm-vcpu').length, vcpusBefore + 2);
    ok(host.munmap(mem, 2n * MiB));
    for (const fd of [gf, b, c]) ok(host.close(fd));
    assert.equal(heldKind(host, 'kvm-vcpu').length, vcpusBefore);
  });

  test('probe: a plain memslot over anonymous memory', kvmOpts, () => {
    const host = kvm();
    const vm = ok(host.createVm(0));
    const mem = ok(host.mmap(-1, PAGE, RW, MAP.SHARED | MAP.ANONYMOUS, 0n));
    ok(host.writeMemory(mem + 0x10n, Buffer.from([0x42])));
    ok(host.setUserMemoryRegion2(vm, region({ slot: 0, guestPhysAddr: 0x2000n, memorySize: PAGE, userspaceAddr: mem })));
    assert.deepEqual(ok(host.probe(vm, { gpa: 0x2010n, codeGpa: 0x1000n, codeSlot: 1 })),
      { kind: 'value', value: 0x42, wrote: false });
    ok(host.close(vm));
    ok(host.munmap(mem, PAGE));
  });

  test('probe: a gmem slot whose file is gone faults with EFAULT', kvmOpts, () => {
    const host = kvm();
    const vm = ok(host.createVm(0));
    const gf = ok(host.createGuestMemfd(vm, 2n * MiB, GMEM_FLAGS_SHAREABLE));
    ok(host.setUserMemoryRegion2(vm, region({ slot: 0, flags: MEM.GUEST_MEMFD, guestPhysAddr: 0x200000n,
      memorySize: 2n * MiB, guestMemfd: gf })));
    ok(host.close(gf)); // no mmap holds it: the file is released, the slot stays
    assert.deepEqual(ok(host.probe(vm, { gpa: 0x200010n, codeGpa: 0x1000n, codeSlot: 1 })),
      { kind: 'fault', errno: 'EFAULT' });
    ok(host.close(vm));
  });
});
