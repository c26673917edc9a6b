// What a vCPU of a type-0 VM reaches at a guest-physical address on this host (KERNEL.md, first
// section), and the outcome the native probe reports for a write-then-read of one byte.
import type { ProbeOutcome } from '../kvm-host.js';
import { MEM } from '../uapi.js';
import type { AddressSpace, PageRef } from './sim-address-space.js';
import type { SimVm } from './sim-objects.js';
import { PAGE } from './sim-pages.js';

/**
 * The page a guest access at gpa reaches, or 'mmio' when it exits to userspace instead.
 * On this host (PVM-based KVM, shadow paging) every guest access goes through the slot's
 * userspace_addr, through a gmem slot as through a plain one; upstream 6.18's routing of
 * "gmem-only" slots to the gmem itself does not happen here (KERNEL.md, first section,
 * probe-gmem-slot-uaddr.c). Where userspace_addr maps nothing the host can fault in (no VMA,
 * or a gmem mapping that SIGBUSes) the access exits as MMIO, for both kinds of slot: probed
 * with uaddr 0, after munmap, and over an MMAP-only gmem's mapping (test/kvm/native-host-kvm).
 */
function reach(vm: SimVm, space: AddressSpace, gpa: bigint, write: boolean): PageRef | 'mmio' {
  const slot = vm.gfns.find(gpa / PAGE)?.value;
  if (!slot) return 'mmio';
  return space.resolve(slot.uaddr + (gpa - slot.baseGfn * PAGE), write) ?? 'mmio';
}

const readOnly = (vm: SimVm, gpa: bigint) => (vm.gfns.find(gpa / PAGE)?.value.flags ?? 0) & MEM.READONLY;

/** The guest writes `write` (if given) at gpa, then reads gpa back. */
export function guestProbe(vm: SimVm, space: AddressSpace, gpa: bigint, write?: number): ProbeOutcome {
  let wrote = false, trapped = false;
  if (write !== undefined) {
    // A store to a KVM_MEM_READONLY slot, or through a host mapping that is readable but not
    // writable (probed: an anonymous PROT_READ mapping), exits as an MMIO write to a page the
    // guest can read: trapped. The probe carries on to the read.
    const w = readOnly(vm, gpa) ? 'mmio' : reach(vm, space, gpa, true);
    if (w !== 'mmio') { w.store.writeByte(w.index, w.offset, write); wrote = true; }
    else trapped = reach(vm, space, gpa, false) !== 'mmio';
  }
  const r = reach(vm, space, gpa, false);
  if (r === 'mmio') return { kind: 'unmapped' };
  const value = r.store.readByte(r.index, r.offset);
  return trapped ? { kind: 'write_trapped', value } : { kind: 'value', value, wrote };
}
