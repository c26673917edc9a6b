// Share and revoke. A share creates the grantee's file and nothing in the kernel until
// the grantee binds it; a revoke deletes the grantee's memslots (the kernel stops access)
// before the ledger records the file closed, and takes the grants made from it along.
import { ok, type Result } from '../domain/result.js';
import { checkRevoke, checkShare } from '../domain/sharing-rules.js';
import { newId } from '../store/ids.js';
import type { FileRow } from '../store/rows.js';
import type { Caller, ServiceContext } from './context.js';
import { activeVm } from './vm-service.js';
import { fileWithInode } from './file-service.js';
import { closeFilesPlan, type ClosedSummary } from './teardown.js';
import { descendants } from './grants.js';
import { run } from './pipeline/run.js';

export interface ShareInput { vmId: string; permissions: string[] }

export function shareFile(ctx: ServiceContext, caller: Caller, fileId: string, input: ShareInput): Promise<Result<FileRow>> {
  const { store } = ctx;
  // A file's inode never changes, so the key can be known before deciding: one live file per (inode, VM).
  const inodeId = store.files.get(fileId)?.inodeId ?? '?';
  return run(ctx, caller, {
    action: 'file.share', subjects: { fileId }, keys: [`file.live:${inodeId}:${input.vmId}`],
    decide: (scope) => {
      const found = fileWithInode(ctx, fileId);
      if (!found.ok) return found;
      const { file, inode } = found.value;
      scope.about({ vmId: input.vmId, inodeId: inode.id });
      const target = activeVm(ctx, input.vmId);
      if (!target.ok) return target;
      const mig = store.migrations.unfinishedFor(input.vmId);
      const perms = checkShare({ file, inode, toVmId: input.vmId, permissions: input.permissions,
        existing: store.files.liveFor(inode.id, input.vmId) ?? null, targetMigration: mig ? { id: mig.id, vmId: input.vmId } : null });
      if (!perms.ok) return perms;
      const t = ctx.now();
      const grantee: FileRow = {
        id: newId('file', t), inodeId: inode.id, vmId: input.vmId, role: 'grantee', permissions: perms.value,
        grantedByFileId: file.id, migrationId: null, state: 'open', createdAt: t, endedAt: null,
      };
      return ok({
        beforeRecord: 'file.share:before_commit',
        record: (rec) => {
          store.files.insert(grantee);
          const e = rec.event('file.share', { ...scope.subjects, fileId: grantee.id },
            { grantorFileId: file.id, fromVmId: file.vmId, toVmId: input.vmId, permissions: perms.value });
          store.access.open(grantee, { time: e.time, seq: e.seq });
          return grantee;
        },
      });
    },
  });
}

export function revokeFile(ctx: ServiceContext, caller: Caller, fileId: string): Promise<Result<ClosedSummary>> {
  const { store } = ctx;
  return run(ctx, caller, {
    action: 'file.revoke', subjects: { fileId }, keys: 'global',
    decide: (scope) => {
      const found = fileWithInode(ctx, fileId);
      if (!found.ok) return found;
      const { file } = found.value;
      scope.about({ vmId: file.vmId, inodeId: file.inodeId });
      const can = checkRevoke(file);
      if (!can.ok) return can;
      const files = [file, ...descendants(store, file)];
      const close = closeFilesPlan(ctx, files, 'file.revoke');
      return ok({
        intent: { kind: 'file.revoke', payload: { files: files.map((f) => f.id) }, crash: 'file.revoke:intent' },
        steps: close.steps,
        record: close.record,
      });
    },
  });
}
