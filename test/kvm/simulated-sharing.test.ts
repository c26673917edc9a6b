// Pins the simulator to KERNEL.md's first section: how one gmem inode becomes several VMs'
// views (probe-cross-vm-share.c, probe-readonly-share.c) and what the protected-mode probe
// showed (probe-protected-mode.c) - all observed through the guest probe, as on the real host.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ProbeRequest } from '../../src/kvm/kvm-host.js';
import { FALLOC, MEM, PROT } from '../../src/kvm/uapi.js';
import { GiB, MiB, fails, fixture, ok } from './simulated-fixture.js';

const GMEM = MEM.GUEST_MEMFD, RO = MEM.READONLY;
const at = (gpa: bigint, write?: number): ProbeRequest => ({ gpa, write, codeGpa: 0xffff_f000n, codeSlot: 32000 });

/** VM A owns a 2 MiB flags-3 gmem bound at GPA 0; the host maps it. */
function shared() {
  const f = fixture();
  const g = f.gmem(2n * MiB, 3n);
  const mem = f.map(g, 2n * MiB);
  // userspace_addr = the host mapping at the same offset: on this host the guest reads through it.
  ok(f.set({ slot: 0, flags: GMEM, userspaceAddr: mem, guestMemfd: g }));
  const vmWith = (p: { flags?: number; gpa?: bigint; offset?: bigint; size?: bigint }) => {
    const vm = ok(f.host.createVm(0));
    ok(f.set({ slot: 0, flags: p.flags ?? 0, guestPhysAddr: p.gpa ?? 0n, memorySize: p.size ?? 2n * MiB,
      userspaceAddr: mem + (p.offset ?? 0n) }, vm));
    return vm;
  };
  return { ...f, g, mem, vmWith };
}

describe('first section: one inode, many VMs\' views', () => {
  test('VM A (creator, gmem slot at offset 0) sees the bytes the host wrote through the mmap', () => {
    const s = shared();
    s.write(s.mem + 0x1500n, 0x5a);
    assert.deepEqual(ok(s.host.probe(s.vm, at(0x1500n))), { kind: 'value', value: 0x5a, wrote: false });
  });

  test('VM A with userspace_addr 0 sees no memory (MMIO), although the gmem\'s pages exist', () => {
    const f = fixture();
    const g = f.gmem(2n * MiB, 3n);
    const mem = f.map(g, 2n * MiB);
    f.write(mem + 0x123n, 0x5a);
    ok(f.set({ slot: 0, flags: GMEM, guestPhysAddr: MiB * 16n, userspaceAddr: 0n, guestMemfd: g }));
    assert.deepEqual(ok(f.host.probe(f.vm, at(MiB * 16n + 0x123n, 0x66))), { kind: 'unmapped' });
    assert.equal(f.read(mem + 0x123n), 0x5a);
  });

  test('VM B (plain slot over the mmap) sees the same bytes; its writes are seen by A and the host', () => {
    const s = shared();
    const b = s.vmWith({});
    s.write(s.mem + 0x1500n, 0x77);
    assert.deepEqual(ok(s.host.probe(b, at(0x1500n))), { kind: 'value', value: 0x77, wrote: false });
    assert.deepEqual(ok(s.host.probe(b, at(0x1600n, 0x99))), { kind: 'value', value: 0x99, wrote: true });
    assert.equal(s.read(s.mem + 0x1600n), 0x99);
    assert.deepEqual(ok(s.host.probe(s.vm, at(0x1600n))), { kind: 'value', value: 0x99, wrote: false });
  });

  test('VM C (plain slot with KVM_MEM_READONLY) reads the bytes; a write traps and memory is unchanged', () => {
    const s = shared();
    const c = s.vmWith({ flags: RO });
    s.write(s.mem + 0x1600n, 0x11);
    assert.deepEqual(ok(s.host.probe(c, at(0x1600n))), { kind: 'value', value: 0x11, wrote: false });
    assert.deepEqual(ok(s.host.probe(c, at(0x1600n, 0x99))), { kind: 'write_trapped', value: 0x11 });
    assert.equal(s.read(s.mem + 0x1600n), 0x11);
  });

  test('VM D (plain slot over the mmap at +1 MiB, at guest address 0) sees the same page at another gfn', () => {
    const s = shared();
    const d = s.vmWith({ offset: MiB, size: MiB });
    ok(s.host.probe(d, at(0x1600n, 0x99)));
    assert.equal(s.read(s.mem + MiB + 0x1600n), 0x99);
    assert.deepEqual(ok(s.host.probe(s.vm, at(MiB + 0x1600n))), { kind: 'value', value: 0x99, wrote: false });
  });

  test('after fallocate(PUNCH_HOLE|KEEP_SIZE) every VM and the host read zeroes', () => {
    const s = shared();
    const b = s.vmWith({}), c = s.vmWith({ flags: RO }), d = s.vmWith({ offset: 0x1000n, size: MiB });
    s.write(s.mem + 0x1500n, 0x33);
    ok(s.host.fallocate(s.g, FALLOC.PUNCH_HOLE | FALLOC.KEEP_SIZE, 0x1000n, 0x1000n));
    assert.equal(s.read(s.mem + 0x1500n), 0);
    for (const [vm, gpa] of [[s.vm, 0x1500n], [b, 0x1500n], [c, 0x1500n], [d, 0x500n]] as const) {
      assert.deepEqual(ok(s.host.probe(vm, at(gpa))), { kind: 'value', value: 0, wrote: false });
    }
  });

  test('binding A\'s gmem into D with the GUEST_MEMFD flag gives EINVAL (one VM per gmem)', () => {
    const s = shared();
    const d = s.vmWith({});
    fails(s.set({ slot: 1, flags: GMEM, guestPhysAddr: 4n * MiB, memorySize: 4096n, guestMemfd: s.g }, d), 'EINVAL');
  });

  // A view over an MMAP-only mapping: the host fault SIGBUSes, the guest exits as MMIO (probed here).
  test('a gmem without MMAP cannot be shared: mmap gives ENODEV; without INIT_SHARED a view sees nothing', () => {
    const f = fixture();
    fails(f.host.mmap(f.gmem(2n * MiB, 0n), 2n * MiB, PROT.READ | PROT.WRITE, 1, 0n), 'ENODEV');
    const m = f.map(f.gmem(2n * MiB, 1n), 2n * MiB);
    const b = ok(f.host.createVm(0));
    ok(f.set({ slot: 0, userspaceAddr: m }, b));
    assert.deepEqual(ok(f.host.probe(b, at(0x1000n))), { kind: 'unmapped' });
  });
});

