// The kernel calls gmemd issues off the event loop (KVM_CREATE_VM, KVM_SET_USER_MEMORY_REGION2, mmap)
// on both backends: each answers exactly as its synchronous form does, errno included, while
// other calls (and other failures) run on the main thread at the same time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KvmHost, MemoryRegion } from '../../src/kvm/kvm-host.js';
import { GMEM_FLAGS_SHAREABLE, MAP, MEM } from '../../src/kvm/uapi.js';
import { memslotExists } from '../../src/kvm/memslot-probe.js';
import { describeBackends, openHost } from '../support/app.js';
import { MiB, RW, fails, ok } from './native-fixture.js';

const region = (r: Partial<MemoryRegion> & { slot: number }): MemoryRegion => ({
  flags: 0, guestPhysAddr: 0n, memorySize: 0n, userspaceAddr: 0n, guestMemfdOffset: 0n, guestMemfd: 0, ...r,
});

function withVm(kvm: KvmHost, size: bigint) {
  const vm = ok(kvm.createVm(0));
  const gmem = ok(kvm.createGuestMemfd(vm, size, GMEM_FLAGS_SHAREABLE));
  const addr = ok(kvm.mmap(gmem, size, RW, MAP.SHARED, 0n));
  const slotAt = (slot: number, lane: bigint) => region({
    slot, flags: MEM.GUEST_MEMFD, guestPhysAddr: lane * 2n * MiB, memorySize: 2n * MiB,
    userspaceAddr: addr + lane * 2n * MiB, guestMemfd: gmem, guestMemfdOffset: lane * 2n * MiB,
  });
  return { vm, slotAt, close: () => { kvm.munmap(addr, size); kvm.close(gmem); kvm.close(vm); } };
}

describeBackends('kernel calls off the event loop', (kind) => {
  test('createVmAsync gives a VM fd that takes memslots', async () => {
    const kvm = openHost(kind);
    const vm = ok(await kvm.createVmAsync(0));
    const gmem = ok(kvm.createGuestMemfd(vm, 2n * MiB, GMEM_FLAGS_SHAREABLE));
    const addr = ok(kvm.mmap(gmem, 2n * MiB, RW, MAP.SHARED, 0n));
    ok(await kvm.setUserMemoryRegion2Async(vm, region({ slot: 3, flags: MEM.GUEST_MEMFD, memorySize: 2n * MiB, userspaceAddr: addr, guestMemfd: gmem })));
    assert.equal(ok(memslotExists(kvm, vm, 3)), true);
    kvm.munmap(addr, 2n * MiB); kvm.close(gmem); kvm.close(vm);
  });

  test('a refused call reports its own errno, while other calls fail on the main thread', async () => {
    const kvm = openHost(kind);
    const v = withVm(kvm, 8n * MiB);
    try {
      ok(kvm.setUserMemoryRegion2(v.vm, v.slotAt(0, 0n)));
      // Same GPA, another slot: EEXIST from the kernel's overlap check. Meanwhile a closed VM fd
      // gives EBADF synchronously; neither errno may leak into the other's answer.
      const overlap = kvm.setUserMemoryRegion2Async(v.vm, { ...v.slotAt(1, 1n), guestPhysAddr: 0n });
      const badFd = kvm.setUserMemoryRegion2(1_000_000, v.slotAt(2, 2n));
      fails(badFd, 'KVM_SET_USER_MEMORY_REGION2', 'EBADF');
      fails(await overlap, 'KVM_SET_USER_MEMORY_REGION2', 'EEXIST');
      fails(await kvm.setUserMemoryRegion2Async(1_000_000, v.slotAt(2, 2n)), 'KVM_SET_USER_MEMORY_REGION2', 'EBADF');
      assert.equal(ok(memslotExists(kvm, v.vm, 1)), false, 'the refused slot was not created');
    } finally { v.close(); }
  });

  test('many memslot changes of one VM in flight at once all land', async () => {
    const kvm = openHost(kind);
    const v = withVm(kvm, 64n * MiB);
    try {
      const slots = Array.from({ length: 24 }, (_, i) => i);
      const created = await Promise.all(slots.map((s) => kvm.setUserMemoryRegion2Async(v.vm, v.slotAt(s, BigInt(s)))));
      created.forEach((r) => ok(r));
      for (const s of slots) assert.equal(ok(memslotExists(kvm, v.vm, s)), true, `slot ${s} exists`);
      const deleted = await Promise.all(slots.filter((s) => s % 2 === 0).map((s) => kvm.setUserMemoryRegion2Async(v.vm, region({ slot: s }))));
      deleted.forEach((r) => ok(r));
      for (const s of slots) assert.equal(ok(memslotExists(kvm, v.vm, s)), s % 2 === 1, `slot ${s} after deleting the even ones`);
    } finally { v.close(); }
  });

  test('mmapAsync gives a tracked mapping, as mmap does, and its own errno', async () => {
    const kvm = openHost(kind);
    const vm = ok(kvm.createVm(0));
    const gmem = ok(kvm.createGuestMemfd(vm, 2n * MiB, GMEM_FLAGS_SHAREABLE));
    try {
      const [a, b] = await Promise.all([kvm.mmapAsync(gmem, 2n * MiB, RW, MAP.SHARED, 0n), kvm.mmapAsync(gmem, MiB, RW, MAP.SHARED, MiB)]);
      const addr = ok(a), upper = ok(b);
      // Host access goes only through tracked mappings: both were tracked when they landed.
      ok(kvm.writeMemory(addr + MiB, Buffer.from('through the first')));
      assert.equal(ok(kvm.readMemory(upper, 17)).toString(), 'through the first', 'two mappings of one inode see the same page');
      fails(await kvm.mmapAsync(1_000_000, 2n * MiB, RW, MAP.SHARED, 0n), 'mmap', 'EBADF');
      ok(kvm.munmap(upper, MiB));
      ok(kvm.munmap(addr, 2n * MiB));
      fails(kvm.readMemory(addr, 1), 'memory', 'EFAULT');
      fails(kvm.readMemory(upper, 1), 'memory', 'EFAULT');
    } finally { kvm.close(gmem); kvm.close(vm); }
  });
});
