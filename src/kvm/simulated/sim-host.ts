// The simulated adapter: an in-process model of Linux 6.18's KVM and guest_memfd, errno for
// errno as KERNEL.md describes them, for hosts without /dev/kvm. Handles are fds like the
// native adapter's; the numbers start at a high base so they are never mistaken for real ones.
import { kfail, kok, type KernelOperation, type KResult } from '../kernel-error.js';
import type {
  FileStat, HeldFd, HeldMapping, HostCapabilities, KvmHost, MemoryRegion, ProbeOutcome, ProbeRequest,
} from '../kvm-host.js';
import { AddressSpace } from './sim-address-space.js';
import { capValue, hostCapabilities } from './sim-caps.js';
import { FdTable, vmIoctlTarget } from './sim-fd-table.js';
import { VM_FD_INO, createGmemErrno, fallocate, fdStat, s64 } from './sim-gmem.js';
import { readMemory, sysMmap, sysMunmap, writeMemory } from './sim-mmap.js';
import { setUserMemoryRegion } from './sim-memslots.js';
import { closeVmFd, newFile, newVm, putFile, unpinVm, type SimFile, type SimVm } from './sim-objects.js';
import { PageStore } from './sim-pages.js';
import { SimProbe } from './sim-probe.js';
import { readGmemState, writeGmemState } from './sim-handover.js';

export interface SimulatedHostOptions {
  /** Lowest fd number handed out (default 1000). */
  fdBase?: number;
  /** Fds must stay below this, like RLIMIT_NOFILE: creating past it fails with EMFILE. */
  fdLimit?: number;
  /** First gmem inode number (default 800000). */
  firstIno?: bigint;
  /** Lowest address host mappings are placed at (default 0x7f00_0000_0000). */
  mmapBase?: bigint;
}

/** What the kernel keeps alive that the port cannot show; for tests of KERNEL.md §3. */
export interface SimInspection {
  /** Every struct kvm still alive, including VMs whose fd is closed but are pinned by a file. */
  vms: { fdOpen: boolean; slots: number }[];
  /** Every gmem file not yet released (held by an fd or a mapping). */
  files: { ino: bigint; bindings: number; refs: number }[];
}

export class SimulatedKvmHost implements KvmHost {
  readonly backend = 'simulated' as const;
  private readonly fds: FdTable;
  private readonly space: AddressSpace;
  private readonly probes: SimProbe;
  private readonly vms = new Set<SimVm>();
  private readonly files = new Set<SimFile>();
  private nextIno: bigint;
  private inodesMade = 0;
  /** Dead VMs and released files are dropped from the sets once they reach this size (amortised). */
  private pruneAt = 1024;

  constructor(opts: SimulatedHostOptions = {}) {
    this.fds = new FdTable(opts.fdBase ?? 1000, opts.fdLimit ?? 1 << 20);
    this.space = new AddressSpace(opts.mmapBase ?? 0x7f00_0000_0000n);
    this.nextIno = opts.firstIno ?? 800_000n;
    this.probes = new SimProbe(this.fds, this.space);
  }

  checkExtension(cap: number, vmFd?: number): KResult<number> {
    if (vmFd !== undefined) {
      const vm = this.vmOf(vmFd, 'KVM_CHECK_EXTENSION');
      if (!vm.ok) return vm;
    }
    return kok(capValue(cap));
  }

  capabilities(): KResult<HostCapabilities> {
    return kok(hostCapabilities());
  }

  createVm(type: number): KResult<number> {
    const fd = this.fds.next();
    if (fd === undefined) return kfail('KVM_CREATE_VM', 'EMFILE');
    // kvm_is_vm_type_supported: only type 0 on this host (no TDP, so no SW_PROTECTED either).
    if (type !== 0) return kfail('KVM_CREATE_VM', 'EINVAL');
    const vm = newVm();
    this.vms.add(vm);
    this.maybePrune();
    this.fds.install(fd, { kind: 'vm', vm });
    return kok(fd);
  }

  createGuestMemfd(vmFd: number, size: bigint, flags: bigint): KResult<number> {
    const vm = this.vmOf(vmFd, 'KVM_CREATE_GUEST_MEMFD');
    if (!vm.ok) return vm;
    const e = createGmemErrno(size, flags);
    if (e) return kfail('KVM_CREATE_GUEST_MEMFD', e);
    const fd = this.fds.next();
    if (fd === undefined) return kfail('KVM_CREATE_GUEST_MEMFD', 'EMFILE');
    const file = newFile(vm.value, { ino: this.takeIno(), size: s64(size), flags: BigInt.asUintN(64, flags), pages: new PageStore() });
    this.files.add(file);
    this.maybePrune();
    this.fds.install(fd, { kind: 'gmem', file });
    return kok(fd);
  }

  setUserMemoryRegion2(vmFd: number, region: MemoryRegion): KResult<void> {
    const vm = this.vmOf(vmFd, 'KVM_SET_USER_MEMORY_REGION2');
    if (!vm.ok) return vm;
    const e = setUserMemoryRegion(vm.value, region, (fd) => this.fds.get(fd));
    return e ? kfail('KVM_SET_USER_MEMORY_REGION2', e) : kok(undefined);
  }