describe('first section: the protected-mode probe (probe-protected-mode.c)', () => {
  test('read/write through a gmem slot at 3 GiB: the byte; the host mapping sees the write', () => {
    const f = fixture();
    const g = f.gmem(2n * MiB, 3n);
    const mem = f.map(g, 2n * MiB);
    f.write(mem + 0x123n, 0x5a);
    ok(f.set({ slot: 0, flags: GMEM, guestPhysAddr: 3n * GiB, userspaceAddr: mem, guestMemfd: g }));
    const req = { gpa: 3n * GiB + 0x123n, codeGpa: 0x1000n, codeSlot: 32000 };
    assert.deepEqual(ok(f.host.probe(f.vm, req)), { kind: 'value', value: 0x5a, wrote: false });
    assert.deepEqual(ok(f.host.probe(f.vm, { ...req, write: 0x66 })), { kind: 'value', value: 0x66, wrote: true });
    assert.equal(f.read(mem + 0x123n), 0x66);
  });

  test('a guest address with no memslot exits as MMIO: unmapped, also when writing first', () => {
    const f = fixture();
    assert.deepEqual(ok(f.host.probe(f.vm, at(0x8000_0000n))), { kind: 'unmapped' });
    assert.deepEqual(ok(f.host.probe(f.vm, at(0x8000_0000n, 1))), { kind: 'unmapped' });
  });

  test('write through a KVM_MEM_READONLY view at 1 GiB: trapped, unchanged, the read returns the old byte', () => {
    const s = shared();
    s.write(s.mem + 0x123n, 0x66);
    const c = s.vmWith({ flags: RO, gpa: GiB });
    assert.deepEqual(ok(s.host.probe(c, at(GiB + 0x123n, 0x11))), { kind: 'write_trapped', value: 0x66 });
    assert.equal(s.read(s.mem + 0x123n), 0x66);
  });
});

describe('first section: every guest access goes through userspace_addr, for gmem slots too', () => {
  test('a gmem slot on a private gmem reaches whatever userspace_addr maps, not the gmem', () => {
    const f = fixture();
    const g = f.gmem(2n * MiB, 0n);
    const anon = f.map(-1, 2n * MiB);
    f.write(anon + 0x10n, 0x42);
    ok(f.set({ slot: 0, flags: GMEM, userspaceAddr: anon, guestMemfd: g }));
    assert.deepEqual(ok(f.host.probe(f.vm, at(0x10n))), { kind: 'value', value: 0x42, wrote: false });
    assert.deepEqual(ok(f.host.probe(f.vm, at(0x10n, 0x43))), { kind: 'value', value: 0x43, wrote: true });
    assert.equal(f.read(anon + 0x10n), 0x43);
  });

  test('a private gmem bound with userspace_addr 0 is unreachable for a type-0 guest: MMIO', () => {
    const f = fixture();
    ok(f.set({ slot: 0, flags: GMEM, userspaceAddr: 0n, guestMemfd: f.gmem(2n * MiB, 0n) }));
    assert.deepEqual(ok(f.host.probe(f.vm, at(0x10n))), { kind: 'unmapped' });
    assert.deepEqual(ok(f.host.probe(f.vm, at(0x10n, 7))), { kind: 'unmapped' });
  });

  test('an MMAP-only gmem (no INIT_SHARED) bound over its own mapping: the mapping faults, the guest sees nothing', () => {
    const f = fixture();
    const g = f.gmem(2n * MiB, 1n);
    ok(f.set({ slot: 0, flags: GMEM, userspaceAddr: f.map(g, 2n * MiB), guestMemfd: g }));
    assert.deepEqual(ok(f.host.probe(f.vm, at(0x10n, 7))), { kind: 'unmapped' });
  });

  test('a plain slot whose userspace_addr maps nothing exits as MMIO, not EFAULT', () => {
    const f = fixture();
    ok(f.set({ slot: 0, userspaceAddr: 0n }));
    assert.deepEqual(ok(f.host.probe(f.vm, at(0x10n, 5))), { kind: 'unmapped' });
  });
});
