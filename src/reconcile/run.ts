// On-demand reconcile (POST /v1/reconcile): detect every difference between ledger and
// kernel, record each as a `reconcile.drift` event, and with `repair` fix what can be fixed
// and check again, so the answer says both what differed and what still does.
import type { Caller, ServiceContext } from '../services/context.js';
import { event } from '../services/outcomes.js';
import { detectDrift, type DriftItem, type DriftReport } from './drift.js';
import { repairDrift, type RepairOutcome } from './repair.js';
import { emptyLost, type LostReport } from './lost.js';

export interface ReconcileOptions {
  repair?: boolean;
  /** Also probe every memslot id of every VM (32764 per VM), to find memslots gmemd never created. */
  sweepSlots?: boolean;
}

export interface ReconcileResult {
  checkedAt: number;
  repair: boolean;
  drift: DriftItem[];
  checked: DriftReport['checked'];
  repairs: RepairOutcome[];
  lost: LostReport;
  /** What still differs after repair (without repair: the same as drift). */
  remaining: DriftItem[];
}

export function runReconcile(ctx: ServiceContext, caller: Caller, opts: ReconcileOptions = {}): ReconcileResult {
  const { store } = ctx;
  const sweep = { sweepSlots: opts.sweepSlots ?? false };
  const found = detectDrift(ctx, sweep);
  if (found.items.length > 0) {
    store.uow.run(() => {
      for (const d of found.items) {
        const { kind, message, repairable, vmId, inodeId, fileId, bindingId, ...rest } = d;
        store.chain.append(event(caller, 'reconcile.drift', { vmId, inodeId, fileId, bindingId }, { kind, message, repairable, ...rest }));
      }
    });
  }
  if (!opts.repair) {
    return { checkedAt: ctx.now(), repair: false, drift: found.items, checked: found.checked, repairs: [], lost: emptyLost(), remaining: found.items };
  }
  const { repairs, lost } = repairDrift(ctx, caller, found.items);
  const after = detectDrift(ctx, sweep);
  return { checkedAt: ctx.now(), repair: true, drift: found.items, checked: found.checked, repairs, lost, remaining: after.items };
}
