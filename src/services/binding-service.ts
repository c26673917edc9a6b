// Bindings (memslots). The ledger checks geometry first so the common mistakes get a
// precise code; the kernel remains the last word, and its refusal is reported with errno.
// A binding whose memslot is being created, or exists but whose record is still waiting for
// its batch, is "claimed": later decisions see it (slot, guest range, gmem offsets) as if it
// were recorded.
import { err, ok, type Result } from '../domain/result.js';
import { checkCanBind } from '../domain/permissions.js';
import { checkBindingOverlap, checkBindingRange } from '../domain/ranges.js';
import { checkGuestReachable } from '../domain/guest-reach.js';
import { kernelError } from './pipeline/run.js';
import { chooseSlot } from '../domain/slots.js';
import { checkBindingQuota } from '../domain/quotas.js';
import { newId } from '../store/ids.js';
import type { BindingRow } from '../store/rows.js';
import type { Caller, ServiceContext } from './context.js';
import { createMemslot, createMemslotAsync, deleteMemslot, deleteMemslotAsync, slotKind } from './memslots.js';
import { fileWithInode } from './file-service.js';
import { run } from './pipeline/run.js';

export interface BindInput { gpa: number; offset: number; size: number; slot?: number }

/** `ledgerChecks: false` exists for one test: it skips the overlap checks to show the kernel refuses on its own. */
export function createBinding(ctx: ServiceContext, caller: Caller, fileId: string, input: BindInput,
  opts: { ledgerChecks?: boolean } = {}): Promise<Result<BindingRow>> {
  const { store } = ctx;
  let release = () => {};
  return run(ctx, caller, {
    action: 'binding.create', subjects: { fileId }, keys: [],
    decide: (scope) => {
      const found = fileWithInode(ctx, fileId);
      if (!found.ok) return found;
      const { file, inode } = found.value;
      scope.about({ vmId: file.vmId, inodeId: inode.id });
      const can = checkCanBind(file);
      if (!can.ok) return can;
      // A private inode has no mapping, and on this kernel a guest reaches memory only through
      // userspace_addr: unless the VM's type faults private gmem, a memslot would give it nothing.
      if (!inode.shareable) {
        const caps = ctx.kvm.capabilities();
        if (!caps.ok) return { ok: false, error: kernelError(caps.error) };
        const reach = checkGuestReachable(inode, store.vms.get(file.vmId)!, caps.value.vmTypes);
        if (!reach.ok) return reach;
      }
      const kind = slotKind(ctx, inode.id, file.vmId, can.value.writable);
      // Every guest access goes through userspace_addr here: without gmemd's mapping, no memslot reaches memory.
      if (!kind) return err('inode.not_guest_reachable', `inode ${inode.id} has no host mapping a memslot of this VM could point at`);
      // Hostile numbers are refused before anything else looks at them, whatever `ledgerChecks`.
      const range = checkBindingRange(input, inode.size);
      if (!range.ok) return range;
      // Claimed bindings count: two binds in one batch cannot both take the last one.
      const slots = store.bindings.slotsOf(file.vmId);
      const quota = checkBindingQuota(slots.count, ctx.limits);
      if (!quota.ok) return quota;
      const slot = chooseSlot(slots, input.slot);
      if (!slot.ok) return slot;
      if (opts.ledgerChecks !== false) {
        const { guest, inode: span } = range.value;
        // checkBindingRange bounded both ends (MAX_GPA, the inode's size): safe integers.
        const gmemSlots = kind === 'gmem' ? store.bindings.claimedGmemBelow(inode.id, Number(span.start + span.size)) : null;
        const geo = checkBindingOverlap(range.value, store.bindings.claimedBelow(file.vmId, Number(guest.start + guest.size)), gmemSlots);
        if (!geo.ok) return geo;
      }
      const t = ctx.now();
      const claimed = <R extends { ok: boolean }>(r: R): R => { if (!r.ok) release(); return r; };
      const row: BindingRow = { id: newId('bind', t), fileId, vmId: file.vmId, inodeId: inode.id, slot: slot.value, gpa: input.gpa,
        offset: input.offset, size: input.size, kind, readonly: kind === 'view' && !can.value.writable, state: 'active', createdAt: t, endedAt: null };
      // Claimed from the decision on: the memslot call runs off the event loop, and binds
      // decided meanwhile must see this slot and range as taken. Dropped if the call fails,
      // and in any case once the record is durable (settled).
      release = store.bindings.claim(row);
      return ok({
        details: { ...input, slot: slot.value, kind },
        steps: [
          { crash: 'binding.create:before_kernel' },
          { id: 'memslot', run: () => claimed(createMemslot(ctx, row)), start: () => createMemslotAsync(ctx, row).then(claimed),
            undo: () => deleteMemslot(ctx, row) },
          { crash: 'binding.create:kernel' },
        ],
        record: (rec) => { rec.bindingCreated(row); return row; },
        afterRecord: 'binding.create:recorded',
        settled: () => release(),
      });
    },
  });
}

export function deleteBinding(ctx: ServiceContext, caller: Caller, bindingId: string): Promise<Result<BindingRow>> {
  const { store } = ctx;
  return run(ctx, caller, {
    // Two deletes of one binding: the second decides once the first is recorded.
    action: 'binding.delete', subjects: { bindingId }, keys: [`binding:${bindingId}`],
    decide: (scope) => {
      const b = store.bindings.get(bindingId);
      if (!b) return err('binding.not_found', `no binding ${bindingId}`, { bindingId });
      scope.about({ vmId: b.vmId, inodeId: b.inodeId, fileId: b.fileId });
      if (b.state !== 'active') return err('binding.not_found', `binding ${bindingId} is ${b.state}`, { state: b.state });
      return ok({
        details: { slot: b.slot },
        steps: [
          { id: 'memslot', run: () => deleteMemslot(ctx, b), start: () => deleteMemslotAsync(ctx, b), undo: () => createMemslot(ctx, b) },
          { crash: 'binding.delete:kernel' },
        ],
        record: (rec) => { rec.bindingDeleted(b); return { ...b, state: 'deleted' as const, endedAt: rec.time }; },
      });
    },
  });
}
