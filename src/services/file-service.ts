// fallocate on an inode through a file that holds `allocate` (the owner's): allocate with
// KEEP_SIZE, punch with PUNCH_HOLE|KEEP_SIZE. A punch zeroes the range in every VM's view.
import { err, ok, type Result } from '../domain/result.js';
import { checkCanAllocate } from '../domain/permissions.js';
import { checkFileRange } from '../domain/ranges.js';
import { FALLOC } from '../kvm/uapi.js';
import type { FileRow, InodeRow } from '../store/rows.js';
import type { Caller, ServiceContext } from './context.js';
import { check, event, failKernel } from './outcomes.js';

export interface RangeInput { offset: number; length: number }

export function fileWithInode(ctx: ServiceContext, fileId: string): Result<{ file: FileRow; inode: InodeRow }> {
  const file = ctx.store.files.get(fileId);
  if (!file) return err('file.not_found', `no file ${fileId}`, { fileId });
  return ok({ file, inode: ctx.store.inodes.get(file.inodeId)! });
}

function fallocate(ctx: ServiceContext, caller: Caller, fileId: string, input: RangeInput, punch: boolean): Result<{ file: FileRow; offset: number; length: number }> {
  const action = punch ? 'inode.punch_hole' : 'inode.allocate';
  const found = check(ctx, caller, action, { fileId }, fileWithInode(ctx, fileId));
  if (!found.ok) return found;
  const { file, inode } = found.value;
  const subjects = { vmId: file.vmId, inodeId: inode.id, fileId };
  const allowed = check(ctx, caller, action, subjects, checkCanAllocate(file));
  if (!allowed.ok) return allowed;
  const range = check(ctx, caller, action, subjects, checkFileRange(input.offset, input.length, inode.size));
  if (!range.ok) return range;
  const gm = ctx.registry.gmem(inode.id)!;
  const mode = punch ? FALLOC.PUNCH_HOLE | FALLOC.KEEP_SIZE : FALLOC.KEEP_SIZE;
  const r = ctx.kvm.fallocate(gm.fd, mode, BigInt(input.offset), BigInt(input.length));
  if (!r.ok) return failKernel(ctx, caller, action, subjects, r.error, { ...input });
  ctx.store.uow.run(() => ctx.store.chain.append(event(caller, action, subjects, { ...input })));
  return ok({ file, ...input });
}

export const allocate = (ctx: ServiceContext, caller: Caller, fileId: string, input: RangeInput) =>
  fallocate(ctx, caller, fileId, input, false);
export const punchHole = (ctx: ServiceContext, caller: Caller, fileId: string, input: RangeInput) =>
  fallocate(ctx, caller, fileId, input, true);
