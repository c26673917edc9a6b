// Pins the simulator to KERNEL.md §3 (lifetime and refcount rules of 6.18) and the
// "gmem fd closed while bound" / "VM fd closed while gmem open" rows of probe-gmem2.out.
// What the port cannot show (a struct kvm kept alive without its fd) is read with inspect().
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FALLOC, MEM } from '../../src/kvm/uapi.js';
import { MiB, fails, fixture, ok } from './simulated-fixture.js';

const GMEM = MEM.GUEST_MEMFD;
const PUNCH_KEEP = FALLOC.PUNCH_HOLE | FALLOC.KEEP_SIZE;
const probeAt = (gpa: bigint, write?: number) => ({ gpa, codeGpa: 0xf000_0000n, codeSlot: 500, write });

describe('§3 closing the VM fd while gmem is open', () => {
  test('§3 the struct kvm, its memslots and bindings stay alive until the last gmem file goes', () => {
    const f = fixture();
    const g = f.gmem(2n * MiB, 3n);
    ok(f.set({ slot: 0, flags: GMEM, guestMemfd: g }));
    ok(f.host.close(f.vm));
    assert.deepEqual(f.host.inspect().vms, [{ fdOpen: false, slots: 1 }]);
    assert.equal(f.host.inspect().files[0].bindings, 1);
    ok(f.host.close(g));
    assert.deepEqual(f.host.inspect(), { vms: [], files: [] });
  });

  test('§3 without a gmem, closing the VM fd destroys the VM at once', () => {
    const f = fixture();
    ok(f.set({ slot: 0 }));
    ok(f.host.close(f.vm));
    assert.deepEqual(f.host.inspect().vms, []);
  });

  test('§3 the gmem stays fully usable: fallocate, punch, mmap, host faults (probe-gmem2.out)', () => {
    const f = fixture();
    const g = f.gmem(2n * MiB, 3n);
    ok(f.set({ slot: 0, flags: GMEM, guestMemfd: g }));
    ok(f.host.close(f.vm));
    ok(f.host.fallocate(g, FALLOC.KEEP_SIZE, 0n, 4096n));
    const m = f.map(g, 2n * MiB);
    f.write(m, 1);
    assert.equal(f.read(m), 1);
    ok(f.host.fallocate(g, PUNCH_KEEP, 0n, 4096n));
    assert.equal(f.read(m), 0);
  });

  test('§3 it can never be bound to another VM (EINVAL)', () => {
    const f = fixture();
    const g = f.gmem(2n * MiB, 3n);
    ok(f.host.close(f.vm));
    const vm2 = ok(f.host.createVm(0));
    fails(f.set({ slot: 7, flags: GMEM, guestMemfd: g }, vm2), 'EINVAL', 'KVM_SET_USER_MEMORY_REGION2');
  });
});