  /** The model has nothing to wait for: the same calls, answered on a later microtask as the kernel's would be. */
  createVmAsync(type: number): Promise<KResult<number>> {
    return Promise.resolve(this.createVm(type));
  }

  setUserMemoryRegion2Async(vmFd: number, region: MemoryRegion): Promise<KResult<void>> {
    return Promise.resolve(this.setUserMemoryRegion2(vmFd, region));
  }

  mmapAsync(fd: number, length: bigint, prot: number, flags: number, offset: bigint): Promise<KResult<bigint>> {
    return Promise.resolve(this.mmap(fd, length, prot, flags, offset));
  }

  fstat(fd: number): KResult<FileStat> {
    const obj = this.fds.get(fd);
    return obj ? kok(fdStat(obj)) : kfail('fstat', 'EBADF');
  }

  fallocate(fd: number, mode: number, offset: bigint, length: bigint): KResult<void> {
    const obj = this.fds.get(fd);
    if (!obj) return kfail('fallocate', 'EBADF');
    const e = fallocate(obj, mode, offset, length);
    return e ? kfail('fallocate', e) : kok(undefined);
  }

  mmap(fd: number, length: bigint, prot: number, flags: number, offset: bigint): KResult<bigint> {
    return sysMmap(this.fds, this.space, length, prot, flags, fd, offset);
  }

  munmap(addr: bigint, length: bigint): KResult<void> {
    return sysMunmap(this.space, addr, length);
  }

  close(fd: number): KResult<void> {
    // Like the native adapter, a VM's cached probe vCPU goes before the VM fd.
    this.probes.release(fd);
    const obj = this.fds.remove(fd);
    if (!obj) return kfail('close', 'EBADF');
    if (obj.kind === 'vm') closeVmFd(obj.vm);
    else if (obj.kind === 'vcpu') unpinVm(obj.vm);
    else putFile(obj.file);
    return kok(undefined);
  }

  readMemory(addr: bigint, length: number): KResult<Buffer> {
    return readMemory(this.space, addr, length);
  }

  writeMemory(addr: bigint, data: Buffer): KResult<void> {
    return writeMemory(this.space, addr, data);
  }

  probe(vmFd: number, request: ProbeRequest): KResult<ProbeOutcome> {
    return this.probes.probe(vmFd, request);
  }

  heldFds(): KResult<HeldFd[]> {
    const kinds = { vm: 'kvm-vm', gmem: 'kvm-gmem', vcpu: 'kvm-vcpu' } as const;
    return kok(this.fds.entries().map(([fd, obj]) => ({
      fd, kind: kinds[obj.kind], ino: obj.kind === 'gmem' ? obj.file.inode.ino : VM_FD_INO,
    })));
  }

  heldMappings(): KResult<HeldMapping[]> {
    return kok(this.space.gmemVmas().map((v) => ({
      start: v.start, end: v.end, ino: v.backing.kind === 'gmem' ? v.backing.file.inode.ino : 0n,
      offset: v.backing.kind === 'gmem' ? v.backing.offset : 0n,
    })));
  }

  exportGmems(fds: number[], stateFile: string): KResult<number[]> {
    const r = writeGmemState(this.fds, fds, stateFile);
    return r.ok ? kok([]) : r;
  }

  importGmems(_inherited: number[], stateFile: string): KResult<number[]> {
    const r = readGmemState(this.fds, stateFile);
    if (!r.ok) return r;
    for (const f of r.value.files) this.files.add(f);
    for (const vm of r.value.vms) this.vms.add(vm);
    // The imported inodes keep their numbers; new ones must not collide with them.
    if (r.value.maxIno >= this.nextIno) this.nextIno = r.value.maxIno + 1n;
    return kok(r.value.fds);
  }

  inspect(): SimInspection {
    this.prune();
    return {
      vms: [...this.vms].map((vm) => ({ fdOpen: vm.fdOpen, slots: vm.slots.size })),
      files: [...this.files].map((f) => ({ ino: f.inode.ino, bindings: f.bindings.size, refs: f.refs })),
    };
  }

  // The sets only serve inspect(); without pruning, a long-running simulated gmemd would keep
  // every VM and inode it ever made.
  private prune(): void {
    for (const vm of this.vms) if (!vm.alive) this.vms.delete(vm);
    for (const f of this.files) if (f.released) this.files.delete(f);
  }

  private maybePrune(): void {
    if (this.vms.size + this.files.size < this.pruneAt) return;
    this.prune();
    this.pruneAt = Math.max(1024, 2 * (this.vms.size + this.files.size));
  }

  private vmOf(fd: number, op: KernelOperation): KResult<SimVm> {
    return vmIoctlTarget(this.fds.get(fd), op);
  }

  /**
   * get_next_ino() is shared with pipes and sockets, so real numbers have gaps; leaving some
   * here keeps callers from relying on consecutive numbers.
   */
  private takeIno(): bigint {
    const ino = this.nextIno;
    this.nextIno += ++this.inodesMade % 4 === 0 ? 3n : 1n;
    return ino;
  }
}

export function createSimulatedHost(opts?: SimulatedHostOptions): SimulatedKvmHost {
  return new SimulatedKvmHost(opts);
}
