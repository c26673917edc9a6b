// Pins the simulator's KVM_SET_USER_MEMORY_REGION2 to KERNEL.md §2.3. The first two suites replay
// kernel-probes/probe-gmem2.c and probe-del.c call for call (each row depends on the ones before
// it, so they run in order on one VM); expected values are the probed outcomes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KResult } from '../../src/kvm/kernel-error.js';
import type { MemoryRegion } from '../../src/kvm/kvm-host.js';
import { MEM } from '../../src/kvm/uapi.js';
import { MiB, fails, fixture, ok, outcome } from './simulated-fixture.js';

const GMEM = MEM.GUEST_MEMFD, LOG = MEM.LOG_DIRTY_PAGES, RO = MEM.READONLY;
type Row = [label: string, call: () => KResult<unknown>, want: string];

/** One test per row, in order, all on the same state. */
function replay(rows: Row[]): void {
  for (const [label, call, want] of rows) test(`${label} -> ${want}`, () => assert.equal(outcome(call()), want));
}

describe('§2.3 replay of probe-gmem2.c "KVM_SET_USER_MEMORY_REGION2 validation (vm type 0)"', () => {
  const f = fixture();
  const U = f.map(-1, 64n * MiB);
  const G = f.gmem(16n * MiB, 0n);
  const vm2 = ok(f.host.createVm(0));
  const G2 = f.gmem(16n * MiB, 0n, vm2);
  const r2 = (slot: number, flags: number, gpa: bigint, size: bigint, uaddr: bigint, fd: number, off: bigint, vm = f.vm) =>
    () => f.host.setUserMemoryRegion2(vm, { slot, flags, guestPhysAddr: gpa, memorySize: size, userspaceAddr: uaddr, guestMemfdOffset: off, guestMemfd: fd });
  const M = MiB, M2 = 2n * MiB;
  replay([
    ['row 0/OK: gmem slot ok (slot0 gpa0 2MiB off0)', r2(0, GMEM, 0n, M2, U, G, 0n), 'OK'],
    ['row 13: same call again (identical)', r2(0, GMEM, 0n, M2, U, G, 0n), 'EINVAL'],
    ['row 13: modify gmem slot: flags 0 same gpa/size/uaddr', r2(0, 0, 0n, M2, U, G, 0n), 'EINVAL'],
    ['row 13: modify gmem slot: flags LOG_DIRTY', r2(0, LOG, 0n, M2, U, G, 0n), 'EINVAL'],
    ['row 13: move gmem slot (gpa 2MiB) with GMEM flag', r2(0, GMEM, M2, M2, U, G, 0n), 'EINVAL'],
    ['row 13: move gmem slot (gpa 2MiB) flags 0', r2(0, 0, M2, M2, U, G, 0n), 'EINVAL'],
    ['row 13: resize gmem slot (4MiB) with GMEM flag', r2(0, GMEM, 0n, 4n * M, U, G, 0n), 'EINVAL'],
    ['row 14: slot1 GPA overlap with slot0, other gmem range', r2(1, GMEM, M, M2, U, G, 4n * M), 'EEXIST'],
    ['row 14: slot1 GPA overlap, non-gmem', r2(1, 0, M, M2, U, -1, 0n), 'EEXIST'],
    ['row 20: slot1 gmem-range overlap only (off 1MiB)', r2(1, GMEM, 8n * M, M2, U, G, M), 'EINVAL'],
    ['row 14 before 20: slot1 gmem-range overlap AND GPA overlap', r2(1, GMEM, M, M2, U, G, M), 'EEXIST'],
    ['row 5: slot1 unaligned gpa', r2(1, GMEM, 8n * M + 512n, M2, U, G, 4n * M), 'EINVAL'],
    ['row 4: slot1 unaligned size', r2(1, GMEM, 8n * M, M2 + 512n, U, G, 4n * M), 'EINVAL'],
    ['row 6: slot1 unaligned uaddr', r2(1, GMEM, 8n * M, M2, U + 8n, G, 4n * M), 'EINVAL'],
    ['row 7: slot1 unaligned gmem offset', r2(1, GMEM, 8n * M, M2, U, G, 4n * M + 8n), 'EINVAL'],
    ['row 19: slot1 offset+size > gmem size', r2(1, GMEM, 8n * M, M2, U, G, 15n * M), 'EINVAL'],
    ['row 19: slot1 offset = gmem size, size 4K', r2(1, GMEM, 8n * M, 4096n, U, G, 16n * M), 'EINVAL'],
    ['row 7: slot1 offset+size u64 overflow', r2(1, GMEM, 8n * M, M2, U, G, 0xffff_ffff_ffff_f000n), 'EINVAL'],
    ["row 19: slot1 offset 'negative' (1<<63)", r2(1, GMEM, 8n * M, M2, U, G, 1n << 63n), 'EINVAL'],
    ['row 6: slot1 uaddr=0 (gmem)', r2(1, GMEM, 8n * M, M2, 0n, G, 4n * M), 'OK'],
    ['row 11: delete slot1', r2(1, 0, 8n * M, 0n, 0n, -1, 0n), 'OK'],
    ['row 6: slot1 uaddr kernel addr (gmem)', r2(1, GMEM, 8n * M, M2, 0xffff_8880_0000_0000n, G, 4n * M), 'EINVAL'],
    ['row 6: slot1 uaddr non-canonical (gmem)', r2(1, GMEM, 8n * M, M2, 0x0000_8000_0000_0000n, G, 4n * M), 'EINVAL'],
    ['row 9: slot1 gpa+size wraps', r2(1, GMEM, 0xffff_ffff_ffff_f000n, M2, U, G, 4n * M), 'EINVAL'],
    ['row 21: slot1 gpa beyond MAXPHYADDR (1<<52)', r2(1, GMEM, 1n << 52n, M2, U, G, 4n * M), 'EINVAL'],
    ['row 21: slot1 gpa 1<<46', r2(1, GMEM, 1n << 46n, M2, U, G, 4n * M), 'OK'],
    ['row 11: (delete it again)', r2(1, 0, 1n << 46n, 0n, 0n, -1, 0n), 'OK'],
    ['row 16: slot1 fd not open (9999)', r2(1, GMEM, 8n * M, M2, U, 9999, 4n * M), 'EBADF'],
    ['row 16: slot1 fd = -1', r2(1, GMEM, 8n * M, M2, U, -1, 4n * M), 'EBADF'],
    // memfd and /dev/kvm rows: the simulator holds no such fds (its table has only KVM objects).
    ['row 17: slot1 fd = vm fd', r2(1, GMEM, 8n * M, M2, U, f.vm, 0n), 'EINVAL'],
    ["row 18: slot1 fd = other VM's gmem", r2(1, GMEM, 8n * M, M2, U, G2, 0n), 'EINVAL'],
    ['row 3: slot1 GMEM|LOG_DIRTY', r2(1, GMEM | LOG, 8n * M, M2, U, G, 4n * M), 'EINVAL'],
    ['row 3: slot1 GMEM|READONLY', r2(1, GMEM | RO, 8n * M, M2, U, G, 4n * M), 'EINVAL'],
    ...Array.from({ length: 29 }, (_, i): Row =>
      [`row 3: slot1 flag bit ${i + 3}`, r2(1, 1 << (i + 3), 8n * M, M2, U, G, 4n * M), 'EINVAL']),
    // "pad1/pad2 nonzero": the port has no pads (the kernel ignores them), so this is the plain call.
    ['slot1 pad1/pad2 nonzero', r2(1, GMEM, 8n * M, M2, U, G, 4n * M), 'OK'],
    ['row 11: delete slot1 (flags GMEM, fd -1)', r2(1, GMEM, 0n, 0n, 0n, -1, 0n), 'OK'],
    ['row 11: delete slot1 again (nonexistent)', r2(1, 0, 0n, 0n, 0n, -1, 0n), 'EINVAL'],
    ['row 10: slot1 size > KVM_MEM_MAX_NR_PAGES (2^31 pages=8TiB)', r2(1, 0, 0x1000_0000_0000n, 1n << 43n, U, -1, 0n), 'EINVAL'],
    ['row 2: slot id = NR_MEMSLOTS', r2(32764, 0, 32n * M, M2, U, -1, 0n), 'EINVAL'],
    ['row 2: slot id = 32767', r2(32767, 0, 32n * M, M2, U, -1, 0n), 'EINVAL'],
    ['row 8: as_id 1 (slot 1|1<<16), gmem', r2(1 | (1 << 16), GMEM, 8n * M, M2, U, G, 4n * M), 'EINVAL'],
    ['row 8: delete as_id1 slot', r2(1 | (1 << 16), 0, 0n, 0n, 0n, -1, 0n), 'EINVAL'],
    ['row 8: as_id 2', r2(2 | (2 << 16), 0, 8n * M, M2, U, -1, 0n), 'EINVAL'],
    ['row 11: delete slot0 (gmem)', r2(0, 0, 0n, 0n, 0n, -1, 0n), 'OK'],
    ['row 11 note: re-bind same gmem range after delete', r2(0, GMEM, 0n, M2, U, G, 0n), 'OK'],
    ['non-gmem slot2 ok', r2(2, 0, 16n * M, M2, U + M2, -1, 0n), 'OK'],
    ['row 13: non-gmem move slot2', r2(2, 0, 20n * M, M2, U + M2, -1, 0n), 'OK'],
    ['row 13: non-gmem flags-only LOG_DIRTY', r2(2, LOG, 20n * M, M2, U + M2, -1, 0n), 'OK'],
    ['row 13: non-gmem toggle READONLY', r2(2, RO, 20n * M, M2, U + M2, -1, 0n), 'EINVAL'],
    ['row 13: non-gmem change uaddr', r2(2, 0, 20n * M, M2, U + 4n * M, -1, 0n), 'EINVAL'],
    ['row 13: non-gmem change size', r2(2, 0, 20n * M, 4n * M, U + M2, -1, 0n), 'EINVAL'],
    ['row 13: non-gmem -> gmem (add GMEM flag)', r2(2, GMEM, 20n * M, M2, U + M2, G, 8n * M), 'EINVAL'],
    ['row 6: non-gmem uaddr=0 size 2MiB (slot3)', r2(3, 0, 40n * M, M2, 0n, -1, 0n), 'OK'],
  ]);
});

