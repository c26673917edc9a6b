// libc through koffi: the only place gmemd touches native code. The library is loaded once per
// process; callers read errno() immediately after a failing call, before anything else can
// overwrite it. Struct layouts are declared with koffi so that koffi.sizeof/offsetof can be
// checked against SIZEOF in uapi.ts and against gcc (test/kvm/uapi.test.ts); the encoders
// below take their offsets from those declarations and write into caller-owned, reused
// Buffers, because marshalling a koffi.struct object per call costs ~40% on hot paths.
import { fstatSync } from 'node:fs';
import { endianness } from 'node:os';
import koffi from 'koffi';
import type { FileStat, MemoryRegion } from '../kvm-host.js';
import { MAP, PROT } from '../uapi.js';

let loads = 0;
function loadLibc() {
  loads += 1;
  return koffi.load('libc.so.6');
}
const lib = loadLibc();

/** How many times libc was loaded in this process (1: per process, never per host instance). */
export const libcLoads = (): number => loads;

// off_t is spelled int64_t: a global koffi alias could collide with another module's.
//
// ioctl(int, unsigned long, ...) is variadic, and stays declared so (`ioctl`, for any third
// argument type). The calls gmemd makes, whose third argument is a pointer or an integer, go
// through fixed-arity declarations of the same symbol: koffi compiles a call plan once for a
// fixed prototype, whereas a variadic call parses its extra argument's type string and builds
// the call on every call (koffi 3 src/koffi/src/ffi.cc: no PreparePlan for variadic functions),
// and only a fixed prototype can be called with .async (ioctlAsync below: memslot changes
// sleep in synchronize_srcu, KVM_CREATE_VM takes a millisecond on a busy host). This is ABI-correct on x86-64 Linux
// (the only target: the struct layouts below are x86-64's): the SysV psABI (§3.2.3, §3.5.7)
// passes an INTEGER-class variadic argument exactly as a named one, the third in %rdx, the
// only extra being %al (an upper bound on the vector registers used), which glibc's ioctl
// never reads (glibc 2.36: it stores %rdx and issues syscall 16; test/kvm/uapi.test.ts checks
// both forms give the same results).
const fns = {
  open: lib.func('int open(const char *path, int flags, ...)'),
  close: lib.func('int close(int fd)'),
  ioctl: lib.func('int ioctl(int fd, unsigned long request, ...)'),
  ioctlPtr: lib.func('int ioctl(int fd, unsigned long request, void *arg)'),
  ioctlInt: lib.func('int ioctl(int fd, unsigned long request, unsigned long arg)'),
  fallocate: lib.func('int fallocate(int fd, int mode, int64_t offset, int64_t len)'),
  mmap: lib.func('void *mmap(void *addr, size_t length, int prot, int flags, int fd, int64_t offset)'),
  munmap: lib.func('int munmap(void *addr, size_t length)'),
  fstat: lib.func('int fstat(int fd, _Out_ uint8_t *buf)'),
  memfdCreate: lib.func('int memfd_create(const char *name, unsigned int flags)'),
  flock: lib.func('int flock(int fd, int operation)'),
};

export const MAP_FAILED = 0xffffffffffffffffn;
export const MFD_CLOEXEC = 1;

const i64 = (v: bigint) => BigInt.asIntN(64, v);
const u64 = (v: bigint) => BigInt.asUintN(64, v);

/** Thin typed calls; the return value is libc's (-1 / MAP_FAILED on failure, see errno()).
 *  Each is one koffi call on a function declared once, with no per-call allocation. */
export const sys = {
  open: (path: string, flags: number): number => fns.open(path, flags),
  close: (fd: number): number => fns.close(fd),
  ioctlPtr: (fd: number, request: number, arg: Buffer): number => fns.ioctlPtr(fd, request, arg),
  ioctlInt: (fd: number, request: number, arg: number): number => fns.ioctlInt(fd, request, arg),
  /** The variadic form, for a third argument of any other koffi type (e.g. 'int *'). */
  ioctlAs: (fd: number, request: number, type: string, arg: unknown): number => fns.ioctl(fd, request, type, arg),
  fallocate: (fd: number, mode: number, offset: bigint, len: bigint): number =>
    fns.fallocate(fd, mode, i64(offset), i64(len)),
  mmap: (length: bigint, prot: number, flags: number, fd: number, offset: bigint): bigint =>
    fns.mmap(null, u64(length), prot, flags, fd, i64(offset)),
  munmap: (addr: bigint, length: bigint): number => fns.munmap(u64(addr), u64(length)),
  fstat: (fd: number, buf: Buffer): number => fns.fstat(fd, buf),
  memfdCreate: (name: string, flags: number): number => fns.memfdCreate(name, flags),
  /** flock(2), for the ledger's single-writer lock (src/lifecycle/ledger-lock.ts). */
  flock: (fd: number, operation: number): number => fns.flock(fd, operation),
};

