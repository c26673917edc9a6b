// Shared helpers for the simulator's table tests: unwrap results, and build memslot requests
// with the defaults the probes in /work/shared/kernel-probes use.
import assert from 'node:assert/strict';
import type { KResult } from '../../src/kvm/kernel-error.js';
import type { MemoryRegion } from '../../src/kvm/kvm-host.js';
import { createSimulatedHost, type SimulatedKvmHost } from '../../src/kvm/simulated/sim-host.js';
import { MAP, MEM, PROT } from '../../src/kvm/uapi.js';

export const KiB = 1n << 10n;
export const MiB = 1n << 20n;
export const GiB = 1n << 30n;
export const RW = PROT.READ | PROT.WRITE;

export function ok<T>(r: KResult<T>): T {
  if (!r.ok) assert.fail(`expected success, got ${r.error.operation} ${r.error.errno}`);
  return r.value;
}

/** Assert a failure with this errno (and operation, when given). */
export function fails(r: KResult<unknown>, errno: string, operation?: string): void {
  assert.equal(r.ok, false, `expected ${errno}, got success`);
  if (r.ok) return;
  assert.equal(r.error.errno, errno);
  if (operation) assert.equal(r.error.operation, operation);
}

/** `'OK'` or the errno name, for table rows that list either. */
export function outcome(r: KResult<unknown>): string {
  return r.ok ? 'OK' : r.error.errno;
}

export function region(p: Partial<MemoryRegion>): MemoryRegion {
  return { slot: 0, flags: 0, guestPhysAddr: 0n, memorySize: 2n * MiB, userspaceAddr: 0n, guestMemfdOffset: 0n, guestMemfd: -1, ...p };
}

export function gmemRegion(fd: number, p: Partial<MemoryRegion>): MemoryRegion {
  return region({ flags: MEM.GUEST_MEMFD, guestMemfd: fd, ...p });
}

export interface Fixture {
  host: SimulatedKvmHost;
  vm: number;
  gmem(size: bigint, flags?: bigint, vm?: number): number;
  /** MAP_SHARED of a whole file (or anonymous memory with fd -1). */
  map(fd: number, length: bigint, prot?: number, offset?: bigint): bigint;
  set(p: Partial<MemoryRegion>, vm?: number): KResult<void>;
  read(addr: bigint): number;
  write(addr: bigint, byte: number): void;
}

export function fixture(): Fixture {
  const host = createSimulatedHost();
  const vm = ok(host.createVm(0));
  return {
    host, vm,
    gmem: (size, flags = 0n, on = vm) => ok(host.createGuestMemfd(on, size, flags)),
    map: (fd, length, prot = RW, offset = 0n) =>
      ok(host.mmap(fd, length, prot, fd < 0 ? MAP.SHARED | MAP.ANONYMOUS : MAP.SHARED, offset)),
    set: (p, on = vm) => host.setUserMemoryRegion2(on, region(p)),
    read: (addr) => ok(host.readMemory(addr, 1))[0],
    write: (addr, byte) => ok(host.writeMemory(addr, Buffer.from([byte]))),
  };
}
