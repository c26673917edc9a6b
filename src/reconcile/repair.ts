// Repair: make kernel and ledger agree again, one kernel step per difference, each audited as
// a `reconcile.repair` event (a refused call as `failed` with its errno, changing no state).
// - memslot_missing: re-create the memslot the ledger has (as createMemslot would), unless an
//   open intent (revoke, narrow, donate, destroy, migration commit) names its binding, file or
//   VM: that operation was taking the memslot away, and re-creating it would hand back access
//   it was removing;
// - memslot_unexpected: delete the memslot the ledger lacks;
// - memslot_mismatch: delete and re-create it from the ledger;
// - what the process no longer holds (a VM or guest_memfd fd gone): forget the stale handle,
//   delete the memslots that pointed into it (the kernel stops access first), then mark the
//   ledger's objects lost exactly as start-up does (lost.ts).
import { kok } from '../kvm/kernel-error.js';
import type { BindingRow, IntentRow } from '../store/rows.js';
import type { ServiceContext } from '../services/context.js';
import type { KernelStep, StepLog, Subjects } from '../services/pipeline/command.js';
import { bindingSubjects, type Recorder } from '../services/pipeline/recorder.js';
import { createMemslot, deleteMemslot } from '../services/memslots.js';
import { refusalOf } from '../services/pipeline/run.js';
import type { DriftItem } from './drift.js';
import { emptyLost, recordUnheld, type LostReport } from './lost.js';

export interface RepairOutcome {
  kind: DriftItem['kind'];
  action: 'recreated' | 'deleted' | 'marked_lost' | 'skipped';
  ok: boolean;
  vmId?: string; bindingId?: string; slot?: number; inodeId?: string;
  errno?: string; operation?: string; reason?: string;
}

/** A mismatch whose delete the kernel refused: nothing is re-created, and nothing recorded for it. */
const NOT_DELETED = Symbol('not deleted');

interface Planned { step: KernelStep; outcome: RepairOutcome; subjects: Subjects }

/** Ids an open intent is about: the memslots it was removing must not come back. */
function heldByIntents(intents: IntentRow[]): Set<string> {
  const ids = new Set<string>();
  const add = (v: unknown) => { if (typeof v === 'string') ids.add(v); else if (Array.isArray(v)) v.forEach(add); };
  for (const i of intents) {
    const p = (i.payload ?? {}) as Record<string, unknown>;
    for (const k of ['vmId', 'fileId', 'files', 'bindings', 'sourceBindings']) add(p[k]);
  }
  return ids;
}

export interface RepairPlan { steps: KernelStep[]; record(rec: Recorder, log: StepLog): { repairs: RepairOutcome[]; lost: LostReport } }

