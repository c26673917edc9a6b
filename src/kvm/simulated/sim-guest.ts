// What a vCPU of a type-0 VM reaches at a guest-physical address (KERNEL.md first section and
// §2.4), and the outcome the native probe reports for a write-then-read of one byte.
import type { ProbeOutcome } from '../kvm-host.js';
import { MEM } from '../uapi.js';
import type { AddressSpace, PageRef } from './sim-address-space.js';
import type { SimVm } from './sim-objects.js';
import { PAGE } from './sim-pages.js';

/** The page behind gpa, or why the access leaves the guest. */
type Access = PageRef | 'mmio' | 'ro_trap' | 'efault';

function access(vm: SimVm, space: AddressSpace, gpa: bigint, write: boolean): Access {
  const slot = vm.gfns.find(gpa / PAGE)?.value;
  if (!slot) return 'mmio';
  const b = slot.gmem;
  if (b?.gmemOnly) {
    // kvm_gmem_get_pfn: the file is gone once released, and the fault fails with EFAULT.
    if (!b.file) return 'efault';
    const offset = (b.pgoff - slot.baseGfn) * PAGE + gpa;
    return { store: b.file.inode.pages, index: Number(offset / PAGE), offset: Number(offset % PAGE) };
  }
  // A plain slot, or a gmem slot whose gmem has no MMAP: without a PRIVATE attribute (none
  // can be set on this host) guest faults go through userspace_addr, like any plain slot.
  if (write && slot.flags & MEM.READONLY) return 'ro_trap';
  return space.resolve(slot.uaddr + (gpa - slot.baseGfn * PAGE), write) ?? 'efault';
}

const FAULT: ProbeOutcome = { kind: 'fault', errno: 'EFAULT' };

/** The guest writes `write` (if given) at gpa, then reads gpa back. */
export function guestProbe(vm: SimVm, space: AddressSpace, gpa: bigint, write?: number): ProbeOutcome {
  let wrote = false, trapped = false;
  if (write !== undefined) {
    const w = access(vm, space, gpa, true);
    // An MMIO write exits and the probe carries on to the read.
    if (w === 'efault') return FAULT;
    if (w === 'ro_trap') trapped = true;
    else if (w !== 'mmio') { w.store.writeByte(w.index, w.offset, write); wrote = true; }
  }
  const r = access(vm, space, gpa, false);
  if (r === 'mmio') return { kind: 'unmapped' };
  if (r === 'efault' || r === 'ro_trap') return FAULT;
  const value = r.store.readByte(r.index, r.offset);
  return trapped ? { kind: 'write_trapped', value } : { kind: 'value', value, wrote };
}
