// Shared helpers of the native adapter's tests.
import assert from 'node:assert/strict';
import { readdirSync, readlinkSync } from 'node:fs';
import type { KResult } from '../../src/kvm/kernel-error.js';
import { PROT } from '../../src/kvm/uapi.js';
import { MFD_CLOEXEC, sys } from '../../src/kvm/native/libc.js';
import type { NativeKvmHost } from '../../src/kvm/native/native-host.js';

export const PAGE = 4096n;
export const RW = PROT.READ | PROT.WRITE;
export const MiB = 1n << 20n;

export function ok<T>(r: KResult<T>): T {
  if (!r.ok) assert.fail(r.error.message);
  return r.value;
}
export function fails(r: KResult<unknown>, operation: string, errno: string): void {
  assert.equal(r.ok, false, `expected ${operation} to fail with ${errno}`);
  if (!r.ok) assert.deepEqual([r.error.operation, r.error.errno], [operation, errno]);
}
export function memfd(host: NativeKvmHost, size: bigint): number {
  const fd = sys.memfdCreate('gmemd-test', MFD_CLOEXEC);
  assert.ok(fd >= 0, 'memfd_create');
  ok(host.fallocate(fd, 0, 0n, size)); // mode 0 on shmem allocates and extends i_size
  return fd;
}
export const fdsOn = (target: string) => readdirSync('/proc/self/fd').filter((n) => {
  try { return readlinkSync(`/proc/self/fd/${n}`) === target; } catch { return false; }
}).length;
