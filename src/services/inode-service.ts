// Inode creation: KVM_CREATE_GUEST_MEMFD on the owner VM (flags MMAP|INIT_SHARED when
// shareable), fstat for the kernel inode number, and for a shareable inode one MAP_SHARED
// mapping that every other VM's view points at.
import { ok, type Result } from '../domain/result.js';
import { checkInodeSize } from '../domain/ranges.js';
import { OWNER_PERMISSIONS } from '../domain/permissions.js';
import { GMEM_FLAGS_SHAREABLE, MAP, PROT } from '../kvm/uapi.js';
import { newId } from '../store/ids.js';
import type { FileRow, InodeRow } from '../store/rows.js';
import type { Caller, ServiceContext } from './context.js';
import { check, event, failKernel } from './outcomes.js';
import { activeVm } from './vm-service.js';

export interface CreateInodeInput { ownerVmId: string; size: number; shareable?: boolean; labels?: Record<string, string> }

export function createInode(ctx: ServiceContext, caller: Caller, input: CreateInodeInput): Result<{ inode: InodeRow; file: FileRow }> {
  const { store, kvm } = ctx;
  const subjects = { vmId: input.ownerVmId };
  const vm = activeVm(ctx, input.ownerVmId);
  if (!vm.ok) return check(ctx, caller, 'inode.create', subjects, vm);
  const size = check(ctx, caller, 'inode.create', subjects, checkInodeSize(input.size));
  if (!size.ok) return size;
  const shareable = input.shareable ?? true;
  const vmFd = ctx.registry.vmFd(vm.value.id)!;

  const gm = kvm.createGuestMemfd(vmFd, BigInt(input.size), shareable ? GMEM_FLAGS_SHAREABLE : 0n);
  if (!gm.ok) return failKernel(ctx, caller, 'inode.create', subjects, gm.error, { size: input.size, shareable });
  const undo = (mapping?: bigint) => { if (mapping !== undefined) kvm.munmap(mapping, BigInt(input.size)); kvm.close(gm.value); };
  const st = kvm.fstat(gm.value);
  if (!st.ok) { undo(); return failKernel(ctx, caller, 'inode.create', subjects, st.error); }
  let mapping: bigint | undefined;
  if (shareable) {
    const m = kvm.mmap(gm.value, BigInt(input.size), PROT.READ | PROT.WRITE, MAP.SHARED, 0n);
    if (!m.ok) { undo(); return failKernel(ctx, caller, 'inode.create', subjects, m.error, { size: input.size }); }
    mapping = m.value;
  }

  const t = ctx.now();
  const inode: InodeRow = {
    id: newId('ino', t), size: input.size, shareable, kernelInode: Number(st.value.ino),
    originVmId: vm.value.id, ownerVmId: vm.value.id, labels: input.labels ?? {}, state: 'live', createdAt: t, endedAt: null,
  };
  const file: FileRow = {
    id: newId('file', t), inodeId: inode.id, vmId: vm.value.id, role: 'owner', permissions: [...OWNER_PERMISSIONS],
    grantedByFileId: null, migrationId: null, state: 'open', createdAt: t, endedAt: null,
  };
  try {
    store.uow.run(() => {
      store.inodes.insert(inode);
      store.files.insert(file);
      const e = store.chain.append(event(caller, 'inode.create', { vmId: vm.value.id, inodeId: inode.id, fileId: file.id },
        { size: inode.size, shareable, kernelInode: inode.kernelInode, toVmId: vm.value.id, role: 'owner' }));
      store.access.open(file, { time: e.time, seq: e.seq });
    });
  } catch (e) {
    undo(mapping);
    throw e;
  }
  ctx.registry.setGmem(inode.id, {
    fd: gm.value, kernelOriginVmId: vm.value.id, size: inode.size,
    mapping: mapping === undefined ? null : { addr: mapping, length: BigInt(inode.size) },
  });
  return ok({ inode, file });
}
