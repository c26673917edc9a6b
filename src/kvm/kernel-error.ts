// A kernel refusal as gmemd reports it: the errno by name and number, and the operation
// that failed. Both adapters produce exactly these, so callers never see a backend's quirks.

/** x86-64 Linux errno numbers (asm-generic/errno-base.h, asm-generic/errno.h). */
export const ERRNO = {
  EPERM: 1, ENOENT: 2, EINTR: 4, EIO: 5, ENXIO: 6, EBADF: 9, EAGAIN: 11, ENOMEM: 12,
  EACCES: 13, EFAULT: 14, EBUSY: 16, EEXIST: 17, ENODEV: 19, EINVAL: 22, ENFILE: 23,
  EMFILE: 24, ENOTTY: 25, EFBIG: 27, ENOSPC: 28, ESPIPE: 29, E2BIG: 7, ERANGE: 34,
  ENOSYS: 38, EOPNOTSUPP: 95,
} as const;

export type ErrnoName = keyof typeof ERRNO;

const NAMES = new Map<number, string>(Object.entries(ERRNO).map(([k, v]) => [v, k]));

export function errnoName(n: number): string {
  return NAMES.get(n) ?? `E${n}`;
}

/** Every kernel entry point gmemd uses; the names appear in problem+json and audit events. */
export type KernelOperation =
  | 'open' | 'close' | 'fstat' | 'fallocate' | 'mmap' | 'munmap' | 'memory'
  | 'KVM_CHECK_EXTENSION' | 'KVM_CREATE_VM' | 'KVM_CREATE_GUEST_MEMFD'
  | 'KVM_SET_USER_MEMORY_REGION2' | 'KVM_CREATE_VCPU' | 'KVM_GET_VCPU_MMAP_SIZE'
  | 'KVM_GET_SREGS' | 'KVM_SET_SREGS' | 'KVM_SET_REGS' | 'KVM_RUN';

export class KernelError extends Error {
  readonly errno: string;
  readonly errnoNumber: number;
  readonly operation: KernelOperation;

  constructor(operation: KernelOperation, errno: number | string) {
    const num = typeof errno === 'number' ? errno : (ERRNO as Record<string, number>)[errno] ?? -1;
    const name = typeof errno === 'number' ? errnoName(errno) : errno;
    super(`${operation} failed: ${name}`);
    this.name = 'KernelError';
    this.errno = name;
    this.errnoNumber = num;
    this.operation = operation;
  }
}

export type KResult<T> = { ok: true; value: T } | { ok: false; error: KernelError };

export const kok = <T>(value: T): KResult<T> => ({ ok: true, value });
export const kfail = <T = never>(operation: KernelOperation, errno: number | string): KResult<T> =>
  ({ ok: false, error: new KernelError(operation, errno) });