describe('§3 closing the gmem file (its last reference)', () => {
  test('§3 the memslot remains: it still occupies its GPA (EEXIST) and deletes normally (probe-gmem2.out)', () => {
    const f = fixture();
    const gc = f.gmem(2n * MiB, 0n);
    ok(f.set({ slot: 4, flags: GMEM, guestPhysAddr: 48n * MiB, guestMemfd: gc }));
    ok(f.host.close(gc));
    fails(f.set({ slot: 5, guestPhysAddr: 48n * MiB }), 'EEXIST');
    ok(f.set({ slot: 4, memorySize: 0n }));
    ok(f.set({ slot: 5, guestPhysAddr: 48n * MiB }));
  });

  test('§3 on this host a released gmem file does not fault the guest: the slot reads through userspace_addr', () => {
    const f = fixture();
    const g = f.gmem(2n * MiB, 3n);
    ok(f.set({ slot: 0, flags: GMEM, guestPhysAddr: 0x1000_0000n, userspaceAddr: 0n, guestMemfd: g }));
    ok(f.host.close(g));
    assert.deepEqual(f.host.inspect().files, []);
    // Upstream answers EFAULT from kvm_gmem_get_pfn; here nothing is mapped at uaddr 0: MMIO.
    assert.deepEqual(ok(f.host.probe(f.vm, probeAt(0x1000_0000n))), { kind: 'unmapped' });
  });

  test('§3 a host mapping holds a file reference: after close(fd) the binding and the memory stay usable', () => {
    const f = fixture();
    const g = f.gmem(2n * MiB, 3n);
    const m = f.map(g, 2n * MiB);
    ok(f.set({ slot: 0, flags: GMEM, guestPhysAddr: 0x1000_0000n, userspaceAddr: m, guestMemfd: g }));
    f.write(m, 42);
    ok(f.host.close(g));
    assert.equal(f.read(m), 42);
    assert.deepEqual(ok(f.host.probe(f.vm, probeAt(0x1000_0000n))), { kind: 'value', value: 42, wrote: false });
    assert.deepEqual(f.host.inspect().files.map((x) => [x.bindings, x.refs]), [[1, 1]]);
    // The last mapping going releases the file, and the slot's userspace_addr now maps nothing:
    // the guest gets MMIO, not EFAULT (KERNEL.md §3, "On this host").
    ok(f.host.munmap(m, 2n * MiB));
    assert.deepEqual(ok(f.host.probe(f.vm, probeAt(0x1000_0000n))), { kind: 'unmapped' });
    assert.deepEqual(ok(f.host.heldMappings()), []);
  });

  test('§3 each VMA pins the file: a split mapping keeps it until its last piece is unmapped', () => {
    const f = fixture();
    const g = f.gmem(2n * MiB, 3n);
    const m = f.map(g, 2n * MiB);
    ok(f.host.close(g));
    ok(f.host.munmap(m + MiB, 4096n));
    ok(f.host.munmap(m, MiB));
    assert.equal(f.host.inspect().files.length, 1);
    f.write(m + 2n * MiB - 1n, 9);
    ok(f.host.munmap(m + MiB + 4096n, MiB - 4096n));
    assert.deepEqual(f.host.inspect().files, []);
  });

  test('§3 releasing the last file of a closed VM destroys the VM', () => {
    const f = fixture();
    const a = f.gmem(2n * MiB, 3n), b = f.gmem(2n * MiB, 0n);
    ok(f.host.close(f.vm));
    ok(f.host.close(a));
    assert.equal(f.host.inspect().vms.length, 1);
    ok(f.host.close(b));
    assert.deepEqual(f.host.inspect().vms, []);
  });
});

describe('§3 unbinding', () => {
  test('§3 deleting a slot clears its binding range: the same range binds again at once', () => {
    const f = fixture();
    const g = f.gmem(4n * MiB, 0n);
    ok(f.set({ slot: 0, flags: GMEM, guestMemfd: g }));
    fails(f.set({ slot: 1, flags: GMEM, guestPhysAddr: 8n * MiB, guestMemfd: g }), 'EINVAL');
    ok(f.set({ slot: 0, memorySize: 0n }));
    ok(f.set({ slot: 1, flags: GMEM, guestPhysAddr: 8n * MiB, guestMemfd: g }));
  });
});

test('a long-running simulator does not keep dead VMs and released inodes', async () => {
  const { createSimulatedHost } = await import('../../src/kvm/simulated/sim-host.js');
  const host = createSimulatedHost();
  const internal = host as unknown as { vms: Set<unknown>; files: Set<unknown> };
  for (let i = 0; i < 5000; i++) {
    const vm = host.createVm(0);
    assert.ok(vm.ok);
    const gm = host.createGuestMemfd(vm.value, 4096n, 3n);
    assert.ok(gm.ok);
    host.close(gm.value);
    host.close(vm.value);
  }
  assert.ok(internal.vms.size + internal.files.size <= 2048, `kept ${internal.vms.size} VMs and ${internal.files.size} files`);
});
