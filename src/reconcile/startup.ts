// Start-up reconcile: before gmemd serves anything, make the ledger say what this process
// holds. An intent still open was left by a crash between its record and the transaction that
// would have closed it, so that transaction never committed: the ledger still shows the state
// from before the operation, and the kernel objects the operation touched died with the
// process. Each such intent is resolved `abandoned` with a `reconcile.intent` event naming
// what it was doing; then everything not held is marked lost (lost.ts). One transaction.
import type { IntentRow } from '../store/rows.js';
import type { Caller, ServiceContext } from '../services/context.js';
import { ok } from '../domain/result.js';
import { runNow } from '../services/pipeline/run.js';
import type { Recorder } from '../services/pipeline/recorder.js';
import { anyInodeUnheld, recordUnheld, type Holders, type HoldersLookup, type LostCause, type LostReport } from './lost.js';

/** Start-up work is done by gmemd itself, not on anyone's request. */
export const SYSTEM_CALLER: Caller = { actor: 'gmemd', requestId: null };

export interface IntentResolution {
  intentId: string;
  kind: string;
  openedAt: number;
  resolution: 'abandoned';
}

export interface StartupReport {
  at: number;
  cause: LostCause;
  intents: IntentResolution[];
  lost: LostReport;
  /** First and last seq of the events this reconcile wrote; null when it wrote none. */
  events: { from: number; to: number } | null;
}

/** Resolves every open intent as abandoned, through `rec` (the record of the start-up command). */
export function recordOpenIntents(ctx: ServiceContext, rec: Recorder): IntentResolution[] {
  const { store } = ctx;
  return store.intents.listOpen().map((intent) => {
    store.intents.finish(intent.id, 'resolved');
    rec.event('reconcile.intent', subjectsOf(intent), {
      intentId: intent.id, kind: intent.kind, openedAt: intent.createdAt, resolution: 'abandoned',
      reason: 'the process ended before the operation recorded its outcome; the ledger keeps the state from before it',
      payload: intent.payload,
    });
    return { intentId: intent.id, kind: intent.kind, openedAt: intent.createdAt, resolution: 'abandoned' as const };
  });
}

/** The record of a start-up (or adoption) reconcile: open intents resolved, then what is not held marked lost. */
export function recordStartup(ctx: ServiceContext, rec: Recorder, cause: LostCause, holders?: Holders): { intents: IntentResolution[]; lost: LostReport } {
  return { intents: recordOpenIntents(ctx, rec), lost: recordUnheld(ctx, rec, cause, holders) };
}

/** Before anything is served: one command, one transaction. */
export function startupReconcile(ctx: ServiceContext, opts: { cause?: LostCause; holders?: HoldersLookup } = {}): StartupReport {
  const { store } = ctx;
  const cause = opts.cause ?? 'startup';
  const before = store.chain.getHead().seq;
  const r = runNow(ctx, SYSTEM_CALLER, {
    action: 'reconcile.lost', keys: 'global', maintenance: true,
    decide: () => {
      // The /proc scan runs here, before the transaction opens, and only when an inode is to be marked lost.
      const holders = opts.holders && anyInodeUnheld(ctx) ? opts.holders() : undefined;
      return ok({ record: (rec) => recordStartup(ctx, rec, cause, holders) });
    },
  });
  if (!r.ok) throw new Error(`start-up reconcile: ${r.error.message}`);
  const after = store.chain.getHead().seq;
  return { at: ctx.now(), cause, ...r.value, events: after > before ? { from: before + 1, to: after } : null };
}

/** The ledger ids an intent's payload names, as event subjects (so events-by-VM finds it). */
function subjectsOf(intent: IntentRow): { vmId?: string; fileId?: string; migrationId?: string } {
  const p = (intent.payload ?? {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const out: { vmId?: string; fileId?: string; migrationId?: string } = {};
  const vmId = str(p.vmId), fileId = str(p.fileId) ?? (Array.isArray(p.files) ? str(p.files[0]) : undefined), migrationId = str(p.migrationId);
  if (vmId) out.vmId = vmId;
  if (fileId) out.fileId = fileId;
  if (migrationId) out.migrationId = migrationId;
  return out;
}