export const errno = (): number => koffi.errno();

// koffi keeps RESIDENT_POOLS sets of stack and heap blocks for async calls; one more call
// in flight allocates a fresh 256 KiB set and frees it after, and past max_async_calls it
// throws. Calls beyond the pools wait here instead: the kernel serializes memslot changes
// of one VM anyway, and libuv runs four at a time.
const RESIDENT_POOLS = koffi.config().resident_async_pools as number;
let inFlight = 0;
const waiting: (() => void)[] = [];

/**
 * fn(...args) on one of koffi's worker threads, with the errno of that call: koffi saves the
 * worker's errno after the call and restores it around the completion callback, so errno()
 * read first thing there is this call's (meaningful only if the call failed). Arguments
 * that point into memory must not be reused until the promise settles.
 */
async function callOffLoop<R>(fn: ReturnType<typeof lib.func>, args: unknown[]): Promise<{ ret: R; errno: number }> {
  // A finishing call hands its slot straight to the next waiter, so the count never overshoots.
  if (inFlight >= RESIDENT_POOLS) await new Promise<void>((go) => waiting.push(go));
  else inFlight += 1;
  try {
    return await new Promise((resolve, reject) => {
      fn.async(...args, (e: unknown, ret: R) => {
        const n = errno();
        if (e) reject(e);
        else resolve({ ret, errno: n });
      });
    });
  } finally {
    const next = waiting.shift();
    if (next) next();
    else inFlight -= 1;
  }
}

/** ioctl(fd, request, arg) off the event loop; errno is 0 unless it failed. */
export async function ioctlAsync(fd: number, request: number, arg: Buffer | number): Promise<{ ret: number; errno: number }> {
  const { ret, errno: n } = await callOffLoop<number>(typeof arg === 'number' ? fns.ioctlInt : fns.ioctlPtr, [fd, request, arg]);
  return { ret, errno: ret < 0 ? n : 0 };
}

/**
 * mmap(NULL, length, prot, flags, fd, offset) off the event loop. mmap takes the process's
 * mmap lock for writing, and KVM_CREATE_VM holds it while it registers the VM's MMU notifier,
 * which walks every mapping of the process: with 10,000 mapped inodes a VM create on another
 * thread made a plain mmap wait 393 µs on average and up to 14 ms (test/bench/mmap-lock.c).
 * errno is 0 unless it returned MAP_FAILED.
 */
export async function mmapAsync(length: bigint, prot: number, flags: number, fd: number, offset: bigint): Promise<{ addr: bigint; errno: number }> {
  const { ret, errno: n } = await callOffLoop<bigint>(fns.mmap, [null, u64(length), prot, flags, fd, i64(offset)]);
  return { addr: ret, errno: ret === MAP_FAILED ? n : 0 };
}

/** A Buffer over native memory, no copy: valid only while the mapping exists. */
export const nativeView = (addr: bigint, length: number): Buffer =>
  Buffer.from(koffi.view(addr, length));

/**
 * The first `length` bytes of fd's file mapped read-only and shared (MAP_SHARED: what any
 * process writes to the file shows in it at once), or null if the file is shorter or mmap
 * fails. The view must not be touched after unmap(). A file that shrinks under its
 * mapping would raise SIGBUS on access: callers map only files that cannot shrink while
 * they hold them (the ledger's -shm, src/store/data-version.ts).
 */
export function mapFileReadOnly(fd: number, length: number): { view: Buffer; unmap(): void } | null {
  if (fstatSync(fd).size < length) return null;
  const addr = sys.mmap(BigInt(length), PROT.READ, MAP.SHARED, fd, 0n);
  if (addr === MAP_FAILED) return null;
  let mapped = true;
  return {
    view: nativeView(addr, length),
    unmap: () => { if (mapped) sys.munmap(addr, BigInt(length)); mapped = false; },
  };
}

// ---- struct layouts (x86-64) ----

export const kvm_userspace_memory_region2 = koffi.struct('kvm_userspace_memory_region2', {
  slot: 'uint32_t', flags: 'uint32_t', guest_phys_addr: 'uint64_t', memory_size: 'uint64_t',
  userspace_addr: 'uint64_t', guest_memfd_offset: 'uint64_t', guest_memfd: 'uint32_t',
  pad1: 'uint32_t', pad2: koffi.array('uint64_t', 14),
});
export const kvm_create_guest_memfd = koffi.struct('kvm_create_guest_memfd', {
  size: 'uint64_t', flags: 'uint64_t', reserved: koffi.array('uint64_t', 6),
});
const REG_NAMES = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rsp', 'rbp', 'r8', 'r9', 'r10', 'r11',
  'r12', 'r13', 'r14', 'r15', 'rip', 'rflags'] as const;
