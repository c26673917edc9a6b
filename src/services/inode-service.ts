// Inode creation: KVM_CREATE_GUEST_MEMFD on the owner VM (flags MMAP|INIT_SHARED when
// shareable), fstat for the kernel inode number, and for a shareable inode one MAP_SHARED
// mapping that every other VM's view points at.
import { ok, type Result } from '../domain/result.js';
import { checkInodeSize } from '../domain/ranges.js';
import { checkInodeQuota } from '../domain/quotas.js';
import { OWNER_PERMISSIONS } from '../domain/permissions.js';
import { GMEM_FLAGS_SHAREABLE, MAP, PROT } from '../kvm/uapi.js';
import { kok, type KResult } from '../kvm/kernel-error.js';
import { newId } from '../store/ids.js';
import type { FileRow, InodeRow } from '../store/rows.js';
import type { Caller, ServiceContext } from './context.js';
import { run } from './pipeline/run.js';
import { activeVm } from './vm-service.js';

export interface CreateInodeInput { ownerVmId: string; size: number; shareable?: boolean; labels?: Record<string, string> }

export function createInode(ctx: ServiceContext, caller: Caller, input: CreateInodeInput): Promise<Result<{ inode: InodeRow; file: FileRow }>> {
  const { store, kvm, registry } = ctx;
  const shareable = input.shareable ?? true;
  const t = ctx.now();
  const inodeId = newId('ino', t);
  let release = () => {};
  return run(ctx, caller, {
    action: 'inode.create', subjects: { vmId: input.ownerVmId },
    // Reads only what global commands change (the VM's state) and the quota, which in-flight
    // creates reserve (pending-quota.ts): no key of its own, so creates still batch.
    keys: [],
    decide: () => {
      const vm = activeVm(ctx, input.ownerVmId);
      if (!vm.ok) return vm;
      const size = checkInodeSize(input.size);
      if (!size.ok) return size;
      const { pending } = ctx.pipeline;
      const live = store.inodes.liveTotals();
      const quota = checkInodeQuota({ inodes: live.inodes + pending.inodes, bytes: live.bytes + pending.inodeBytes }, input.size, ctx.limits);
      if (!quota.ok) return quota;
      release = pending.hold({ inodes: 1, inodeBytes: input.size });
      const vmFd = registry.vmFd(vm.value.id)!;
      const bytes = BigInt(input.size);
      let gmemFd = -1;
      let mapping: bigint | undefined;
      const mapped = (r: KResult<bigint>) => { if (r.ok) mapping = r.value; return r; };
      return ok({
        details: { size: input.size, shareable },
        steps: [
          { id: 'gmem', run: () => { const r = kvm.createGuestMemfd(vmFd, bytes, shareable ? GMEM_FLAGS_SHAREABLE : 0n); if (r.ok) gmemFd = r.value; return r; },
            undo: () => kvm.close(gmemFd) },
          { id: 'fstat', effect: false, run: () => kvm.fstat(gmemFd) },
          ...(shareable ? [{ id: 'mmap', run: () => mapped(kvm.mmap(gmemFd, bytes, PROT.READ | PROT.WRITE, MAP.SHARED, 0n)),
            // Off the event loop when served: a VM create elsewhere can hold the mmap lock for milliseconds (kvm-host.ts).
            start: () => kvm.mmapAsync(gmemFd, bytes, PROT.READ | PROT.WRITE, MAP.SHARED, 0n).then(mapped),
            undo: () => kvm.munmap(mapping!, bytes) }] : []),
          { id: 'register', run: () => {
            registry.setGmem(inodeId, { fd: gmemFd, kernelOriginVmId: vm.value.id, size: input.size,
              mapping: mapping === undefined ? null : { addr: mapping, length: bytes } });
            return kok(undefined);
          }, undo: () => { registry.forgetGmem(inodeId); return kok(undefined); } },
        ],
        record: (rec, log) => {
          const st = log.value<{ ino: bigint }>('fstat');
          const inode: InodeRow = {
            id: inodeId, size: input.size, shareable, kernelInode: Number(st.ino), originVmId: vm.value.id, ownerVmId: vm.value.id,
            labels: input.labels ?? {}, state: 'live', createdAt: t, endedAt: null,
          };
          const file: FileRow = {
            id: newId('file', t), inodeId, vmId: vm.value.id, role: 'owner', permissions: [...OWNER_PERMISSIONS],
            grantedByFileId: null, migrationId: null, state: 'open', createdAt: t, endedAt: null,
          };
          store.inodes.insert(inode);
          release();
          store.files.insert(file);
          const e = rec.event('inode.create', { vmId: vm.value.id, inodeId, fileId: file.id },
            { size: inode.size, shareable, kernelInode: inode.kernelInode, toVmId: vm.value.id, role: 'owner' });
          store.access.open(file, { time: e.time, seq: e.seq });
          return { inode, file };
        },
        settled: () => release(),
      });
    },
  });
}
