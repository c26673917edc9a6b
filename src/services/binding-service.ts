// Bindings (memslots). The ledger checks geometry first so the common mistakes get a
// precise code; the kernel remains the last word, and its refusal is reported with errno.
import { ok, type Result } from '../domain/result.js';
import { checkCanBind } from '../domain/permissions.js';
import { checkBindingOverlap, checkBindingRange } from '../domain/ranges.js';
import { checkGuestReachable } from '../domain/guest-reach.js';
import { chooseSlot } from '../domain/slots.js';
import { newId } from '../store/ids.js';
import type { BindingRow } from '../store/rows.js';
import type { Caller, ServiceContext } from './context.js';
import { check, deny, event, failKernel } from './outcomes.js';
import { createMemslot, deleteMemslot, slotKind } from './memslots.js';
import { fileWithInode } from './file-service.js';

export interface BindInput { gpa: number; offset: number; size: number; slot?: number }

/** `ledgerChecks: false` exists for one test: it skips the overlap checks to show the kernel refuses on its own. */
export function createBinding(ctx: ServiceContext, caller: Caller, fileId: string, input: BindInput,
  opts: { ledgerChecks?: boolean } = {}): Result<BindingRow> {
  const { store } = ctx;
  const found = check(ctx, caller, 'binding.create', { fileId }, fileWithInode(ctx, fileId));
  if (!found.ok) return found;
  const { file, inode } = found.value;
  const subjects = { vmId: file.vmId, inodeId: inode.id, fileId };
  const can = check(ctx, caller, 'binding.create', subjects, checkCanBind(file));
  if (!can.ok) return can;
  // A private inode has no mapping, and on this kernel a guest reaches memory only through
  // userspace_addr: unless the VM's type faults private gmem, a memslot would give it nothing.
  if (!inode.shareable) {
    const caps = ctx.kvm.capabilities();
    if (!caps.ok) return failKernel(ctx, caller, 'binding.create', subjects, caps.error);
    const vm = ctx.store.vms.get(file.vmId)!;
    const reach = check(ctx, caller, 'binding.create', subjects, checkGuestReachable(inode, vm, caps.value.vmTypes));
    if (!reach.ok) return reach;
  }
  const kind = slotKind(ctx, inode.id, file.vmId, can.value.writable);
  if (!kind) {
    // Every guest access goes through userspace_addr here: without gmemd's mapping, no memslot reaches memory.
    return deny(ctx, caller, 'binding.create', subjects, { code: 'inode.not_guest_reachable',
      message: `inode ${inode.id} has no host mapping a memslot of this VM could point at` });
  }
  // Hostile numbers are refused here, before any address is computed from them, whatever `ledgerChecks`.
  const range = check(ctx, caller, 'binding.create', subjects, checkBindingRange(input, inode.size));
  if (!range.ok) return range;
  const vmSlots = store.bindings.activeByVm(file.vmId);
  const slot = check(ctx, caller, 'binding.create', subjects, chooseSlot(vmSlots.map((b) => b.slot), input.slot));
  if (!slot.ok) return slot;
  if (opts.ledgerChecks !== false) {
    const gmemSlots = kind === 'gmem' ? store.bindings.activeByInode(inode.id).filter((b) => b.kind === 'gmem') : null;
    const geo = check(ctx, caller, 'binding.create', subjects, checkBindingOverlap(range.value, vmSlots, gmemSlots));
    if (!geo.ok) return geo;
  }
  const spec = { vmId: file.vmId, inodeId: inode.id, slot: slot.value, gpa: input.gpa, offset: input.offset,
    size: input.size, kind, readonly: kind === 'view' && !can.value.writable };
  ctx.crashPoint('binding.create:before_kernel');
  const r = createMemslot(ctx, spec);
  if (!r.ok) return failKernel(ctx, caller, 'binding.create', subjects, r.error, { ...input, slot: slot.value, kind });
  ctx.crashPoint('binding.create:kernel');
  const t = ctx.now();
  const row: BindingRow = { id: newId('bind', t), fileId, ...spec, state: 'active', createdAt: t, endedAt: null };
  try {
    store.uow.run(() => {
      store.bindings.insert(row);
      store.chain.append(event(caller, 'binding.create', { ...subjects, bindingId: row.id },
        { slot: row.slot, gpa: row.gpa, offset: row.offset, size: row.size, kind, readonly: row.readonly }));
    });
  } catch (e) {
    deleteMemslot(ctx, row);
    throw e;
  }
  return ok(row);
}

export function deleteBinding(ctx: ServiceContext, caller: Caller, bindingId: string): Result<BindingRow> {
  const { store } = ctx;
  const b = store.bindings.get(bindingId);
  if (!b) return deny(ctx, caller, 'binding.delete', { bindingId }, { code: 'binding.not_found', message: `no binding ${bindingId}`, details: { bindingId } });
  const subjects = { vmId: b.vmId, inodeId: b.inodeId, fileId: b.fileId, bindingId };
  if (b.state !== 'active') {
    return deny(ctx, caller, 'binding.delete', subjects, { code: 'binding.not_found', message: `binding ${bindingId} is ${b.state}`, details: { state: b.state } });
  }
  const r = deleteMemslot(ctx, b);
  if (!r.ok) return failKernel(ctx, caller, 'binding.delete', subjects, r.error, { slot: b.slot });
  ctx.crashPoint('binding.delete:kernel');
  const t = ctx.now();
  store.uow.run(() => {
    store.bindings.update(bindingId, { state: 'deleted', endedAt: t });
    store.chain.append(event(caller, 'binding.delete', subjects, { slot: b.slot, gpa: b.gpa }));
  });
  return ok({ ...b, state: 'deleted', endedAt: t });
}