describe('§2.3 replay of probe-del.c (a delete runs checks 3-7 before the existence check)', () => {
  const f = fixture();
  const G = f.gmem(16n * MiB, 0n);
  const r2 = (slot: number, flags: number, gpa: bigint, size: bigint, uaddr: bigint, fd: number, off: bigint) =>
    () => f.host.setUserMemoryRegion2(f.vm, { slot, flags, guestPhysAddr: gpa, memorySize: size, userspaceAddr: uaddr, guestMemfdOffset: off, guestMemfd: fd });
  const mk: Row = ['(re)create slot0 gmem', r2(0, GMEM, 0n, 2n * MiB, 0n, G, 0n), 'OK'];
  replay([
    mk,
    ['row 3 on delete: delete with invalid flag bit3', r2(0, 8, 0n, 0n, 0n, -1, 0n), 'EINVAL'],
    ['row 3 on delete: delete with GMEM|LOG_DIRTY', r2(0, GMEM | LOG, 0n, 0n, 0n, -1, 0n), 'EINVAL'],
    ['row 5 on delete: delete with unaligned gpa', r2(0, 0, 100n, 0n, 0n, -1, 0n), 'EINVAL'],
    ['row 6 on delete: delete with unaligned uaddr', r2(0, 0, 0n, 0n, 8n, -1, 0n), 'EINVAL'],
    ['row 7 on delete: delete with GMEM + unaligned offset', r2(0, GMEM, 0n, 0n, 0n, -1, 8n), 'EINVAL'],
    ['row 13 proves the refused deletes left slot0 in place (identical gmem re-issue)', r2(0, GMEM, 0n, 2n * MiB, 0n, G, 0n), 'EINVAL'],
    ['row 11: delete with other gpa (aligned): gpa is ignored', r2(0, 0, 1n << 30n, 0n, 0n, -1, 0n), 'OK'],
    mk,
    ['row 11: delete with READONLY flag (valid without GMEM)', r2(0, RO, 0n, 0n, 0n, -1, 0n), 'OK'],
    mk,
    ['row 2: delete slot 32764', r2(32764, 0, 0n, 0n, 0n, -1, 0n), 'EINVAL'],
    ['row 11: create size 0 on empty slot 5', r2(5, 0, 0n, 0n, 0n, -1, 0n), 'EINVAL'],
    ['row 20: gmem slot size 4K at gpa 4MiB offset 4K (inside slot0\'s offsets)', r2(6, GMEM, 4n * MiB, 4096n, 0n, G, 4096n), 'EINVAL'],
    ['row 19 note: gmem slot, offset+size == file size exactly', r2(7, GMEM, 64n * MiB, 2n * MiB, 0n, G, 14n * MiB), 'OK'],
    ['row 14 note: gmem slot GPA range touching (adjacent, no overlap)', r2(8, GMEM, 2n * MiB, 2n * MiB, 0n, G, 2n * MiB), 'OK'],
  ]);
});