export const kvm_regs = koffi.struct('kvm_regs', Object.fromEntries(REG_NAMES.map((r) => [r, 'uint64_t'])));
export const kvm_segment = koffi.struct('kvm_segment', {
  base: 'uint64_t', limit: 'uint32_t', selector: 'uint16_t', type: 'uint8_t', present: 'uint8_t',
  dpl: 'uint8_t', db: 'uint8_t', s: 'uint8_t', l: 'uint8_t', g: 'uint8_t', avl: 'uint8_t',
  unusable: 'uint8_t', padding: 'uint8_t',
});
export const kvm_dtable = koffi.struct('kvm_dtable', {
  base: 'uint64_t', limit: 'uint16_t', padding: koffi.array('uint16_t', 3),
});
export const kvm_sregs = koffi.struct('kvm_sregs', {
  cs: kvm_segment, ds: kvm_segment, es: kvm_segment, fs: kvm_segment, gs: kvm_segment, ss: kvm_segment,
  tr: kvm_segment, ldt: kvm_segment, gdt: kvm_dtable, idt: kvm_dtable,
  cr0: 'uint64_t', cr2: 'uint64_t', cr3: 'uint64_t', cr4: 'uint64_t', cr8: 'uint64_t',
  efer: 'uint64_t', apic_base: 'uint64_t', interrupt_bitmap: koffi.array('uint64_t', 4),
});
export const kvm_run_io = koffi.struct('kvm_run_io', {
  direction: 'uint8_t', size: 'uint8_t', port: 'uint16_t', count: 'uint32_t', data_offset: 'uint64_t',
});
export const kvm_run_mmio = koffi.struct('kvm_run_mmio', {
  phys_addr: 'uint64_t', data: koffi.array('uint8_t', 8), len: 'uint32_t', is_write: 'uint8_t',
});
/** struct kvm_run up to and including its 256-byte exit union (the part the probe reads). */
export const kvm_run_head = koffi.struct('kvm_run_head', {
  request_interrupt_window: 'uint8_t', immediate_exit: 'uint8_t', padding1: koffi.array('uint8_t', 6),
  exit_reason: 'uint32_t', ready_for_interrupt_injection: 'uint8_t', if_flag: 'uint8_t', flags: 'uint16_t',
  cr8: 'uint64_t', apic_base: 'uint64_t',
  exit: koffi.union('kvm_run_exit', { io: kvm_run_io, mmio: kvm_run_mmio, padding: koffi.array('uint8_t', 256) }),
});
const timespec = koffi.struct('gmemd_timespec', { tv_sec: 'int64_t', tv_nsec: 'int64_t' });
export const stat = koffi.struct('stat', {
  st_dev: 'uint64_t', st_ino: 'uint64_t', st_nlink: 'uint64_t', st_mode: 'uint32_t', st_uid: 'uint32_t',
  st_gid: 'uint32_t', __pad0: 'int32_t', st_rdev: 'uint64_t', st_size: 'int64_t', st_blksize: 'int64_t',
  st_blocks: 'int64_t', st_atim: timespec, st_mtim: timespec, st_ctim: timespec,
  __glibc_reserved: koffi.array('int64_t', 3),
});

type Struct = ReturnType<typeof koffi.struct>;
const offsets = <K extends string>(t: Struct, names: readonly K[]) =>
  Object.fromEntries(names.map((n) => [n, koffi.offsetof(t, n)])) as Record<K, number>;

export const REGION2 = offsets(kvm_userspace_memory_region2, ['slot', 'flags', 'guest_phys_addr',
  'memory_size', 'userspace_addr', 'guest_memfd_offset', 'guest_memfd'] as const);
export const GMEM = offsets(kvm_create_guest_memfd, ['size', 'flags'] as const);
export const REGS = offsets(kvm_regs, REG_NAMES);
export const SEGMENT = offsets(kvm_segment, ['base', 'limit', 'selector', 'type', 'present', 'dpl', 'db',
  's', 'l', 'g', 'avl', 'unusable'] as const);
