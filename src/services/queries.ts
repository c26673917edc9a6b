// Read-side views that join several tables; no kernel calls, no writes.
import { err, ok, type Result } from '../domain/result.js';
import type { BindingRow, FileRow, InodeRow, VmRow } from '../store/rows.js';
import type { ServiceContext } from './context.js';

export interface VmDetail {
  vm: VmRow; files: FileRow[]; bindings: BindingRow[];
  memory: { ownedBytes: number; ownedInodes: number; boundBytes: number; openFiles: number };
}

export function vmDetail(ctx: ServiceContext, vmId: string): Result<VmDetail> {
  const { store } = ctx;
  const vm = store.vms.get(vmId);
  if (!vm) return err('vm.not_found', `no VM ${vmId}`, { vmId });
  const files = store.files.byVm(vmId);
  const bindings = store.bindings.activeByVm(vmId);
  const owned = files.filter((f) => f.role === 'owner' && f.state === 'open').map((f) => store.inodes.get(f.inodeId)!);
  return ok({
    vm, files, bindings,
    memory: {
      ownedBytes: owned.reduce((s, i) => s + i.size, 0), ownedInodes: owned.length,
      boundBytes: bindings.reduce((s, b) => s + b.size, 0), openFiles: files.filter((f) => f.state === 'open').length,
    },
  });
}

export interface InodeDetail { inode: InodeRow; files: FileRow[]; bindings: BindingRow[] }

export function inodeDetail(ctx: ServiceContext, inodeId: string): Result<InodeDetail> {
  const { store } = ctx;
  const inode = store.inodes.get(inodeId);
  if (!inode) return err('inode.not_found', `no inode ${inodeId}`, { inodeId });
  return ok({ inode, files: store.files.byInode(inodeId), bindings: store.bindings.activeByInode(inodeId) });
}
