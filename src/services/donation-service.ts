// Donation: ownership of an inode moves to another VM. The old owner's memslots go first,
// then one transaction closes its file and opens the new owner's. The memory itself does
// not move: the guest_memfd and gmemd's mapping stay, so the contents stay. A target that
// already holds a grant on the inode keeps that file, promoted to owner (promote()).
import { ok, type Result } from '../domain/result.js';
import { OWNER_PERMISSIONS } from '../domain/permissions.js';
import { newId } from '../store/ids.js';
import type { FileRow } from '../store/rows.js';
import type { Caller, ServiceContext } from './context.js';
import { check, deny, event, failKernel } from './outcomes.js';
import { activeVm } from './vm-service.js';
import { fileWithInode } from './file-service.js';
import { deleteMemslot } from './memslots.js';

export function donateFile(ctx: ServiceContext, caller: Caller, fileId: string, input: { vmId: string }): Result<{ from: FileRow; to: FileRow }> {
  const { store } = ctx;
  const found = check(ctx, caller, 'file.donate', { fileId }, fileWithInode(ctx, fileId));
  if (!found.ok) return found;
  const { file, inode } = found.value;
  const subjects = { vmId: input.vmId, inodeId: inode.id, fileId };
  const refuse = (code: 'file.not_owner' | 'file.not_open' | 'inode.not_shareable' | 'file.same_vm' | 'file.already_open' | 'vm.in_migration', message: string, details?: Record<string, unknown>) =>
    deny(ctx, caller, 'file.donate', subjects, { code, message, details });
  if (file.role !== 'owner') return refuse('file.not_owner', `file ${fileId} is a grant; only the owner file can be donated`);
  if (file.state !== 'open') return refuse('file.not_open', `file ${fileId} is ${file.state}`);
  const target = check(ctx, caller, 'file.donate', subjects, activeVm(ctx, input.vmId));
  if (!target.ok) return target;
  if (!inode.shareable) return refuse('inode.not_shareable', `inode ${inode.id} is private: on this kernel its memory can only be reached through its origin VM's memslots`);
  if (input.vmId === file.vmId) return refuse('file.same_vm', `VM ${input.vmId} already owns inode ${inode.id}`);
  for (const vmId of [file.vmId, input.vmId]) {
    const mig = store.migrations.unfinishedFor(vmId);
    if (mig) return refuse('vm.in_migration', `VM ${vmId} takes part in migration ${mig.id}`, { migrationId: mig.id });
  }
  // Outside a migration a live file is open; pending files belong to one (refused above).
  const existing = store.files.liveFor(inode.id, input.vmId);
  if (existing && existing.state !== 'open') return refuse('file.already_open', `VM ${input.vmId} holds file ${existing.id} (${existing.state}) on this inode`, { existingFileId: existing.id });

  const bindings = store.bindings.activeByFile(file.id);
  const intent = store.uow.run(() => store.intents.open('file.donate', { fileId, toVmId: input.vmId, bindings: bindings.map((b) => b.id) }));
  ctx.crashPoint('file.donate:intent');
  for (const b of bindings) {
    const r = deleteMemslot(ctx, b);
    if (!r.ok) {
      store.uow.run(() => store.intents.finish(intent.id, 'resolved'));
      return failKernel(ctx, caller, 'file.donate', subjects, r.error, { bindingId: b.id });
    }
  }
  ctx.crashPoint('file.donate:memslots_deleted');

  const t = ctx.now();
  const to: FileRow = existing ? promote(existing, file.id) : {
    id: newId('file', t), inodeId: inode.id, vmId: input.vmId, role: 'owner', permissions: [...OWNER_PERMISSIONS],
    grantedByFileId: file.id, migrationId: null, state: 'open', createdAt: t, endedAt: null,
  };
  store.uow.run(() => {
    for (const b of bindings) {
      store.bindings.update(b.id, { state: 'deleted', endedAt: t });
      store.chain.append(event(caller, 'binding.delete', { vmId: b.vmId, inodeId: b.inodeId, fileId: b.fileId, bindingId: b.id }, { cause: 'file.donate' }));
    }
    store.files.update(file.id, { state: 'closed', endedAt: t });
    if (existing) store.files.update(to.id, { role: to.role, permissions: to.permissions, grantedByFileId: to.grantedByFileId });
    else store.files.insert(to);
    store.inodes.setOwner(inode.id, input.vmId);
    const e = store.chain.append(event(caller, 'file.donate', { ...subjects, fileId: to.id },
      { fromVmId: file.vmId, toVmId: input.vmId, fromFileId: file.id, toFileId: to.id, role: 'owner',
        ...(existing ? { promoted: true, fromRole: existing.role, fromPermissions: existing.permissions } : {}) }));
    store.access.close(file.id, { time: e.time, seq: e.seq });
    // The promoted file's grantee period ends where its owner period begins.
    if (existing) store.access.change(to, { time: e.time, seq: e.seq });
    else store.access.open(to, { time: e.time, seq: e.seq });
    store.intents.finish(intent.id);
  });
  return ok({ from: store.files.get(file.id)!, to: store.files.get(to.id)! });
}

/**
 * The target's grant becomes the owner file: same id, same bindings, every permission. It now
 * descends from the donated file, not from whichever grantee granted it, so narrowing or
 * revoking that grantee can no longer reach the owner.
 *
 * Its memslots are left exactly as they are. A read-only view keeps KVM_MEM_READONLY: the
 * flag cannot change on a live memslot (KVM_SET_USER_MEMORY_REGION2 toggling KVM_MEM_READONLY
 * is EINVAL, KERNEL.md §2.3 row 13), so making it writable means deleting and re-creating it, a window in which the
 * guest loses that memory. That is the VM's choice to make (DELETE and POST the binding
 * again), not a side effect of a donation; the ledger keeps `readonly: true` for those views,
 * which is what the kernel enforces. New bindings of the promoted file are writable.
 */
function promote(grant: FileRow, donorFileId: string): FileRow {
  return { ...grant, role: 'owner', permissions: [...OWNER_PERMISSIONS], grantedByFileId: donorFileId };
}
