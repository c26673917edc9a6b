// fallocate on an inode through a file that holds `allocate` (the owner's): allocate with
// KEEP_SIZE, punch with PUNCH_HOLE|KEEP_SIZE. A punch zeroes the range in every VM's view.
import { err, ok, type Result } from '../domain/result.js';
import { checkCanAllocate } from '../domain/permissions.js';
import { checkFileRange } from '../domain/ranges.js';
import { FALLOC } from '../kvm/uapi.js';
import type { FileRow, InodeRow } from '../store/rows.js';
import type { Caller, ServiceContext } from './context.js';
import { run } from './pipeline/run.js';

export interface RangeInput { offset: number; length: number }

export function fileWithInode(ctx: ServiceContext, fileId: string): Result<{ file: FileRow; inode: InodeRow }> {
  const file = ctx.store.files.get(fileId);
  if (!file) return err('file.not_found', `no file ${fileId}`, { fileId });
  return ok({ file, inode: ctx.store.inodes.get(file.inodeId)! });
}

function fallocate(ctx: ServiceContext, caller: Caller, fileId: string, input: RangeInput, punch: boolean): Promise<Result<{ file: FileRow; offset: number; length: number }>> {
  const action = punch ? 'inode.punch_hole' : 'inode.allocate';
  return run(ctx, caller, {
    action, subjects: { fileId }, keys: [],
    decide: (scope) => {
      const found = fileWithInode(ctx, fileId);
      if (!found.ok) return found;
      const { file, inode } = found.value;
      scope.about({ vmId: file.vmId, inodeId: inode.id });
      const allowed = checkCanAllocate(file);
      if (!allowed.ok) return allowed;
      const range = checkFileRange(input.offset, input.length, inode.size);
      if (!range.ok) return range;
      const gm = ctx.registry.gmem(inode.id)!;
      const mode = punch ? FALLOC.PUNCH_HOLE | FALLOC.KEEP_SIZE : FALLOC.KEEP_SIZE;
      return ok({
        details: { ...input },
        // Allocation and a punched hole cannot be taken back: a failed record leaves them
        // (they change contents, not who can reach them) and writes stop until a reconcile.
        steps: [{ id: 'fallocate', run: () => ctx.kvm.fallocate(gm.fd, mode, BigInt(input.offset), BigInt(input.length)) }],
        record: (rec) => { rec.event(action, scope.subjects, { ...input }); return { file, ...input }; },
      });
    },
  });
}

export const allocate = (ctx: ServiceContext, caller: Caller, fileId: string, input: RangeInput) =>
  fallocate(ctx, caller, fileId, input, false);
export const punchHole = (ctx: ServiceContext, caller: Caller, fileId: string, input: RangeInput) =>
  fallocate(ctx, caller, fileId, input, true);
