// The kernel objects the simulator keeps (KERNEL.md §7) and the reference rules of §3 that tie
// their lifetimes together: a gmem file pins its VM, the VM does not pin the file, a slot's
// pointer to its file is weak, and the inode (memory) lives as long as its file.
import { RangeSet } from './sim-range-set.js';
import type { PageStore } from './sim-pages.js';

export interface SimVm {
  /** The VM fd is still open (the process can issue ioctls on it). */
  fdOpen: boolean;
  /** kvm references besides the VM fd: live gmem files created on it and its vCPU fds. */
  pins: number;
  alive: boolean;
  /** By slot id; address space 0 only, as as_id >= 1 is refused on this host. */
  readonly slots: Map<number, SimSlot>;
  /** [base_gfn, base_gfn + npages) of every slot. */
  readonly gfns: RangeSet<SimSlot>;
  nrMemslotPages: bigint;
}

export interface SimSlot {
  readonly id: number;
  baseGfn: bigint;
  readonly npages: bigint;
  flags: number;
  readonly uaddr: bigint;
  readonly gmem: SimBinding | undefined;
}

export interface SimBinding {
  /** slot->gmem.file: not refcounted, set to null when the file is released. */
  file: SimFile | null;
  readonly pgoff: bigint;
  /** KVM_MEMSLOT_GMEM_ONLY, fixed at bind time: guest faults go to gmem whatever the attributes. */
  readonly gmemOnly: boolean;
}

export interface SimInode {
  readonly ino: bigint;
  readonly size: bigint;
  readonly flags: bigint;
  readonly pages: PageStore;
}

export interface SimFile {
  readonly vm: SimVm;
  readonly inode: SimInode;
  /** pgoff ranges bound to slots of `vm` (the kvm_gmem bindings xarray). */
  readonly bindings: RangeSet<SimSlot>;
  /** fds plus host mappings: both hold a struct file reference. */
  refs: number;
  released: boolean;
}

export function newVm(): SimVm {
  return { fdOpen: true, pins: 0, alive: true, slots: new Map(), gfns: new RangeSet(), nrMemslotPages: 0n };
}

export function newFile(vm: SimVm, inode: SimInode): SimFile {
  pinVm(vm);
  return { vm, inode, bindings: new RangeSet(), refs: 1, released: false };
}

export function getFile(file: SimFile): void {
  file.refs++;
}

/** fput: the last reference runs kvm_gmem_release. */
export function putFile(file: SimFile): void {
  if (--file.refs > 0) return;
  file.released = true;
  // Slots stay in place (they still occupy their GPA range) but point at nothing.
  for (const r of file.bindings.all()) r.value.gmem!.file = null;
  // 6.18 has one file per inode and every mapping pins the file, so the inode is evicted now.
  file.inode.pages.clear();
  unpinVm(file.vm);
}

export function pinVm(vm: SimVm): void {
  vm.pins++;
}

export function unpinVm(vm: SimVm): void {
  vm.pins--;
  maybeDestroyVm(vm);
}

export function closeVmFd(vm: SimVm): void {
  vm.fdOpen = false;
  maybeDestroyVm(vm);
}

function maybeDestroyVm(vm: SimVm): void {
  if (vm.fdOpen || vm.pins > 0 || !vm.alive) return;
  // kvm_destroy_vm frees the memslots; every file that could be bound to them is gone already.
  vm.alive = false;
  vm.slots.clear();
  vm.gfns.clear();
  vm.nrMemslotPages = 0n;
}
