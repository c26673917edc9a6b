// The native adapter on /dev/kvm: it repeats, through the adapter, what the C probes in the
// shared kernel-probes folder saw on a 6.18 host. Tests of VMs, plain memslots and the probe
// vCPU need only /dev/kvm (needsKvm); those of guest_memfd need a kernel built with it
// (needsGuestMemfd: skipped only where the kernel proves it has none).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { MemoryRegion } from '../../src/kvm/kvm-host.js';
import { FALLOC, GMEM_FLAGS_SHAREABLE, MAP, MEM, PROT } from '../../src/kvm/uapi.js';
import { NativeKvmHost, openKvmDevice } from '../../src/kvm/native/native-host.js';
import { needsGuestMemfd, needsKvm } from '../support/kvm.js';
import { PAGE, RW, MiB, ok, fails } from './native-fixture.js';

// Skipped per test (so each one shows as skipped), opened once for all of them.
const kvmOpts = needsKvm();
const gmemOpts = needsGuestMemfd();
describe('on /dev/kvm', () => {
  let opened: ReturnType<typeof openKvmDevice> | undefined;
  before(() => { if (!kvmOpts.skip) opened = openKvmDevice(); });
  after(() => { if (opened?.ok) opened.host.close(opened.host.kvmFd); });
  const kvm = (): NativeKvmHost => {
    if (!opened?.ok) assert.fail(opened?.reason ?? 'openKvmDevice did not run');
    return opened.host;
  };

  const region = (r: Partial<MemoryRegion> & { slot: number }): MemoryRegion => ({
    flags: 0, guestPhysAddr: 0n, memorySize: 0n, userspaceAddr: 0n, guestMemfdOffset: 0n, guestMemfd: 0, ...r,
  });
  const heldKind = (host: NativeKvmHost, kind: string) => ok(host.heldFds()).filter((h) => h.kind === kind);

  test('capabilities of a 6.18 host', kvmOpts, () => {
    const caps = ok(kvm().capabilities());
    assert.equal(caps.nrMemslots, 32764);
    assert.equal(caps.readonlyMem, 1);
    assert.equal(caps.userMemory2, 1);
    assert.equal(caps.vmTypes & 1, 1);
  });

  test('capabilities of a 6.18 host with guest_memfd', gmemOpts, () => {
    const caps = ok(kvm().capabilities());
    assert.deepEqual([caps.guestMemfd, caps.guestMemfdFlags], [1, 3]);
  });

  test('VM and flags-3 gmem: fstat, heldFds, fallocate and punch, invalid creations', gmemOpts, () => {
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

  test('gmem slot, read-only view slot in another VM, EEXIST on GPA overlap, EINVAL on offset overlap', gmemOpts, () => {
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

  test('host access that would fault is refused: MMAP-only gmem, beyond i_size', gmemOpts, () => {
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

  test('probe: gmem origin, read-only and read-write views, unmapped, punch, one cached vCPU per VM', gmemOpts, () => {
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

  // KERNEL.md first section and §3 "On this host": the guest goes through userspace_addr, so a
  // slot whose file is gone reads the pages while gmemd's mapping lives, and MMIO once it is
  // unmapped; upstream's EFAULT (kvm_gmem_get_pfn) never surfaces here.
  test('probe: a gmem slot whose file is gone reads through its mapping, then nothing once it is unmapped', gmemOpts, () => {
    const host = kvm();
    const vm = ok(host.createVm(0));
    const gf = ok(host.createGuestMemfd(vm, 2n * MiB, GMEM_FLAGS_SHAREABLE));
    const map = ok(host.mmap(gf, 2n * MiB, PROT.READ | PROT.WRITE, MAP.SHARED, 0n));
    ok(host.writeMemory(map + 0x10n, Buffer.from([0x5c])));
    ok(host.setUserMemoryRegion2(vm, region({ slot: 0, flags: MEM.GUEST_MEMFD, guestPhysAddr: 0x200000n,
      memorySize: 2n * MiB, userspaceAddr: map, guestMemfd: gf })));
    ok(host.close(gf)); // the mapping still holds the file
    const probe = () => ok(host.probe(vm, { gpa: 0x200010n, codeGpa: 0x1000n, codeSlot: 1 }));
    assert.deepEqual(probe(), { kind: 'value', value: 0x5c, wrote: false });
    ok(host.munmap(map, 2n * MiB)); // the last reference: the file is released
    assert.deepEqual(probe(), { kind: 'unmapped' });
    ok(host.close(vm));
  });

  // Probed on this host while fixing the simulator (sim-guest.ts): what a type-0 guest sees
  // where userspace_addr reaches no memory the host can fault in, and through a read-only hva.
  const mmioVm = (host: NativeKvmHost) => {
    const vm = ok(host.createVm(0));
    return {
      vm,
      at: (gpa: bigint, write?: number) => ok(host.probe(vm, { gpa, write, codeGpa: 0xf000_0000n, codeSlot: 100 })),
      plain: (slot: number, gpa: bigint, size: bigint, uaddr: bigint) =>
        ok(host.setUserMemoryRegion2(vm, region({ slot, guestPhysAddr: gpa, memorySize: size, userspaceAddr: uaddr }))),
      unslot: (...slots: number[]) => { for (const slot of slots) ok(host.setUserMemoryRegion2(vm, region({ slot, memorySize: 0n }))); },
    };
  };

  test('probe: a plain slot over nothing exits as MMIO; a read-only hva traps writes', kvmOpts, () => {
    const host = kvm();
    const { vm, at, plain, unslot } = mmioVm(host);
    plain(0, 0n, 2n * MiB, 0n);
    assert.deepEqual(at(0x10n, 5), { kind: 'unmapped' });
    const ro = ok(host.mmap(-1, 2n * MiB, PROT.READ, MAP.SHARED | MAP.ANONYMOUS, 0n));
    plain(3, 16n * MiB, 2n * MiB, ro);
    assert.deepEqual(at(16n * MiB + 0x10n, 3), { kind: 'write_trapped', value: 0 });
    unslot(0, 3);
    ok(host.munmap(ro, 2n * MiB));
    ok(host.close(vm));
  });

  test('probe: a plain slot over a SIGBUS gmem mapping or beyond its EOF exits as MMIO', gmemOpts, () => {
    const host = kvm();
    const { vm, at, plain, unslot } = mmioVm(host);
    const mmapOnly = ok(host.createGuestMemfd(vm, 2n * MiB, 1n)); // MMAP without INIT_SHARED: host faults SIGBUS
    const sigbus = ok(host.mmap(mmapOnly, 2n * MiB, PROT.READ | PROT.WRITE, MAP.SHARED, 0n));
    plain(1, 4n * MiB, 2n * MiB, sigbus);
    assert.deepEqual(at(4n * MiB + 0x10n), { kind: 'unmapped' });
    const small = ok(host.createGuestMemfd(vm, 2n * MiB, GMEM_FLAGS_SHAREABLE));
    const big = ok(host.mmap(small, 4n * MiB, PROT.READ | PROT.WRITE, MAP.SHARED, 0n)); // 2 MiB past EOF
    ok(host.writeMemory(big + 0x10n, Buffer.from([0x21])));
    plain(2, 8n * MiB, 4n * MiB, big);
    assert.deepEqual(at(8n * MiB + 0x10n), { kind: 'value', value: 0x21, wrote: false });
    assert.deepEqual(at(10n * MiB + 0x10n, 4), { kind: 'unmapped' });
    unslot(1, 2);
    ok(host.munmap(sigbus, 2n * MiB)); ok(host.munmap(big, 4n * MiB));
    for (const fd of [mmapOnly, small, vm]) ok(host.close(fd));
  });
});
