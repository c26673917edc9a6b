// Memslot create/delete for a ledger binding: a gmem memslot when the VM's kernel VM created
// the inode's guest_memfd and the file may write, otherwise a plain memslot over gmemd's
// shared mapping ("view"), read-only in the kernel unless the file has write (DESIGN §2).
import { MEM } from '../kvm/uapi.js';
import { kfail, kok, type KResult } from '../kvm/kernel-error.js';
import type { MemoryRegion } from '../kvm/kvm-host.js';
import type { ServiceContext } from './context.js';

export interface SlotSpec {
  vmId: string; inodeId: string; slot: number; gpa: number; offset: number; size: number;
  kind: 'gmem' | 'view'; readonly: boolean;
}

/** Which kind of memslot a file of `vmId` gets on the inode. Null: it cannot be bound. */
export function slotKind(ctx: ServiceContext, inodeId: string, vmId: string, writable: boolean): 'gmem' | 'view' | null {
  const gm = ctx.registry.gmem(inodeId);
  if (!gm) return null;
  // A gmem memslot cannot be read-only (GMEM|READONLY is EINVAL), so a read-only file on
  // the origin VM still gets a view.
  if (gm.kernelOriginVmId === vmId && (writable || !gm.mapping)) return 'gmem';
  return gm.mapping ? 'view' : null;
}

/** The exact region createMemslot issues for a spec, with the VM fd it goes to. */
export function memslotRegion(ctx: ServiceContext, s: SlotSpec): KResult<{ vmFd: number; region: MemoryRegion }> {
  const vmFd = ctx.registry.vmFd(s.vmId);
  const gm = ctx.registry.gmem(s.inodeId);
  if (vmFd === undefined || !gm) return kfail('KVM_SET_USER_MEMORY_REGION2', 'EBADF');
  if (s.kind === 'view' && !gm.mapping) return kfail('KVM_SET_USER_MEMORY_REGION2', 'EINVAL');
  const region: MemoryRegion = s.kind === 'gmem'
    ? { slot: s.slot, flags: MEM.GUEST_MEMFD, guestPhysAddr: BigInt(s.gpa), memorySize: BigInt(s.size),
      userspaceAddr: 0n, guestMemfd: gm.fd, guestMemfdOffset: BigInt(s.offset) }
    : { slot: s.slot, flags: s.readonly ? MEM.READONLY : 0, guestPhysAddr: BigInt(s.gpa), memorySize: BigInt(s.size),
      userspaceAddr: gm.mapping!.addr + BigInt(s.offset), guestMemfd: 0, guestMemfdOffset: 0n };
  return kok({ vmFd, region });
}

export function createMemslot(ctx: ServiceContext, s: SlotSpec): KResult<void> {
  const m = memslotRegion(ctx, s);
  if (!m.ok) return m;
  const r = ctx.kvm.setUserMemoryRegion2(m.value.vmFd, m.value.region);
  if (r.ok) ctx.registry.trackMemslot(s.vmId, m.value.region);
  return r;
}

/** memory_size 0 deletes the slot; the kernel ignores the other fields beyond alignment. */
export function deleteMemslot(ctx: ServiceContext, s: { vmId: string; slot: number; gpa: number }): KResult<void> {
  const vmFd = ctx.registry.vmFd(s.vmId);
  if (vmFd === undefined) return kfail('KVM_SET_USER_MEMORY_REGION2', 'EBADF');
  const r = ctx.kvm.setUserMemoryRegion2(vmFd, {
    slot: s.slot, flags: 0, guestPhysAddr: BigInt(s.gpa), memorySize: 0n,
    userspaceAddr: 0n, guestMemfd: 0, guestMemfdOffset: 0n,
  });
  if (r.ok) ctx.registry.untrackMemslot(s.vmId, s.slot);
  return r;
}

/** Unmaps and closes an inode's guest_memfd: its memory goes when the last reference does. */
export function releaseGmem(ctx: ServiceContext, inodeId: string): void {
  const gm = ctx.registry.gmem(inodeId);
  if (!gm) return;
  if (gm.mapping) ctx.kvm.munmap(gm.mapping.addr, gm.mapping.length);
  ctx.kvm.close(gm.fd);
  ctx.registry.gmems.delete(inodeId);
}
