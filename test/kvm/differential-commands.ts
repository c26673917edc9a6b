// The operations the differential test (differential.test.ts) runs on the native and the
// simulated host alike, as fast-check arbitraries. Commands name objects by symbol (the n-th VM,
// gmem or mapping a sequence created), never by fd or address, so one sequence means the same
// thing on both hosts. Values are drawn from small sets around the edges KERNEL.md §2 probes:
// misaligned sizes and offsets, overlapping GPA ranges and gmem offsets, another VM's gmem,
// bad flags, out-of-range offsets, deletes of absent slots, every fallocate mode.
import fc from 'fast-check';
import { FALLOC, MAP, MEM, PROT } from '../../src/kvm/uapi.js';

const M = 1n << 20n;
const GMEM = MEM.GUEST_MEMFD, RO = MEM.READONLY, LOG = MEM.LOG_DIRTY_PAGES;
const KEEP = FALLOC.KEEP_SIZE, PUNCH = FALLOC.PUNCH_HOLE;

/** An fd by symbol; `bad` is an fd number that is open in neither process. */
export type FdRef = { vm: number } | { gmem: number } | { bad: true };
export type UaddrRef = { map: number; offset: bigint } | { raw: bigint };

export type Command =
  | { op: 'createVm'; type: number }
  | { op: 'createGmem'; vm: number; size: bigint; flags: bigint }
  | { op: 'setRegion'; vm: number; slot: number; flags: number; gpa: bigint; size: bigint; uaddr: UaddrRef; fd: FdRef | { minus1: true }; offset: bigint }
  | { op: 'fallocate'; target: FdRef; mode: number; offset: bigint; length: bigint }
  | { op: 'mmap'; target: FdRef | { anon: true }; length: bigint; prot: number; flags: number; offset: bigint }
  | { op: 'munmap'; map: number; offset: bigint; length: bigint }
  | { op: 'close'; target: FdRef }
  | { op: 'fstat'; target: FdRef }
  | { op: 'read'; map: number; offset: bigint; length: number }
  | { op: 'write'; map: number; offset: bigint; byte: number }
  | { op: 'probe'; vm: number; gpa: bigint; write?: number; codeGpa: bigint; codeSlot: number }
  | { op: 'checkExtension'; cap: number; vm?: number };

// The setup's symbols (VMs 0-1, gmems 0-1, mappings 0-1) come up most; later ones may not exist.
const vm = fc.constantFrom(0, 0, 0, 1, 1, 2);
const gmem = fc.constantFrom(0, 0, 0, 1, 1, 2, 3);
const map = fc.constantFrom(0, 0, 1, 1, 2, 3);
const often = <T>(usual: fc.Arbitrary<T>, rare: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 4, arbitrary: usual }, { weight: 1, arbitrary: rare });

const fdRef: fc.Arbitrary<FdRef> = fc.oneof(
  { weight: 6, arbitrary: gmem.map((g) => ({ gmem: g })) },
  { weight: 2, arbitrary: vm.map((v) => ({ vm: v })) },
  { weight: 1, arbitrary: fc.constant({ bad: true as const }) },
);

const createVm = fc.record({ op: fc.constant('createVm' as const), type: often(fc.constant(0), fc.constantFrom(1, 5)) });

const createGmem = fc.record({
  op: fc.constant('createGmem' as const), vm,
  size: often(fc.constantFrom(4n * M, 2n * M, 8192n), fc.constantFrom(0n, 4095n, 1n << 63n, 1n << 62n)),
  flags: often(fc.constantFrom(3n, 0n, 1n), fc.constantFrom(2n, 4n, 1n << 63n)),
});

