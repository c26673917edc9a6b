// Asking the kernel whether a memslot exists, without changing anything. KVM has no memslot
// listing, but KVM_SET_USER_MEMORY_REGION2's check order (KERNEL.md §2.3) answers it: a
// request carrying KVM_MEM_GUEST_MEMFD for a slot id that exists is refused at step 13 with
// EINVAL (gmem slots are immutable and a plain slot cannot gain the flag) before any fd is
// looked at; for an absent slot the same request is a create and is refused at step 14
// (EEXIST: its GPA overlaps another slot) or step 16 (EBADF: guest_memfd is fd -1), so nothing
// is ever created. Every other field is valid (steps 2-10, 12 pass), so EINVAL means "exists".
// A port-level helper over setUserMemoryRegion2: it behaves the same on both backends.
import { kok, type KResult } from './kernel-error.js';
import type { KvmHost } from './kvm-host.js';
import { CAP, KVM_USER_MEM_SLOTS, MEM, PAGE_SIZE } from './uapi.js';

/** u32 -1: no process has this fd, so fget() in kvm_gmem_bind fails. */
const NO_FD = 0xffffffff;

/**
 * True if slot `slot` exists in the VM. The VM fd is checked first: an EBADF for the VM fd
 * itself must not read as "absent".
 */
export function memslotExists(kvm: KvmHost, vmFd: number, slot: number): KResult<boolean> {
  const vm = kvm.checkExtension(CAP.NR_MEMSLOTS, vmFd);
  if (!vm.ok) return vm;
  // Ids from NR_MEMSLOTS up are refused at step 2 whatever exists: none can exist.
  if (slot < 0 || slot >= (vm.value || KVM_USER_MEM_SLOTS)) return kok(false);
  return probeSlot(kvm, vmFd, slot);
}

/** Every slot id that exists in the VM, by probing each id (about 1 µs each on the real kernel). */
export function listMemslots(kvm: KvmHost, vmFd: number, limit = KVM_USER_MEM_SLOTS): KResult<number[]> {
  const r = sweepMemslots(kvm, vmFd, () => false, limit);
  return r.ok ? kok(r.value.slots) : r;
}

/** How many probes run between two looks at the deadline. */
const CHECK_EVERY = 256;

/**
 * listMemslots bounded in time: stops once `expired()` says so (looked at every 256 probes)
 * and says whether every id was probed.
 */
export function sweepMemslots(kvm: KvmHost, vmFd: number, expired: () => boolean, limit = KVM_USER_MEM_SLOTS): KResult<{ slots: number[]; complete: boolean }> {
  const vm = kvm.checkExtension(CAP.NR_MEMSLOTS, vmFd);
  if (!vm.ok) return vm;
  const found: number[] = [];
  const end = Math.min(limit, vm.value || KVM_USER_MEM_SLOTS);
  for (let slot = 0; slot < end; slot++) {
    if (slot % CHECK_EVERY === 0 && expired()) return kok({ slots: found, complete: false });
    const r = probeSlot(kvm, vmFd, slot);
    if (!r.ok) return r;
    if (r.value) found.push(slot);
  }
  return kok({ slots: found, complete: true });
}

function probeSlot(kvm: KvmHost, vmFd: number, slot: number): KResult<boolean> {
  const r = kvm.setUserMemoryRegion2(vmFd, {
    slot, flags: MEM.GUEST_MEMFD, guestPhysAddr: 0n, memorySize: PAGE_SIZE,
    userspaceAddr: 0n, guestMemfd: NO_FD, guestMemfdOffset: 0n,
  });
  if (r.ok) {
    // Cannot happen (fd -1 never binds); if it ever did, the slot was absent and is now
    // created: delete it again so the check stays side-effect free.
    kvm.setUserMemoryRegion2(vmFd, { slot, flags: 0, guestPhysAddr: 0n, memorySize: 0n, userspaceAddr: 0n, guestMemfd: 0, guestMemfdOffset: 0n });
    return kok(false);
  }
  if (r.error.errno === 'EINVAL') return kok(true);
  if (r.error.errno === 'EEXIST' || r.error.errno === 'EBADF') return kok(false);
  return r;
}
