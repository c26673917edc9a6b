// The simulator's file descriptor table. Numbers are picked like get_unused_fd_flags does (the
// lowest free one), but from a high base so they never collide with the process's real fds in
// logs, reports or a /proc scan.
import { kfail, kok, type KernelOperation, type KResult } from '../kernel-error.js';
import type { SimFile, SimVm } from './sim-objects.js';

export type SimFd =
  | { kind: 'vm'; vm: SimVm }
  | { kind: 'gmem'; file: SimFile }
  /** The probe's vCPU: it pins its VM like a gmem file does. */
  | { kind: 'vcpu'; vm: SimVm };

export class FdTable {
  private readonly fds = new Map<number, SimFd>();
  /** No free number below this one. */
  private lowestFree: number;

  constructor(private readonly base: number, private readonly limit: number) {
    this.lowestFree = base;
  }

  get(fd: number): SimFd | undefined {
    return this.fds.get(fd);
  }

  /** The fd the next install would get, or undefined when the table is full (EMFILE). */
  next(): number | undefined {
    let fd = this.lowestFree;
    while (this.fds.has(fd)) fd++;
    this.lowestFree = fd;
    return fd < this.limit ? fd : undefined;
  }

  install(fd: number, obj: SimFd): void {
    this.fds.set(fd, obj);
  }

  remove(fd: number): SimFd | undefined {
    const obj = this.fds.get(fd);
    if (obj) {
      this.fds.delete(fd);
      if (fd < this.lowestFree && fd >= this.base) this.lowestFree = fd;
    }
    return obj;
  }

  entries(): [number, SimFd][] {
    return [...this.fds.entries()].sort((a, b) => a[0] - b[0]);
  }
}

/** The VM behind a VM-ioctl fd: EBADF if closed; a gmem fd has no ioctls (ENOTTY); a vCPU fd refuses VM ioctls (EINVAL). */
export function vmIoctlTarget(obj: SimFd | undefined, op: KernelOperation): KResult<SimVm> {
  if (!obj) return kfail(op, 'EBADF');
  if (obj.kind === 'gmem') return kfail(op, 'ENOTTY');
  if (obj.kind === 'vcpu') return kfail(op, 'EINVAL');
  return kok(obj.vm);
}
