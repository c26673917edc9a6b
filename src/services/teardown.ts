// Closing files, shared by VM destroy and revoke: memslots go first (the kernel stops
// access), then inodes whose last file closes are released, then one transaction records
// it all. An owner file takes its inode's grants with it: an inode has exactly one owner
// while live, and ownership only moves by an explicit donation or migration.
import type { FileRow } from '../store/rows.js';
import type { Action } from '../domain/actions.js';
import type { DomainError } from '../domain/result.js';
import type { Caller, ServiceContext } from './context.js';
import { event } from './outcomes.js';
import { deleteMemslot, releaseGmem } from './memslots.js';

export interface ClosedSummary { closedFiles: string[]; releasedInodes: string[]; deletedBindings: string[] }

export function closeFiles(ctx: ServiceContext, caller: Caller, requested: FileRow[], action: Extract<Action, 'file.close' | 'file.revoke'>,
  intentId: string | null, alsoWrite: () => void = () => {}): ClosedSummary {
  const { store } = ctx;
  const closing = new Map(requested.map((f) => [f.id, f]));
  for (const f of requested) {
    if (f.role !== 'owner') continue;
    for (const other of store.files.byInode(f.inodeId)) closing.set(other.id, other);
  }
  const files = [...closing.values()];
  const bindings = files.flatMap((f) => store.bindings.activeByFile(f.id));
  const kernelErrors: Record<string, string> = {};
  for (const b of bindings) {
    const r = deleteMemslot(ctx, b);
    if (!r.ok) kernelErrors[b.id] = r.error.errno;
  }
  ctx.crashPoint(`${action}:memslots_deleted`);
  const inodeIds = [...new Set(files.map((f) => f.inodeId))];
  const lastFileGone = inodeIds.filter((id) => store.files.byInode(id).every((f) => closing.has(f.id)));
  // A release the memslot guard refuses (a memslot into the mapping could not be deleted)
  // keeps the inode's memory held and the inode live in the ledger; the refusal is audited.
  const refusedRelease = new Map<string, DomainError>();
  for (const id of lastFileGone) {
    const r = releaseGmem(ctx, id);
    if (!r.ok) refusedRelease.set(id, r.error);
  }
  const released = lastFileGone.filter((id) => !refusedRelease.has(id));
  ctx.crashPoint(`${action}:released`);

  store.uow.run(() => {
    const t = ctx.now();
    for (const b of bindings) {
      store.bindings.update(b.id, { state: 'deleted', endedAt: t });
      store.chain.append(event(caller, 'binding.delete', { vmId: b.vmId, inodeId: b.inodeId, fileId: b.fileId, bindingId: b.id },
        { slot: b.slot, gpa: b.gpa, cause: action, ...(kernelErrors[b.id] ? { kernelErrno: kernelErrors[b.id] } : {}) }));
    }
    for (const f of files) {
      store.files.update(f.id, { state: 'closed', endedAt: t });
      const e = store.chain.append(event(caller, action === 'file.revoke' && requested.some((r) => r.id === f.id) ? 'file.revoke' : 'file.close',
        { vmId: f.vmId, inodeId: f.inodeId, fileId: f.id }, { role: f.role, cause: action }));
      store.access.close(f.id, { time: e.time, seq: e.seq });
    }
    for (const id of released) {
      store.inodes.setState(id, 'released', t);
      store.chain.append(event(caller, 'inode.release', { inodeId: id }, { cause: action }));
    }
    for (const [id, e] of refusedRelease) {
      store.chain.append({ ...event(caller, 'inode.release', { inodeId: id }, { cause: action, message: e.message, ...e.details }),
        outcome: 'denied', errorCode: e.code });
    }
    alsoWrite();
    if (intentId) store.intents.finish(intentId);
  });
  return { closedFiles: files.map((f) => f.id), releasedInodes: released, deletedBindings: bindings.map((b) => b.id) };
}
