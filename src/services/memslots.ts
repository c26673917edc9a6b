// Memslot create/delete for a ledger binding, and the release of an inode's kernel objects.
// Kind `gmem`: a KVM_MEM_GUEST_MEMFD slot, on the VM whose kernel VM created the guest_memfd,
// for a file that may write. Kind `view`: a plain slot, read-only unless the file may write.
// On this host every guest access goes through userspace_addr, for gmem slots too (KERNEL.md,
// first section), so both kinds point at gmemd's mapping of the inode, and an inode without a
// mapping (private) cannot be reached by a guest at all. Every region is built by
// memslotRegion, whose address comes from the one guarded computation, userspaceAddr.
import { MEM } from '../kvm/uapi.js';
import { kfail, kok, type KResult } from '../kvm/kernel-error.js';
import type { StepError } from './pipeline/command.js';
import type { MemoryRegion } from '../kvm/kvm-host.js';
import { err, ok, type Result } from '../domain/result.js';
import { userspaceAddr } from '../domain/userspace-addr.js';
import type { ServiceContext } from './context.js';

export interface SlotSpec {
  vmId: string; inodeId: string; slot: number; gpa: number; offset: number; size: number;
  kind: 'gmem' | 'view'; readonly: boolean;
}

/** A memslot call either reaches the kernel (and may be refused there) or is refused by gmemd's
 * own guard: the pipeline's step error, recorded by its refusalOf. */
export type SlotError = StepError;
export type SlotResult<T> = { ok: true; value: T } | { ok: false; error: SlotError };

/** Which kind of memslot a file of `vmId` gets on the inode. Null: no guest can reach it. */
export function slotKind(ctx: ServiceContext, inodeId: string, vmId: string, writable: boolean): 'gmem' | 'view' | null {
  const gm = ctx.registry.gmem(inodeId);
  // No mapping (a private inode): a type-0 guest would see nothing through any memslot.
  if (!gm?.mapping) return null;
  // A gmem memslot cannot be read-only (GMEM|READONLY is EINVAL), so a read-only file on the
  // origin VM gets a view.
  return gm.kernelOriginVmId === vmId && writable ? 'gmem' : 'view';
}

/** The exact region createMemslot issues for a spec, with the VM fd it goes to. */
export function memslotRegion(ctx: ServiceContext, s: SlotSpec): SlotResult<{ vmFd: number; region: MemoryRegion }> {
  const vmFd = ctx.registry.vmFd(s.vmId);
  const gm = ctx.registry.gmem(s.inodeId);
  if (vmFd === undefined || !gm) return kfail('KVM_SET_USER_MEMORY_REGION2', 'EBADF');
  const addr = userspaceAddr(gm.mapping, s.offset, s.size);
  if (!addr.ok) return addr;
  const gpa = BigInt(s.gpa), size = BigInt(s.size);
  // Literals with every field in one order, as deletion() below: the registry keeps each created
  // region, and a spread copy plus added fields gave each one a V8 hidden class of its own
  // (9,989 maps and descriptor arrays at 10,000 bindings; 2.5 MiB less heap once they shared one).
  const region: MemoryRegion = s.kind === 'gmem'
    ? { slot: s.slot, flags: MEM.GUEST_MEMFD, guestPhysAddr: gpa, memorySize: size, userspaceAddr: addr.value, guestMemfd: gm.fd, guestMemfdOffset: BigInt(s.offset) }
    : { slot: s.slot, flags: s.readonly ? MEM.READONLY : 0, guestPhysAddr: gpa, memorySize: size, userspaceAddr: addr.value, guestMemfd: 0, guestMemfdOffset: 0n };
  return kok({ vmFd, region });
}

export function createMemslot(ctx: ServiceContext, s: SlotSpec): SlotResult<void> {
  const m = memslotRegion(ctx, s);
  if (!m.ok) return m;
  return tracked(ctx, s, m.value.region, ctx.kvm.setUserMemoryRegion2(m.value.vmFd, m.value.region));
}

/** createMemslot off the event loop (the kernel may sleep in it); the guard runs first, synchronously. */
export async function createMemslotAsync(ctx: ServiceContext, s: SlotSpec): Promise<SlotResult<void>> {
  const m = memslotRegion(ctx, s);
  if (!m.ok) return m;
  return tracked(ctx, s, m.value.region, await ctx.kvm.setUserMemoryRegion2Async(m.value.vmFd, m.value.region));
}

type SlotRef = { vmId: string; slot: number; gpa: number };

/** memory_size 0 deletes the slot; the kernel ignores the other fields beyond alignment. */
const deletion = (s: SlotRef): MemoryRegion => ({
  slot: s.slot, flags: 0, guestPhysAddr: BigInt(s.gpa), memorySize: 0n, userspaceAddr: 0n, guestMemfd: 0, guestMemfdOffset: 0n,
});

export function deleteMemslot(ctx: ServiceContext, s: SlotRef): KResult<void> {
  const vmFd = ctx.registry.vmFd(s.vmId);
  if (vmFd === undefined) return kfail('KVM_SET_USER_MEMORY_REGION2', 'EBADF');
  return tracked(ctx, s, null, ctx.kvm.setUserMemoryRegion2(vmFd, deletion(s)));
}

export async function deleteMemslotAsync(ctx: ServiceContext, s: SlotRef): Promise<KResult<void>> {
  const vmFd = ctx.registry.vmFd(s.vmId);
  if (vmFd === undefined) return kfail('KVM_SET_USER_MEMORY_REGION2', 'EBADF');
  return tracked(ctx, s, null, await ctx.kvm.setUserMemoryRegion2Async(vmFd, deletion(s)));
}

/** The registry follows what the kernel accepted: a created region (or, null, a deleted slot). */
function tracked<R extends { ok: boolean }>(ctx: ServiceContext, s: { vmId: string; slot: number }, created: MemoryRegion | null, r: R): R {
  if (r.ok) {
    if (created) ctx.registry.trackMemslot(s.vmId, created);
    else ctx.registry.untrackMemslot(s.vmId, s.slot);
  }
  return r;
}

/**
 * Unmaps and closes an inode's guest_memfd: its memory goes when the last reference does.
 * Refused while any memslot gmemd issued still points into the mapping: once unmapped, that
 * address range may be reused for other memory, which the guest would then read and write
 * (KERNEL.md, probe-stale-view.c). The handle is then kept, and the memory stays held.
 */
export function releaseGmem(ctx: ServiceContext, inodeId: string): Result<void> {
  const gm = ctx.registry.gmem(inodeId);
  if (!gm) return ok(undefined);
  if (gm.mapping) {
    const inUse = ctx.registry.memslotsInto(gm.mapping);
    if (inUse.length > 0) {
      return err('memslot.mapping_in_use', `inode ${inodeId} is still mapped into ${inUse.length} memslot(s); they must be deleted first`,
        { memslots: inUse.map((m) => ({ vmId: m.vmId, slot: m.slot })) });
    }
    ctx.kvm.munmap(gm.mapping.addr, gm.mapping.length);
  }
  ctx.kvm.close(gm.fd);
  ctx.registry.forgetGmem(inodeId);
  return ok(undefined);
}