/** Mostly well-formed: gmem slots bound in 2 MiB steps, or plain slots over a mapping. */
const setRegionPlausible = fc.record({
  op: fc.constant('setRegion' as const), vm,
  slot: fc.integer({ min: 0, max: 5 }),
  flags: fc.constantFrom(GMEM, GMEM, 0, 0, RO, LOG),
  gpa: fc.integer({ min: 0, max: 7 }).map((i) => BigInt(i) * M),
  size: fc.constantFrom(2n * M, 2n * M, 4096n, 0n),
  uaddr: fc.record({ map, offset: fc.constantFrom(0n, 2n * M) }),
  fd: gmem.map((g) => ({ gmem: g })),
  offset: fc.constantFrom(0n, 2n * M, 4096n),
});

/** Every field may be off: misalignment, overlap, bad slots, flags, fds and offsets. */
const setRegionWild = fc.record({
  op: fc.constant('setRegion' as const), vm,
  slot: often(fc.integer({ min: 0, max: 5 }), fc.constantFrom(32763, 32764, 32767, 0x1_0001)),
  flags: often(fc.constantFrom(GMEM, GMEM, 0), fc.constantFrom(RO, LOG, GMEM | RO, GMEM | LOG, 8, 1 << 16)),
  gpa: often(fc.integer({ min: 0, max: 8 }).map((i) => BigInt(i) * M),
    fc.constantFrom(512n, 1n << 46n, 1n << 52n, (1n << 52n) - 2n * M, 0xffff_ffff_ffff_f000n)),
  size: often(fc.constantFrom(0n, 4096n, 2n * M, 2n * M, 4n * M), fc.constantFrom(2n * M + 512n, 1n << 43n)),
  uaddr: fc.oneof(
    { weight: 4, arbitrary: fc.record({ map, offset: fc.constantFrom(0n, 0n, M, 2n * M, 8n) }) },
    { weight: 2, arbitrary: fc.constant({ raw: 0n }) },
    { weight: 1, arbitrary: fc.constantFrom({ raw: 0xffff_8880_0000_0000n }, { raw: 0x8000_0000_0000n }) },
  ),
  fd: fc.oneof({ weight: 8, arbitrary: fdRef }, { weight: 1, arbitrary: fc.constant({ minus1: true as const }) }),
  offset: often(fc.constantFrom(0n, 0n, 4096n, M, 2n * M), fc.constantFrom(4n * M, 8n, 1n << 63n, 0xffff_ffff_ffff_f000n)),
});

// Allocation lengths stay small: a native fallocate really allocates (and pins) the memory.
const fallocate = fc.oneof(
  fc.record({
    op: fc.constant('fallocate' as const), target: fdRef,
    mode: fc.constantFrom(KEEP, KEEP, 0, PUNCH, 0x10 | KEEP, 0x10, 0x40 | KEEP, 0x08, 0x20, 0x100 | KEEP),
    offset: often(fc.constantFrom(0n, 4096n, M, 2n * M), fc.constantFrom(4n * M, 100n, -4096n, (1n << 63n) - 4096n)),
    length: fc.constantFrom(4096n, M, 2n * M, 0n, 100n, 8192n),
  }),
  fc.record({
    op: fc.constant('fallocate' as const), target: fdRef, mode: fc.constant(PUNCH | KEEP),
    offset: fc.constantFrom(0n, 4096n, M, 4n * M, 8n * M, 100n),
    length: fc.constantFrom(4096n, M, 2n * M, 1n << 40n, 100n),
  }),
);

const mmap = fc.record({
  op: fc.constant('mmap' as const),
  target: fc.oneof({ weight: 3, arbitrary: fdRef }, { weight: 1, arbitrary: fc.constant({ anon: true as const }) }),
  length: often(fc.constantFrom(4096n, 2n * M, 4n * M), fc.constantFrom(8n * M, 100n, 0n)),
  prot: often(fc.constantFrom(PROT.READ | PROT.WRITE, PROT.READ), fc.constant(PROT.READ | PROT.EXEC)),
  flags: often(fc.constant(MAP.SHARED), fc.constant(MAP.PRIVATE)),
  offset: often(fc.constantFrom(0n, 0n, M, 2n * M), fc.constantFrom(8n * M, 100n)),
});

