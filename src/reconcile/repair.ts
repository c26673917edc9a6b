// Repair: make kernel and ledger agree again, one kernel call at a time, each audited as a
// `reconcile.repair` event (a refused call as `failed` with its errno, changing no state).
// - memslot_missing: re-create the memslot the ledger has (as createMemslot would);
// - memslot_unexpected: delete the memslot the ledger lacks;
// - memslot_mismatch: delete and re-create it from the ledger;
// - what the process no longer holds (a VM or guest_memfd fd gone): forget the stale handle,
//   delete the memslots that pointed into it (the kernel stops access first), then mark the
//   ledger's objects lost exactly as start-up does (lost.ts).
import type { BindingRow } from '../store/rows.js';
import type { Caller, ServiceContext } from '../services/context.js';
import { event, type Subjects } from '../services/outcomes.js';
import { createMemslot, deleteMemslot, slotErrorEvent, type SlotError } from '../services/memslots.js';
import type { DriftItem } from './drift.js';
import { emptyLost, markUnheld, type LostReport } from './lost.js';

export interface RepairOutcome {
  kind: DriftItem['kind'];
  action: 'recreated' | 'deleted' | 'marked_lost';
  ok: boolean;
  vmId?: string; bindingId?: string; slot?: number; inodeId?: string;
  errno?: string; operation?: string;
}

export function repairDrift(ctx: ServiceContext, caller: Caller, items: DriftItem[]): { repairs: RepairOutcome[]; lost: LostReport } {
  const { store, registry } = ctx;
  const repairs: RepairOutcome[] = [];
  const record = (o: RepairOutcome, subjects: Subjects, e?: SlotError) => {
    const refused = e ? slotErrorEvent(e) : undefined;
    const out = refused ? { ...o, ok: false, errno: refused.errno ?? refused.errorCode, ...(refused.operation ? { operation: refused.operation } : {}) } : o;
    store.uow.run(() => store.chain.append({
      ...event(caller, 'reconcile.repair', subjects, { kind: o.kind, action: o.action, ...(o.slot !== undefined ? { slot: o.slot } : {}) }),
      ...(refused ?? {}),
    }));
    repairs.push(out);
  };

  // What is gone from the process: its handles are stale, and memslots into it must go first.
  const gone = items.filter((i) => i.kind === 'vm_fd_missing' || i.kind === 'gmem_fd_missing' || i.kind === 'file_orphaned');
  for (const i of gone) {
    if (i.kind === 'vm_fd_missing' && i.vmId) { registry.vms.delete(i.vmId); registry.memslots.delete(i.vmId); }
    if (i.kind === 'gmem_fd_missing' && i.inodeId) registry.forgetGmem(i.inodeId);
  }
  let lost = emptyLost();
  if (gone.length > 0) {
    for (const b of store.bindings.allActive()) {
      if (registry.vmFd(b.vmId) === undefined || registry.gmem(b.inodeId)) continue;
      const r = deleteMemslot(ctx, b);
      record({ kind: 'gmem_fd_missing', action: 'deleted', ok: true, vmId: b.vmId, bindingId: b.id, slot: b.slot }, subjectsOf(b), r.ok ? undefined : r.error);
    }
    lost = markUnheld(ctx, caller, 'repair');
    for (const i of gone) repairs.push({ kind: i.kind, action: 'marked_lost', ok: true, ...pick(i) });
  }

  for (const i of items) {
    if (!i.repairable || i.vmId === undefined || i.slot === undefined) continue;
    const b = i.bindingId ? store.bindings.get(i.bindingId) : undefined;
    if (i.kind === 'memslot_unexpected' || i.kind === 'memslot_mismatch') {
      const tracked = registry.memslots.get(i.vmId)?.get(i.slot);
      const r = deleteMemslot(ctx, { vmId: i.vmId, slot: i.slot, gpa: Number(tracked?.guestPhysAddr ?? 0n) });
      record({ kind: i.kind, action: 'deleted', ok: true, vmId: i.vmId, slot: i.slot }, { vmId: i.vmId, ...(b ? subjectsOf(b) : {}) }, r.ok ? undefined : r.error);
      if (!r.ok) continue;
    }
    if ((i.kind === 'memslot_missing' || i.kind === 'memslot_mismatch') && b?.state === 'active') {
      const r = createMemslot(ctx, b);
      record({ kind: i.kind, action: 'recreated', ok: true, vmId: b.vmId, bindingId: b.id, slot: b.slot }, subjectsOf(b), r.ok ? undefined : r.error);
    }
  }
  return { repairs, lost };
}

const subjectsOf = (b: BindingRow): Subjects => ({ vmId: b.vmId, inodeId: b.inodeId, fileId: b.fileId, bindingId: b.id });

function pick(i: DriftItem): Partial<RepairOutcome> {
  return { ...(i.vmId ? { vmId: i.vmId } : {}), ...(i.inodeId ? { inodeId: i.inodeId } : {}) };
}
