// KVM_CHECK_EXTENSION answers of the machines gmemd is tested on (KERNEL.md §1, "This host"
// column; probed identical on /dev/kvm and on a type-0 VM fd).
import type { HostCapabilities } from '../kvm-host.js';
import { CAP, KVM_USER_MEM_SLOTS } from '../uapi.js';

const CAP_VALUES = new Map<number, number>([
  [CAP.NR_MEMSLOTS, KVM_USER_MEM_SLOTS],
  [CAP.READONLY_MEM, 1],
  [118, 0], // MULTI_ADDRESS_SPACE: SMM is off
  [197, 1], // VM_COPY_ENC_CONTEXT_FROM: the op exists (every attempt fails with EINVAL)
  [206, 1], // VM_MOVE_ENC_CONTEXT_FROM: likewise
  [CAP.USER_MEMORY2, 1],
  [232, 1], // MEMORY_FAULT_INFO
  [233, 0], // MEMORY_ATTRIBUTES: generic attributes compiled out
  [CAP.GUEST_MEMFD, 1],
  [CAP.VM_TYPES, 1], // only type 0
  [236, 0], // PRE_FAULT_MEMORY: needs TDP
  [CAP.GUEST_MEMFD_FLAGS, 3], // MMAP | INIT_SHARED
]);

/** Capabilities not in KERNEL.md's table answer 0, as unknown ones do on the real kernel. */
export function capValue(cap: number): number {
  return CAP_VALUES.get(cap) ?? 0;
}

export function hostCapabilities(): HostCapabilities {
  return {
    guestMemfd: capValue(CAP.GUEST_MEMFD),
    guestMemfdFlags: capValue(CAP.GUEST_MEMFD_FLAGS),
    vmTypes: capValue(CAP.VM_TYPES),
    nrMemslots: capValue(CAP.NR_MEMSLOTS),
    readonlyMem: capValue(CAP.READONLY_MEM),
    userMemory2: capValue(CAP.USER_MEMORY2),
  };
}