const munmap = fc.record({
  op: fc.constant('munmap' as const), map,
  offset: often(fc.constantFrom(0n, M, 4096n), fc.constant(100n)),
  length: often(fc.constantFrom(4096n, M, 100n), fc.constant(0n)),
});

const memOffset = fc.constantFrom(0n, 0x123n, M, 2n * M - 1n, 4n * M - 1n, 4n * M);
const read = fc.record({ op: fc.constant('read' as const), map, offset: memOffset, length: fc.constantFrom(1, 16, 4096) });
const write = fc.record({ op: fc.constant('write' as const), map, offset: memOffset, byte: fc.integer({ min: 0, max: 255 }) });

const probe = fc.record({
  op: fc.constant('probe' as const), vm,
  gpa: fc.constantFrom(0x123n, 0x1000n, 2n * M + 0x10n, 4n * M + 0x10n, 6n * M + 0x10n, 0x8000_0000n),
  write: fc.option(fc.integer({ min: 0, max: 255 }), { nil: undefined }),
  codeGpa: often(fc.constant(0xf000_0000n), fc.constantFrom(0x1000n, 0x100n)),
  codeSlot: often(fc.constant(100), fc.constantFrom(0, 1)),
});

const close = fc.record({ op: fc.constant('close' as const), target: fdRef });
const fstat = fc.record({ op: fc.constant('fstat' as const), target: fdRef });
const checkExtension = fc.record({
  op: fc.constant('checkExtension' as const),
  cap: fc.constantFrom(10, 81, 118, 231, 233, 234, 235, 244),
  vm: fc.option(vm, { nil: undefined }),
});

export const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 5, arbitrary: setRegionPlausible },
  { weight: 3, arbitrary: setRegionWild },
  { weight: 4, arbitrary: probe },
  { weight: 3, arbitrary: fallocate },
  { weight: 2, arbitrary: mmap },
  { weight: 2, arbitrary: read },
  { weight: 2, arbitrary: write },
  { weight: 2, arbitrary: createGmem },
  { weight: 1, arbitrary: createVm },
  { weight: 1, arbitrary: close },
  { weight: 1, arbitrary: munmap },
  { weight: 1, arbitrary: fstat },
  { weight: 1, arbitrary: checkExtension },
);

/** Every sequence starts from two VMs, a shareable and a private 4 MiB gmem on VM 0, a host
 * mapping of the shareable one and an anonymous mapping, and the first section's sharing: the
 * gmem bound in VM 0, a read-write and a read-only view of it in VM 1. So most generated calls
 * can succeed and probes see memory. */
export const SETUP: Command[] = [
  { op: 'createVm', type: 0 },
  { op: 'createVm', type: 0 },
  { op: 'createGmem', vm: 0, size: 4n * M, flags: 3n },
  { op: 'createGmem', vm: 0, size: 4n * M, flags: 0n },
  { op: 'mmap', target: { gmem: 0 }, length: 4n * M, prot: PROT.READ | PROT.WRITE, flags: MAP.SHARED, offset: 0n },
  { op: 'mmap', target: { anon: true }, length: 4n * M, prot: PROT.READ | PROT.WRITE, flags: MAP.SHARED, offset: 0n },
  { op: 'setRegion', vm: 0, slot: 0, flags: GMEM, gpa: 0n, size: 2n * M, uaddr: { raw: 0n }, fd: { gmem: 0 }, offset: 0n },
  { op: 'setRegion', vm: 1, slot: 0, flags: 0, gpa: 0n, size: 2n * M, uaddr: { map: 0, offset: 0n }, fd: { bad: true }, offset: 0n },
  { op: 'setRegion', vm: 1, slot: 1, flags: RO, gpa: 4n * M, size: 2n * M, uaddr: { map: 0, offset: 2n * M }, fd: { bad: true }, offset: 0n },
];

export const sequence: fc.Arbitrary<Command[]> =
  fc.array(command, { minLength: 5, maxLength: 40 }).map((cmds) => [...SETUP, ...cmds]);
