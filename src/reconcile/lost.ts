// Marking what the process no longer holds as lost. Kernel objects die with the process that
// created them, so a VM without a kernel VM here, an inode without its guest_memfd here, and
// every file and binding that depended on one of them can no longer be what the ledger says.
// They are marked `lost`, never deleted, one `reconcile.lost` event each, written by the
// record of the command that found them (start-up, adoption, repair); a file's access period
// ends at its event. Prepared migrations that lost a side are aborted, since neither side can
// commit any more. No kernel calls here.
import type { ServiceContext } from '../services/context.js';
import type { Subjects } from '../services/pipeline/command.js';
import type { Recorder } from '../services/pipeline/recorder.js';

export interface LostReport { vms: string[]; inodes: string[]; files: string[]; bindings: string[]; migrations: string[] }

export type LostCause = 'startup' | 'handover' | 'repair';

/** Who else holds a kernel inode (from a /proc scan), to say where lost memory may still live. */
export type HoldersByIno = Map<number, { pid: number; command: string }[]>;
/** Asked at most once, and only if an inode is being marked lost: a /proc scan is not free. */
export type HoldersLookup = () => HoldersByIno;

export const emptyLost = (): LostReport => ({ vms: [], inodes: [], files: [], bindings: [], migrations: [] });

/** Writes, through `rec`, the lost marking of everything the registry does not hold. */
export function recordUnheld(ctx: ServiceContext, rec: Recorder, cause: LostCause, lookup?: HoldersLookup): LostReport {
  const { store, registry } = ctx;
  const t = rec.time;
  const report = emptyLost();
  const lost = (subjects: Subjects, details: Record<string, unknown>) => rec.event('reconcile.lost', subjects, { cause, ...details });

  for (const vm of store.vms.listByState('active')) {
    if (registry.vmFd(vm.id) !== undefined) continue;
    store.vms.setState(vm.id, 'lost', t);
    lost({ vmId: vm.id }, { object: 'vm', from: 'active', reason: 'no kernel VM in this process' });
    report.vms.push(vm.id);
  }
  let holders: HoldersByIno | undefined;
  for (const ino of store.inodes.listByState('live')) {
    if (registry.gmem(ino.id)) continue;
    store.inodes.setState(ino.id, 'lost', t);
    holders ??= lookup?.() ?? new Map();
    const heldBy = holders.get(ino.kernelInode);
    lost({ inodeId: ino.id, vmId: ino.ownerVmId }, { object: 'inode', from: 'live', reason: 'no guest_memfd in this process',
      kernelInode: ino.kernelInode, ...(heldBy?.length ? { heldBy } : {}) });
    report.inodes.push(ino.id);
  }
  const lostFiles = new Set<string>();
  for (const f of store.files.allLive()) {
    const why = whyUnheld(ctx, f.vmId, f.inodeId);
    if (!why) continue;
    store.files.update(f.id, { state: 'lost', endedAt: t });
    const e = lost({ vmId: f.vmId, inodeId: f.inodeId, fileId: f.id }, { object: 'file', from: f.state, role: f.role, reason: why });
    store.access.close(f.id, { time: e.time, seq: e.seq });
    lostFiles.add(f.id);
    report.files.push(f.id);
  }
  for (const b of store.bindings.allActive()) {
    const why = lostFiles.has(b.fileId) ? 'its file is lost' : whyUnheld(ctx, b.vmId, b.inodeId);
    if (!why) continue;
    store.bindings.update(b.id, { state: 'lost', endedAt: t });
    lost({ vmId: b.vmId, inodeId: b.inodeId, fileId: b.fileId, bindingId: b.id }, { object: 'binding', from: 'active', slot: b.slot, gpa: b.gpa, reason: why });
    report.bindings.push(b.id);
  }
  const active = (vmId: string) => store.vms.get(vmId)?.state === 'active';
  for (const m of store.migrations.listByState('prepared')) {
    if (active(m.sourceVmId) && active(m.targetVmId)) continue;
    // Pending files of a lost target are lost above; those of a held target just close, as on abort.
    for (const f of store.files.byMigration(m.id)) if (f.state === 'pending') store.files.update(f.id, { state: 'closed', endedAt: t });
    store.migrations.setState(m.id, 'aborted', t);
    lost({ vmId: m.sourceVmId, migrationId: m.id }, { object: 'migration', from: 'prepared', to: 'aborted',
      reason: 'a VM taking part in it is lost', targetVmId: m.targetVmId });
    report.migrations.push(m.id);
  }
  return report;
}

function whyUnheld(ctx: ServiceContext, vmId: string, inodeId: string): string | null {
  if (ctx.registry.vmFd(vmId) === undefined) return 'its VM has no kernel VM in this process';
  if (!ctx.registry.gmem(inodeId)) return 'its inode has no guest_memfd in this process';
  return null;
}
