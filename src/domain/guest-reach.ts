// Whether a guest can reach a private inode at all. A private guest_memfd (created without
// GUEST_MEMFD_FLAG_MMAP) has no host mapping, and on this kernel every guest access goes
// through the memslot's userspace_addr (KERNEL.md, "Where a guest's accesses go"): such a
// memslot gives the guest nothing (KVM_EXIT_MMIO). Only VMs of a private-memory type fault
// private gmem pages directly, and only if the host offers that type (KVM_CAP_VM_TYPES).
import { err, ok, type Result } from './result.js';

/** The VM type gmemd creates: KVM_X86_DEFAULT_VM, the only type this host offers. */
export const DEFAULT_VM_TYPE = 0;

/** x86 VM types with private memory (kvm_arch_has_private_mem): SW_PROTECTED 1, SNP 4, TDX 5. */
export const PRIVATE_MEM_VM_TYPES: readonly number[] = [1, 4, 5];

/** The private-memory VM types this host offers, from the KVM_CAP_VM_TYPES bitmask. */
export function privateMemVmTypes(vmTypesMask: number): number[] {
  return PRIVATE_MEM_VM_TYPES.filter((t) => (vmTypesMask & (1 << t)) !== 0);
}

/** A VM of `vmType` can fault private gmem: a private-memory type the host offers. */
export function privateGmemReachable(vmType: number, vmTypesMask: number): boolean {
  return privateMemVmTypes(vmTypesMask).includes(vmType);
}

/** Binding a private inode into a VM of `vmType`: refused when its guest could never touch it. */
export function checkGuestReachable(inode: { id: string; shareable: boolean }, vm: { id: string; vmType: number }, vmTypesMask: number): Result<true> {
  if (inode.shareable || privateGmemReachable(vm.vmType, vmTypesMask)) return ok(true);
  return err('inode.not_guest_reachable',
    `inode ${inode.id} is private (no MMAP): a VM of type ${vm.vmType} cannot fault private guest_memfd pages on this host ` +
    `(KVM_CAP_VM_TYPES ${vmTypesMask}), so a memslot over it would give the guest no memory`,
    { inodeId: inode.id, vmType: vm.vmType, vmTypes: vmTypesMask });
}
