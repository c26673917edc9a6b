// The four kernel loops of test/bench/kvm-rates.c, written against the KvmHost port so the same
// code times the native adapter (koffi) and the simulator. Field values match the C file
// and gmemd's services/memslots.ts, so a ratio compares like with like.
import type { KResult } from '../../src/kvm/kernel-error.js';
import type { KvmHost, MemoryRegion } from '../../src/kvm/kvm-host.js';
import { GMEM_FLAGS_SHAREABLE, MAP, MEM, PROT } from '../../src/kvm/uapi.js';

export const LOOPS = ['gmem-create-close', 'gmem-slot-pair', 'view-slot-pair', 'vm-create-close'] as const;
export type LoopName = (typeof LOOPS)[number];

export const LOOP_LABELS: Record<LoopName, string> = {
  'gmem-create-close': 'guest_memfd create (2 MiB, flags 3) + close',
  'gmem-slot-pair': 'gmem memslot create + delete (pair)',
  'view-slot-pair': 'view memslot create + delete (pair)',
  'vm-create-close': 'KVM_CREATE_VM + close',
};

/** The VM loop runs iterations / this many times: a VM costs the kernel hundreds of µs (as in kvm-rates.c). */
export const VM_LOOP_DIVISOR = 40;

export interface LoopRun { n: number; seconds: number; fails: number }

const MiB = 1n << 20n;

function must<T>(r: KResult<T>, what: string): T {
  if (!r.ok) throw new Error(`${what}: ${r.error.message}`);
  return r.value;
}

function timed(n: number, body: () => number): LoopRun {
  const t = process.hrtime.bigint();
  let fails = 0;
  for (let i = 0; i < n; i++) fails += body();
  return { n, seconds: Number(process.hrtime.bigint() - t) / 1e9, fails };
}

const region = (slot: number, flags: number, gpa: bigint, size: bigint, uaddr: bigint, gmemFd: number): MemoryRegion =>
  ({ slot, flags, guestPhysAddr: gpa, memorySize: size, userspaceAddr: uaddr, guestMemfd: gmemFd, guestMemfdOffset: 0n });

/** One round of all four loops (the first three in one fresh VM); everything it creates is closed again. */
export function runLoops(host: KvmHost, n: number): Record<LoopName, LoopRun> {
  const vm = must(host.createVm(0), 'KVM_CREATE_VM');
  try {
    // The size as a constant, as the C loop's is (a BigInt product is an allocation per call).
    const size = 2n * MiB;
    const create = timed(n, () => {
      const r = host.createGuestMemfd(vm, size, GMEM_FLAGS_SHAREABLE);
      if (!r.ok) return 1;
      host.close(r.value);
      return 0;
    });

    const g = must(host.createGuestMemfd(vm, 4n * MiB, GMEM_FLAGS_SHAREABLE), 'KVM_CREATE_GUEST_MEMFD');
    // Regions are built once, outside the loop, as a caller reusing them would; the adapter
    // still encodes each into its struct on every call.
    const gmemSlot = region(0, MEM.GUEST_MEMFD, 0n, 2n * MiB, 0n, g);
    const gmemDel = region(0, 0, 0n, 0n, 0n, 0);
    const gmemPair = timed(n, () =>
      (host.setUserMemoryRegion2(vm, gmemSlot).ok ? 0 : 1) + (host.setUserMemoryRegion2(vm, gmemDel).ok ? 0 : 1));

    const addr = must(host.mmap(g, 2n * MiB, PROT.READ | PROT.WRITE, MAP.SHARED, 0n), 'mmap gmem');
    const viewSlot = region(1, 0, 64n * MiB, 2n * MiB, addr, 0);
    const viewDel = region(1, 0, 64n * MiB, 0n, 0n, 0);
    const viewPair = timed(n, () =>
      (host.setUserMemoryRegion2(vm, viewSlot).ok ? 0 : 1) + (host.setUserMemoryRegion2(vm, viewDel).ok ? 0 : 1));
    host.munmap(addr, 2n * MiB);
    host.close(g);
    return { 'gmem-create-close': create, 'gmem-slot-pair': gmemPair, 'view-slot-pair': viewPair, 'vm-create-close': vmLoop(host, n) };
  } finally {
    host.close(vm);
  }
}

/** What the (f) mix pays the kernel for every fourth request. */
function vmLoop(host: KvmHost, n: number): LoopRun {
  return timed(Math.max(1, Math.floor(n / VM_LOOP_DIVISOR)), () => {
    const r = host.createVm(0);
    if (!r.ok) return 1;
    host.close(r.value);
    return 0;
  });
}