describe('§2.3 check order and notes', () => {
  const plain = (p: Partial<MemoryRegion> = {}) => ({ slot: 1, guestPhysAddr: 0n, memorySize: 2n * MiB, ...p });

  test('§2.3 note: GPA overlap (14) runs before the fd checks (16-20): a bad fd with an overlapping GPA gives EEXIST', () => {
    const f = fixture();
    ok(f.set(plain()));
    fails(f.set({ slot: 2, flags: GMEM, guestPhysAddr: MiB, guestMemfd: 9999 }), 'EEXIST', 'KVM_SET_USER_MEMORY_REGION2');
  });

  test('§2.3 row 13: an identical re-issue of a plain slot is 0; a resize into a neighbour is EINVAL, not EEXIST', () => {
    const f = fixture();
    ok(f.set(plain()));
    ok(f.set(plain()));
    ok(f.set(plain({ slot: 2, guestPhysAddr: 2n * MiB })));
    fails(f.set(plain({ memorySize: 4n * MiB })), 'EINVAL');
  });

  test('§2.3 row 14: moving a plain slot onto another slot gives EEXIST; onto itself shifted is fine', () => {
    const f = fixture();
    ok(f.set(plain()));
    ok(f.set(plain({ slot: 2, guestPhysAddr: 4n * MiB })));
    fails(f.set(plain({ guestPhysAddr: 3n * MiB })), 'EEXIST');
    ok(f.set(plain({ guestPhysAddr: MiB }))); // overlaps only its own old range
  });

  test('§2.3 row 21 [src]: a move beyond the max gfn is EINVAL; the last page below 1<<52 is fine', () => {
    const f = fixture();
    ok(f.set(plain()));
    fails(f.set(plain({ guestPhysAddr: 1n << 52n })), 'EINVAL');
    ok(f.set(plain({ slot: 2, guestPhysAddr: (1n << 52n) - 2n * MiB })));
  });

  test('§2.3 rows 16 and 21 [src]: the bind checks run before the x86 gfn limit (bad fd at 1<<52 is EBADF)', () => {
    const f = fixture();
    fails(f.set({ slot: 1, flags: GMEM, guestPhysAddr: 1n << 52n, memorySize: 4096n, guestMemfd: 9999 }), 'EBADF');
  });

  test('§2.3 row 16: a closed gmem fd gives EBADF', () => {
    const f = fixture();
    const g = f.gmem(2n * MiB);
    ok(f.host.close(g));
    fails(f.set({ slot: 1, flags: GMEM, guestMemfd: g }), 'EBADF');
  });

  test('§2.3 row 18: a gmem whose creating VM fd is closed cannot be bound to another VM', () => {
    const f = fixture();
    const g = f.gmem(2n * MiB, 3n);
    ok(f.host.close(f.vm));
    const other = ok(f.host.createVm(0));
    fails(f.set({ slot: 7, flags: GMEM, guestMemfd: g }, other), 'EINVAL');
  });

  test('§2.3 note: 32764 gmem slots of 4 KiB bind to a single gmem; slot id 32764 then gives EINVAL', () => {
    const f = fixture();
    const g = f.gmem(32765n * 4096n);
    for (let s = 0; s < 32764; s++) {
      const r = f.set({ slot: s, flags: GMEM, guestPhysAddr: BigInt(s) * 8192n, memorySize: 4096n, guestMemfd: g, guestMemfdOffset: BigInt(s) * 4096n });
      if (!r.ok) assert.fail(`slot ${s}: ${r.error.errno}`);
    }
    fails(f.set({ slot: 32764, flags: GMEM, guestPhysAddr: 32764n * 8192n, memorySize: 4096n, guestMemfd: g, guestMemfdOffset: 32764n * 4096n }), 'EINVAL');
    assert.equal(f.host.inspect().vms[0].slots, 32764);
  });
});
