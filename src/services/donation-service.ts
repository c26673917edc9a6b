// Donation: ownership of an inode moves to another VM. The old owner's memslots go first,
// then one record closes its file and opens the new owner's. The memory itself does not
// move: the guest_memfd and gmemd's mapping stay, so the contents stay. A target that
// already holds a grant on the inode keeps that file, promoted to owner (promote()).
import { ok, type Result } from '../domain/result.js';
import { OWNER_PERMISSIONS } from '../domain/permissions.js';
import { checkDonate, checkDonor } from '../domain/sharing-rules.js';
import { newId } from '../store/ids.js';
import type { FileRow } from '../store/rows.js';
import type { Caller, ServiceContext } from './context.js';
import { activeVm } from './vm-service.js';
import { fileWithInode } from './file-service.js';
import { createMemslot, deleteMemslot } from './memslots.js';
import type { Step } from './pipeline/command.js';
import { run } from './pipeline/run.js';

export function donateFile(ctx: ServiceContext, caller: Caller, fileId: string, input: { vmId: string }): Promise<Result<{ from: FileRow; to: FileRow }>> {
  const { store } = ctx;
  return run(ctx, caller, {
    action: 'file.donate', subjects: { fileId }, keys: 'global',
    decide: (scope) => {
      const found = fileWithInode(ctx, fileId);
      if (!found.ok) return found;
      const { file, inode } = found.value;
      scope.about({ vmId: input.vmId, inodeId: inode.id });
      const donor = checkDonor(file);
      if (!donor.ok) return donor;
      const target = activeVm(ctx, input.vmId);
      if (!target.ok) return target;
      const migrations = [file.vmId, input.vmId].flatMap((vmId) => { const m = store.migrations.unfinishedFor(vmId); return m ? [{ id: m.id, vmId }] : []; });
      const existing = store.files.liveFor(inode.id, input.vmId) ?? null;
      const can = checkDonate({ file, inode, toVmId: input.vmId, existing, migrations });
      if (!can.ok) return can;
      const bindings = store.bindings.activeByFile(file.id);
      const steps: Step[] = [
        ...bindings.map((b): Step => ({ id: `delete:${b.id}`, run: () => deleteMemslot(ctx, b), undo: () => createMemslot(ctx, b) })),
        { crash: 'file.donate:memslots_deleted' },
      ];
      return ok({
        intent: { kind: 'file.donate', payload: { fileId, toVmId: input.vmId, bindings: bindings.map((b) => b.id) }, crash: 'file.donate:intent' },
        steps,
        record: (rec) => {
          const t = rec.time;
          const to: FileRow = existing ? promote(existing, file.id) : {
            id: newId('file', t), inodeId: inode.id, vmId: input.vmId, role: 'owner', permissions: [...OWNER_PERMISSIONS],
            grantedByFileId: file.id, migrationId: null, state: 'open', createdAt: t, endedAt: null,
          };
          for (const b of bindings) rec.bindingDeleted(b, { cause: 'file.donate' });
          store.files.update(file.id, { state: 'closed', endedAt: t });
          if (existing) store.files.update(to.id, { role: to.role, permissions: to.permissions, grantedByFileId: to.grantedByFileId });
          else store.files.insert(to);
          store.inodes.setOwner(inode.id, input.vmId);
          const e = rec.event('file.donate', { ...scope.subjects, fileId: to.id },
            { fromVmId: file.vmId, toVmId: input.vmId, fromFileId: file.id, toFileId: to.id, role: 'owner',
              ...(existing ? { promoted: true, fromRole: existing.role, fromPermissions: existing.permissions } : {}) });
          store.access.close(file.id, { time: e.time, seq: e.seq });
          // The promoted file's grantee period ends where its owner period begins.
          if (existing) store.access.change(to, { time: e.time, seq: e.seq });
          else store.access.open(to, { time: e.time, seq: e.seq });
          return { from: store.files.get(file.id)!, to: store.files.get(to.id)! };
        },
      });
    },
  });
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
