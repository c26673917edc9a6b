// Closing files, shared by VM destroy and revoke: memslots go first (the kernel stops
// access), then inodes whose last file closes are released, then one record says it all. An
// owner file takes its inode's grants with it: an inode has exactly one owner while live, and
// ownership only moves by an explicit donation or migration.
import type { FileRow } from '../store/rows.js';
import type { Action } from '../domain/actions.js';
import type { DomainError } from '../domain/result.js';
import type { ServiceContext } from './context.js';
import { createMemslot, deleteMemslot, releaseGmem } from './memslots.js';
import type { Step, StepLog } from './pipeline/command.js';
import type { Recorder } from './pipeline/recorder.js';
import { planClose } from '../domain/teardown-plan.js';

export interface ClosedSummary { closedFiles: string[]; releasedInodes: string[]; deletedBindings: string[] }

export interface ClosePlan { steps: Step[]; record(rec: Recorder, log: StepLog): ClosedSummary }

export function closeFilesPlan(ctx: ServiceContext, requested: FileRow[], action: Extract<Action, 'file.close' | 'file.revoke'>): ClosePlan {
  const { store } = ctx;
  const inodeFiles = new Map<string, FileRow[]>();
  for (const f of requested) if (!inodeFiles.has(f.inodeId)) inodeFiles.set(f.inodeId, store.files.byInode(f.inodeId));
  const { files, released: lastFileGone } = planClose(requested, (inodeId) => inodeFiles.get(inodeId) ?? store.files.byInode(inodeId));
  const bindings = files.flatMap((f) => store.bindings.activeByFile(f.id));
  const steps: Step[] = [
    // A memslot the kernel refuses to delete is still recorded deleted, with its errno: the
    // file it belongs to is closing either way, and reconcile finds what the kernel kept.
    ...bindings.map((b): Step => ({ id: `delete:${b.id}`, onError: 'continue', run: () => deleteMemslot(ctx, b),
      undo: () => createMemslot(ctx, b) })),
    { crash: `${action}:memslots_deleted` },
    // A release the memslot guard refuses (a memslot into the mapping could not be deleted)
    // keeps the inode's memory held and the inode live in the ledger; the refusal is audited.
    ...lastFileGone.map((id): Step => ({ id: `release:${id}`, onError: 'continue', run: () => releaseGmem(ctx, id) })),
    { crash: `${action}:released` },
  ];
  return {
    steps,
    record: (rec, log) => {
      const released = lastFileGone.filter((id) => log.ok(`release:${id}`));
      for (const b of bindings) rec.bindingDeleted(b, { cause: action, kernelErrno: log.errno(`delete:${b.id}`) });
      for (const f of files) {
        store.files.update(f.id, { state: 'closed', endedAt: rec.time });
        const e = rec.event(action === 'file.revoke' && requested.some((r) => r.id === f.id) ? 'file.revoke' : 'file.close',
          { vmId: f.vmId, inodeId: f.inodeId, fileId: f.id }, { role: f.role, cause: action });
        store.access.close(f.id, { time: e.time, seq: e.seq });
      }
      for (const id of released) {
        store.inodes.setState(id, 'released', rec.time);
        rec.event('inode.release', { inodeId: id }, { cause: action });
      }
      for (const id of lastFileGone.filter((x) => !log.ok(`release:${x}`))) {
        const e = log.get(`release:${id}`)!.error as DomainError;
        rec.event('inode.release', { inodeId: id }, { cause: action, message: e.message, ...e.details }, { outcome: 'denied', errorCode: e.code });
      }
      return { closedFiles: files.map((f) => f.id), releasedInodes: released, deletedBindings: bindings.map((b) => b.id) };
    },
  };
}
