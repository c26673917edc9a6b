// Share and revoke. A share creates the grantee's file and nothing in the kernel until
// the grantee binds it; a revoke deletes the grantee's memslots (the kernel stops access)
// before the ledger records the file closed, and takes the grants made from it along.
import { err, ok, type Result } from '../domain/result.js';
import { checkGrant } from '../domain/permissions.js';
import { newId } from '../store/ids.js';
import type { FileRow } from '../store/rows.js';
import type { Caller, ServiceContext } from './context.js';
import { check, deny, event } from './outcomes.js';
import { activeVm } from './vm-service.js';
import { fileWithInode } from './file-service.js';
import { closeFiles, type ClosedSummary } from './teardown.js';
import { descendants } from './grants.js';

export interface ShareInput { vmId: string; permissions: string[] }

export function shareFile(ctx: ServiceContext, caller: Caller, fileId: string, input: ShareInput): Result<FileRow> {
  const { store } = ctx;
  const found = check(ctx, caller, 'file.share', { fileId }, fileWithInode(ctx, fileId));
  if (!found.ok) return found;
  const { file, inode } = found.value;
  const subjects = { vmId: input.vmId, inodeId: inode.id, fileId };
  const refuse = (code: Parameters<typeof err>[0], message: string, details?: Record<string, unknown>) =>
    deny(ctx, caller, 'file.share', subjects, { code, message, details });
  const target = check(ctx, caller, 'file.share', subjects, activeVm(ctx, input.vmId));
  if (!target.ok) return target;
  if (!inode.shareable) return refuse('inode.not_shareable', `inode ${inode.id} is private (created without MMAP|INIT_SHARED) and cannot be shared`);
  if (input.vmId === file.vmId) return refuse('file.same_vm', `VM ${input.vmId} already holds file ${file.id} on this inode`);
  const perms = check(ctx, caller, 'file.share', subjects, checkGrant(file, input.permissions));
  if (!perms.ok) return perms;
  const existing = store.files.liveFor(inode.id, input.vmId);
  if (existing) return refuse('file.already_open', `VM ${input.vmId} already holds file ${existing.id} on inode ${inode.id}`, { existingFileId: existing.id });
  const mig = store.migrations.unfinishedFor(input.vmId);
  if (mig) return refuse('vm.in_migration', `VM ${input.vmId} takes part in migration ${mig.id}`, { migrationId: mig.id });

  const t = ctx.now();
  const grantee: FileRow = {
    id: newId('file', t), inodeId: inode.id, vmId: input.vmId, role: 'grantee', permissions: perms.value,
    grantedByFileId: file.id, migrationId: null, state: 'open', createdAt: t, endedAt: null,
  };
  ctx.crashPoint('file.share:before_commit');
  store.uow.run(() => {
    store.files.insert(grantee);
    const e = store.chain.append(event(caller, 'file.share', { ...subjects, fileId: grantee.id },
      { grantorFileId: file.id, fromVmId: file.vmId, toVmId: input.vmId, permissions: perms.value }));
    store.access.open(grantee, { time: e.time, seq: e.seq });
  });
  return ok(grantee);
}

export function revokeFile(ctx: ServiceContext, caller: Caller, fileId: string): Result<ClosedSummary> {
  const { store } = ctx;
  const found = check(ctx, caller, 'file.revoke', { fileId }, fileWithInode(ctx, fileId));
  if (!found.ok) return found;
  const { file } = found.value;
  const subjects = { vmId: file.vmId, inodeId: file.inodeId, fileId };
  if (file.role !== 'grantee') {
    return deny(ctx, caller, 'file.revoke', subjects, { code: 'file.not_grantee', message: 'the owner file is not a grant; donate it or destroy its VM' });
  }
  if (file.state !== 'open') return deny(ctx, caller, 'file.revoke', subjects, { code: 'file.not_open', message: `file ${fileId} is ${file.state}` });
  const files = [file, ...descendants(store, file)];
  const intent = store.uow.run(() => store.intents.open('file.revoke', { files: files.map((f) => f.id) }));
  ctx.crashPoint('file.revoke:intent');
  return ok(closeFiles(ctx, caller, files, 'file.revoke', intent.id));
}