export const SREGS = offsets(kvm_sregs, ['cs', 'ds', 'es', 'fs', 'gs', 'ss', 'cr0', 'efer'] as const);
const exitBase = koffi.offsetof(kvm_run_head, 'exit');
const io = offsets(kvm_run_io, ['direction', 'size', 'port', 'data_offset'] as const);
const mmio = offsets(kvm_run_mmio, ['phys_addr', 'data', 'len', 'is_write'] as const);
/** Offsets inside struct kvm_run, the exit union's members already rebased. */
export const RUN = {
  ...offsets(kvm_run_head, ['immediate_exit', 'exit_reason'] as const),
  io_direction: exitBase + io.direction, io_size: exitBase + io.size, io_port: exitBase + io.port,
  io_data_offset: exitBase + io.data_offset,
  mmio_phys_addr: exitBase + mmio.phys_addr, mmio_data: exitBase + mmio.data,
  mmio_len: exitBase + mmio.len, mmio_is_write: exitBase + mmio.is_write,
};
export const STAT = offsets(stat, ['st_dev', 'st_ino', 'st_nlink', 'st_mode', 'st_size', 'st_blksize',
  'st_blocks'] as const);

// ---- encoders into reused Buffers ----

if (endianness() !== 'LE') throw new Error('the struct encoders write native-endian words: x86-64 (little-endian) only');

/** A struct argument encoded in place: one Buffer with 32- and 64-bit views over the same
 *  memory, made once by its owner and reused for every call. Writing a view element costs a
 *  store, where Buffer.writeBigUInt64LE(BigInt.asUintN(...)) cost ~0.25 µs per field (a
 *  tenth of the whole koffi overhead of a guest_memfd create+close). A view's assignment
 *  wraps as the u64()/>>> 0 conversions did (ToBigUint64, ToUint32). */
export class StructBuf {
  readonly buf: Buffer;
  readonly u32: Uint32Array;
  readonly u64: BigUint64Array;
  private address = 0;
  constructor(size: number) {
    const ab = new ArrayBuffer(Math.ceil(size / 8) * 8);
    this.buf = Buffer.from(ab, 0, size);
    this.u32 = new Uint32Array(ab);
    this.u64 = new BigUint64Array(ab);
  }

  /** The struct's address, for `ioctlInt` on the synchronous paths: koffi's conversion of a
   *  Buffer argument to a pointer was ~80 ns a call, about a tenth of its whole overhead on a
   *  guest_memfd create+close. An ArrayBuffer's backing store never moves, and it lives as
   *  long as this object, which its owner keeps for its own lifetime. Asked for on first use
   *  only: the per-call buffers of the async paths never need it. */
  get addr(): number {
    if (this.address === 0) {
      const addr = koffi.address(this.buf) as bigint;
      if (addr === 0n || addr > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`struct buffer at ${addr}: not a usable address`);
      this.address = Number(addr);
    }
    return this.address;
  }
}

const word = <K extends string>(o: Record<K, number>, bytes: number) =>
  Object.fromEntries(Object.entries<number>(o).map(([k, off]) => {
    if (off % bytes) throw new Error(`${k} at ${off} is not ${bytes}-byte aligned`);
    return [k, off / bytes];
  })) as Record<K, number>;
const R2_32 = word({ slot: REGION2.slot, flags: REGION2.flags, guest_memfd: REGION2.guest_memfd }, 4);
const R2_64 = word({ gpa: REGION2.guest_phys_addr, size: REGION2.memory_size, uaddr: REGION2.userspace_addr,
  offset: REGION2.guest_memfd_offset }, 8);
const GM_64 = word(GMEM, 8);

export function encodeRegion2(s: StructBuf, r: MemoryRegion): Buffer {
  s.u32[R2_32.slot] = r.slot;
  s.u32[R2_32.flags] = r.flags;
  s.u64[R2_64.gpa] = r.guestPhysAddr;
  s.u64[R2_64.size] = r.memorySize;
  s.u64[R2_64.uaddr] = r.userspaceAddr;
  s.u64[R2_64.offset] = r.guestMemfdOffset;
  s.u32[R2_32.guest_memfd] = r.guestMemfd;
  return s.buf;
}

export function encodeCreateGuestMemfd(s: StructBuf, size: bigint, flags: bigint): Buffer {
  s.u64[GM_64.size] = size;
  s.u64[GM_64.flags] = flags;
  return s.buf;
}

export function decodeStat(buf: Buffer): FileStat {
  return {
    dev: buf.readBigUInt64LE(STAT.st_dev), ino: buf.readBigUInt64LE(STAT.st_ino),
    mode: buf.readUInt32LE(STAT.st_mode), nlink: buf.readBigUInt64LE(STAT.st_nlink),
    size: buf.readBigInt64LE(STAT.st_size), blksize: buf.readBigInt64LE(STAT.st_blksize),
    blocks: buf.readBigInt64LE(STAT.st_blocks),
  };
}
