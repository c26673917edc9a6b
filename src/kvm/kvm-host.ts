// The kernel port: every kernel operation gmemd performs. Two adapters implement it,
// native (koffi over libc on /dev/kvm) and simulated (an in-process model of Linux 6.18).
// Handles are file descriptors in both (the simulator hands out its own numbers), so
// ledger code, reconcile and the handover treat them alike.
import type { KResult } from './kernel-error.js';

export type BackendName = 'native' | 'simulated';

/** Values read from the kernel with KVM_CHECK_EXTENSION on /dev/kvm. */
export interface HostCapabilities {
  guestMemfd: number;       // KVM_CAP_GUEST_MEMFD (234)
  guestMemfdFlags: number;  // KVM_CAP_GUEST_MEMFD_FLAGS (244): supported creation flags
  vmTypes: number;          // KVM_CAP_VM_TYPES (235): bitmask
  nrMemslots: number;       // KVM_CAP_NR_MEMSLOTS (10)
  readonlyMem: number;      // KVM_CAP_READONLY_MEM (81)
  userMemory2: number;      // KVM_CAP_USER_MEMORY2 (231)
}

/** struct kvm_userspace_memory_region2, field for field (pads omitted: the kernel ignores them). */
export interface MemoryRegion {
  slot: number;
  flags: number;
  guestPhysAddr: bigint;
  memorySize: bigint;
  userspaceAddr: bigint;
  guestMemfdOffset: bigint;
  guestMemfd: number;
}

/** The parts of struct stat gmemd reads from a guest_memfd. */
export interface FileStat {
  dev: bigint;
  ino: bigint;
  mode: number;
  nlink: bigint;
  size: bigint;
  blksize: bigint;
  blocks: bigint;
}

/** One object this process holds, as /proc/self/fd and fdinfo show it. */
export interface HeldFd {
  fd: number;
  kind: 'kvm-vm' | 'kvm-gmem' | 'kvm-vcpu' | 'other';
  ino: bigint;
}

/** One host mapping of a guest_memfd, as /proc/self/maps shows it. */
export interface HeldMapping {
  start: bigint;
  end: bigint;
  ino: bigint;
  offset: bigint;
}

export interface ProbeRequest {
  /** Guest-physical address to read, below 4 GiB. */
  gpa: bigint;
  /** Byte to write at gpa before reading it back. */
  write?: number;
  /** A free, page-aligned guest address (not in any memslot) for the probe's code page. */
  codeGpa: bigint;
  /** A free memslot id for the code page; deleted again before probe() returns. */
  codeSlot: number;
}

/**
 * What the guest saw. `write_trapped`: the guest's store exited to userspace as MMIO on a
 * mapped page (read-only memslot); the value is what the following read returned.
 * `unmapped`: the read exited as MMIO, no memslot backs gpa. `fault`: KVM_RUN itself failed
 * (e.g. EFAULT: a gmem slot whose file is gone).
 */
export type ProbeOutcome =
  | { kind: 'value'; value: number; wrote: boolean }
  | { kind: 'write_trapped'; value: number }
  | { kind: 'unmapped' }
  | { kind: 'fault'; errno: string };

export interface KvmHost {
  readonly backend: BackendName;

  /** KVM_CHECK_EXTENSION on /dev/kvm (vmFd undefined) or on a VM fd. */
  checkExtension(cap: number, vmFd?: number): KResult<number>;
  capabilities(): KResult<HostCapabilities>;

  /** KVM_CREATE_VM(type); returns the VM fd. */
  createVm(type: number): KResult<number>;
  /** The same off the event loop: KVM_CREATE_VM allocates the VM (about a millisecond). */
  createVmAsync(type: number): Promise<KResult<number>>;
  /** KVM_CREATE_GUEST_MEMFD on a VM fd; returns the new gmem fd. */
  createGuestMemfd(vmFd: number, size: bigint, flags: bigint): KResult<number>;
  /** KVM_SET_USER_MEMORY_REGION2; memorySize 0 deletes the slot. */
  setUserMemoryRegion2(vmFd: number, region: MemoryRegion): KResult<void>;
  /** The same call without blocking the event loop: the kernel may sleep in it for
   *  milliseconds (an SRCU grace period per memslot change), while other requests are served. */
  setUserMemoryRegion2Async(vmFd: number, region: MemoryRegion): Promise<KResult<void>>;

  fstat(fd: number): KResult<FileStat>;
  fallocate(fd: number, mode: number, offset: bigint, length: bigint): KResult<void>;
  /** mmap(NULL, length, prot, flags, fd, offset); returns the address. */
  mmap(fd: number, length: bigint, prot: number, flags: number, offset: bigint): KResult<bigint>;
  /** The same off the event loop: mmap waits for the process's mmap lock, which a VM create
   *  on another thread holds while it walks every mapping (milliseconds at 10,000 inodes). */
  mmapAsync(fd: number, length: bigint, prot: number, flags: number, offset: bigint): Promise<KResult<bigint>>;
  munmap(addr: bigint, length: bigint): KResult<void>;
  close(fd: number): KResult<void>;

  /** Host reads and writes through a mapping (a fault beyond EOF is reported, not raised). */
  readMemory(addr: bigint, length: number): KResult<Buffer>;
  writeMemory(addr: bigint, data: Buffer): KResult<void>;

  /** Run a one-shot real-mode/protected-mode vCPU in the VM that touches gpa. */
  probe(vmFd: number, request: ProbeRequest): KResult<ProbeOutcome>;

  /** What the process holds right now (native: /proc/self/fd, fdinfo and maps). */
  heldFds(): KResult<HeldFd[]>;
  heldMappings(): KResult<HeldMapping[]>;

  /**
   * Handover, old process: the real fds a successor process must inherit to hold these
   * guest_memfds, in order. Native: the gmem fds themselves (they are not O_CLOEXEC).
   * Simulated: none; its objects live in this process, so it writes their state (inode
   * numbers, sizes, flags, pages) to `stateFile` instead: its stand-in for fd inheritance.
   */
  exportGmems(fds: number[], stateFile: string): KResult<number[]>;
  /**
   * Handover, successor: the fds this process now holds for the exported guest_memfds, in
   * export order. `inherited`: where the exported real fds arrived (native); the simulator
   * loads `stateFile` and installs the gmems, still bound to their old (now fd-less) VMs.
   */
  importGmems(inherited: number[], stateFile: string): KResult<number[]>;
}
