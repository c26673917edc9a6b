// ioctl numbers, flags and struct layouts of the KVM uapi used by gmemd, x86-64.
// Source: include/uapi/linux/kvm.h of Linux 6.18 (KVMIO 0xAE) and include/uapi/asm-generic/ioctl.h
// for _IOC. Debian 12's linux-libc-dev (6.1) lacks the guest_memfd definitions, so they live here.
// The numbers are asserted against ../shared/KERNEL.md §1 in test/kvm/uapi.test.ts.

const IOC_NONE = 0, IOC_WRITE = 1, IOC_READ = 2;
const KVMIO = 0xae;

/** _IOC(dir, type, nr, size) from asm-generic/ioctl.h; `>>> 0` keeps it unsigned in JS. */
export function ioc(dir: number, type: number, nr: number, size: number): number {
  return ((dir << 30) | (size << 16) | (type << 8) | nr) >>> 0;
}
const io = (nr: number) => ioc(IOC_NONE, KVMIO, nr, 0);
const iow = (nr: number, size: number) => ioc(IOC_WRITE, KVMIO, nr, size);
const ior = (nr: number, size: number) => ioc(IOC_READ, KVMIO, nr, size);
const iowr = (nr: number, size: number) => ioc(IOC_READ | IOC_WRITE, KVMIO, nr, size);

/** Struct sizes (bytes); asserted against koffi.sizeof of the declared structs in a test. */
export const SIZEOF = {
  kvm_userspace_memory_region2: 160,
  kvm_create_guest_memfd: 64,
  kvm_regs: 144,
  kvm_sregs: 312,
  kvm_segment: 24,
  stat: 144,
} as const;

export const KVM = {
  GET_API_VERSION: io(0x00),
  CREATE_VM: io(0x01),
  CHECK_EXTENSION: io(0x03),
  GET_VCPU_MMAP_SIZE: io(0x04),
  CREATE_VCPU: io(0x41),
  SET_USER_MEMORY_REGION2: iow(0x49, SIZEOF.kvm_userspace_memory_region2),
  RUN: io(0x80),
  GET_REGS: ior(0x81, SIZEOF.kvm_regs),
  SET_REGS: iow(0x82, SIZEOF.kvm_regs),
  GET_SREGS: ior(0x83, SIZEOF.kvm_sregs),
  SET_SREGS: iow(0x84, SIZEOF.kvm_sregs),
  CREATE_GUEST_MEMFD: iowr(0xd4, SIZEOF.kvm_create_guest_memfd),
} as const;

export const CAP = {
  NR_MEMSLOTS: 10,
  READONLY_MEM: 81,
  USER_MEMORY2: 231,
  GUEST_MEMFD: 234,
  VM_TYPES: 235,
  GUEST_MEMFD_FLAGS: 244,
} as const;

export const MEM = { LOG_DIRTY_PAGES: 1, READONLY: 2, GUEST_MEMFD: 4 } as const;
export const GMEM_FLAG = { MMAP: 1n, INIT_SHARED: 2n } as const;
export const GMEM_FLAGS_SHAREABLE = GMEM_FLAG.MMAP | GMEM_FLAG.INIT_SHARED;

/** KVM_USER_MEM_SLOTS on x86 (32767 - 3 private slots). */
export const KVM_USER_MEM_SLOTS = 32764;
/** KVM_MEM_MAX_NR_PAGES: (1 << 31) - 1. */
export const KVM_MEM_MAX_NR_PAGES = (1n << 31n) - 1n;

export const KVM_EXIT = { IO: 2, HLT: 5, MMIO: 6, SHUTDOWN: 8, FAIL_ENTRY: 9, INTERNAL_ERROR: 17, MEMORY_FAULT: 39 } as const;

export const FALLOC = { KEEP_SIZE: 1, PUNCH_HOLE: 2 } as const;
export const PROT = { READ: 1, WRITE: 2, EXEC: 4 } as const;
export const MAP = { SHARED: 1, PRIVATE: 2, ANONYMOUS: 0x20 } as const;
export const O = { RDWR: 2, CLOEXEC: 0o2000000 } as const;
/** flock(2) operations (asm-generic/fcntl.h). */
export const LOCK = { SH: 1, EX: 2, NB: 4, UN: 8 } as const;

export const PAGE_SIZE = 4096n;