export function planRepair(ctx: ServiceContext, items: DriftItem[]): RepairPlan {
  const { store, registry } = ctx;
  const planned: Planned[] = [];
  const skipped: { outcome: RepairOutcome; subjects: Subjects }[] = [];
  const ok = kok(undefined);

  // What is gone from the process: its handles are stale, and memslots into it must go first.
  const gone = items.filter((i) => i.kind === 'vm_fd_missing' || i.kind === 'gmem_fd_missing' || i.kind === 'file_orphaned');
  const goneVms = new Set(gone.filter((i) => i.kind === 'vm_fd_missing' && i.vmId).map((i) => i.vmId!));
  const goneInodes = new Set(gone.filter((i) => i.kind === 'gmem_fd_missing' && i.inodeId).map((i) => i.inodeId!));
  const forget: KernelStep = { id: 'forget', effect: false, run: () => {
    for (const id of goneVms) registry.dropVm(id);
    for (const id of goneInodes) registry.forgetGmem(id);
    return ok;
  } };
  if (gone.length > 0) {
    for (const b of store.bindings.allActive()) {
      if (goneVms.has(b.vmId) || registry.vmFd(b.vmId) === undefined) continue;
      if (!goneInodes.has(b.inodeId) && registry.gmem(b.inodeId)) continue;
      planned.push({ step: { id: `gone:${b.id}`, onError: 'continue', effect: false, run: () => deleteMemslot(ctx, b) },
        outcome: { kind: 'gmem_fd_missing', action: 'deleted', ok: true, vmId: b.vmId, bindingId: b.id, slot: b.slot }, subjects: bindingSubjects(b) });
    }
  }

  const intentIds = heldByIntents(store.intents.listOpen());
  const removing = (b: BindingRow) => [b.id, b.fileId, b.vmId].some((id) => intentIds.has(id));
  const deleted = new Set<string>();
  items.forEach((i, n) => {
    if (!i.repairable || i.vmId === undefined || i.slot === undefined) return;
    const b = i.bindingId ? store.bindings.get(i.bindingId) : undefined;
    const subjects: Subjects = { vmId: i.vmId, ...(b ? bindingSubjects(b) : {}) };
    if (i.kind === 'memslot_unexpected' || i.kind === 'memslot_mismatch') {
      const vmId = i.vmId, slot = i.slot;
      const tracked = registry.memslots.get(vmId)?.get(slot);
      planned.push({ step: { id: `delete:${n}`, onError: 'continue', effect: false, run: () => {
        const r = deleteMemslot(ctx, { vmId, slot, gpa: Number(tracked?.guestPhysAddr ?? 0n) });
        if (r.ok) deleted.add(`${vmId}:${slot}`);
        return r;
      } }, outcome: { kind: i.kind, action: 'deleted', ok: true, vmId, slot }, subjects });
    }
    if ((i.kind === 'memslot_missing' || i.kind === 'memslot_mismatch') && b?.state === 'active') {
      if (removing(b)) {
        skipped.push({ outcome: { kind: i.kind, action: 'skipped', ok: false, vmId: b.vmId, bindingId: b.id, slot: b.slot,
          reason: 'an open intent is removing this memslot; it is not re-created' }, subjects });
        return;
      }
      planned.push({ step: { id: `create:${n}`, onError: 'continue', effect: false, run: () => {
        if (i.kind === 'memslot_mismatch' && !deleted.has(`${b.vmId}:${b.slot}`)) return kok(NOT_DELETED);
        return createMemslot(ctx, b);
      } }, outcome: { kind: i.kind, action: 'recreated', ok: true, vmId: b.vmId, bindingId: b.id, slot: b.slot }, subjects });
    }
  });

  return {
    // Repairs are themselves the undoing of drift: none is taken back if the record fails.
    steps: [...(gone.length > 0 ? [forget] : []), ...planned.map((p) => p.step)],
    record: (rec, log) => {
      const repairs: RepairOutcome[] = [];
      const write = (p: Planned) => {
        const o = log.get(p.step.id);
        if (!o || o.value === NOT_DELETED) return;
        const refused = o.error ? refusalOf(o.error).event : undefined;
        rec.event('reconcile.repair', p.subjects, { kind: p.outcome.kind, action: p.outcome.action, ...(p.outcome.slot !== undefined ? { slot: p.outcome.slot } : {}) },
          refused ?? {});
        repairs.push(refused ? { ...p.outcome, ok: false, errno: refused.errno ?? refused.errorCode, ...(refused.operation ? { operation: refused.operation } : {}) } : p.outcome);
      };
      planned.filter((p) => p.step.id.startsWith('gone:')).forEach(write);
      let lost = emptyLost();
      if (gone.length > 0) {
        lost = recordUnheld(ctx, rec, 'repair');
        for (const i of gone) repairs.push({ kind: i.kind, action: 'marked_lost', ok: true, ...(i.vmId ? { vmId: i.vmId } : {}), ...(i.inodeId ? { inodeId: i.inodeId } : {}) });
      }
      planned.filter((p) => !p.step.id.startsWith('gone:')).forEach(write);
      for (const s of skipped) {
        rec.event('reconcile.repair', s.subjects, { kind: s.outcome.kind, action: 'skipped', slot: s.outcome.slot, reason: s.outcome.reason });
        repairs.push(s.outcome);
      }
      return { repairs, lost };
    },
  };
}
