// On-demand reconcile (POST /v1/reconcile): detect every difference between ledger and
// kernel, record each as a `reconcile.drift` event, and with `repair` fix what can be fixed
// and check again, so the answer says both what differed and what still does. It runs as one
// command, alone, and also while writes are refused: a repair is what lifts the refusal.
import type { Caller, ServiceContext } from '../services/context.js';
import { ok } from '../domain/result.js';
import { run } from '../services/pipeline/run.js';
import { detectDrift, type DriftItem, type DriftReport } from './drift.js';
import { planRepair, type RepairOutcome } from './repair.js';
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
  /** The memslot sweep hit its deadline (GMEMD_SWEEP_DEADLINE_MS). */
  sweepTruncated: boolean;
}

export async function runReconcile(ctx: ServiceContext, caller: Caller, opts: ReconcileOptions = {}): Promise<ReconcileResult> {
  const sweep = { sweepSlots: opts.sweepSlots ?? false };
  const r = await run(ctx, caller, {
    action: 'reconcile.drift', keys: 'global', maintenance: true,
    decide: () => {
      const found = detectDrift(ctx, sweep);
      const repair = opts.repair ? planRepair(ctx, found.items) : null;
      return ok({
        steps: repair?.steps ?? [],
        record: (rec, log) => {
          for (const d of found.items) {
            const { kind, message, repairable, vmId, inodeId, fileId, bindingId, ...rest } = d;
            rec.event('reconcile.drift', { vmId, inodeId, fileId, bindingId }, { kind, message, repairable, ...rest });
          }
          return { found, ...(repair ? repair.record(rec, log) : { repairs: [], lost: emptyLost() }) };
        },
      });
    },
  });
  if (!r.ok) throw new Error(`reconcile could not be recorded: ${r.error.message}`);
  const { found, repairs, lost } = r.value;
  if (!opts.repair) {
    return { checkedAt: ctx.now(), repair: false, drift: found.items, checked: found.checked, repairs: [], lost, remaining: found.items,
      sweepTruncated: found.sweepTruncated };
  }
  ctx.pipeline.recovered();
  const after = detectDrift(ctx, sweep);
  return { checkedAt: ctx.now(), repair: true, drift: found.items, checked: found.checked, repairs, lost, remaining: after.items,
    sweepTruncated: found.sweepTruncated || after.sweepTruncated };
}
