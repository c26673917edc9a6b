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
/** A /proc scan's answer; `skipped` processes were not read (it stopped at its deadline). */
export interface Holders { byIno: HoldersByIno; skipped: number }
/** Asked at most once, before the transaction, and only if an inode may be marked lost: a /proc scan is not free. */
export type HoldersLookup = () => Holders;

export const emptyLost = (): LostReport => ({ vms: [], inodes: [], files: [], bindings: [], migrations: [] });

/**
 * Writes, through `rec`, the lost marking of everything the registry does not hold. After a
 * crash that is every row: each table is marked with one set-based UPDATE (store/bulk.ts),
 * then the events are appended in order, one per object, in the same transaction.
 */
export function recordUnheld(ctx: ServiceContext, rec: Recorder, cause: LostCause, holders?: Holders): LostReport {
  const { store, registry } = ctx;
  const t = rec.time;
  const report = emptyLost();
  const lost = (subjects: Subjects, details: Record<string, unknown>) => rec.event('reconcile.lost', subjects, { cause, ...details });

  const vms = store.vms.listByState('active').filter((vm) => registry.vmFd(vm.id) === undefined);
  store.vms.markLost(report.vms = vms.map((vm) => vm.id), t);
  for (const vm of vms) lost({ vmId: vm.id }, { object: 'vm', from: 'active', reason: 'no kernel VM in this process' });

  const inodes = store.inodes.liveRefs().filter((ino) => !registry.gmem(ino.id));
  store.inodes.markLost(report.inodes = inodes.map((ino) => ino.id), t);
  // Not found by a scan that stopped early is not "held by no one": the event says so.
  const unknown = holders?.skipped ? { heldByUnknown: `the /proc scan stopped at its deadline, ${holders.skipped} processes unread` } : {};
  for (const ino of inodes) {
    const heldBy = holders?.byIno.get(ino.kernelInode);
    lost({ inodeId: ino.id, vmId: ino.ownerVmId }, { object: 'inode', from: 'live', reason: 'no guest_memfd in this process',
      kernelInode: ino.kernelInode, ...(heldBy?.length ? { heldBy } : unknown) });
  }

  const files = store.files.liveRefs().flatMap((f) => { const why = whyUnheld(ctx, f.vmId, f.inodeId); return why ? [{ f, why }] : []; });
  store.files.markLost(report.files = files.map(({ f }) => f.id), t);
  // A file's access period ends at its own event.
  store.access.closeMany(files.map(({ f, why }) => {
    const e = lost({ vmId: f.vmId, inodeId: f.inodeId, fileId: f.id }, { object: 'file', from: f.state, role: f.role, reason: why });
    return { fileId: f.id, time: e.time, seq: e.seq };
  }));

  const lostFiles = new Set(report.files);
  const bindings = store.bindings.activeRefs().flatMap((b) => {
    const why = lostFiles.has(b.fileId) ? 'its file is lost' : whyUnheld(ctx, b.vmId, b.inodeId);
    return why ? [{ b, why }] : [];
  });
  store.bindings.markLost(report.bindings = bindings.map(({ b }) => b.id), t);
  for (const { b, why } of bindings) {
    lost({ vmId: b.vmId, inodeId: b.inodeId, fileId: b.fileId, bindingId: b.id }, { object: 'binding', from: 'active', slot: b.slot, gpa: b.gpa, reason: why });
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

/** Whether a live inode has no guest_memfd here, i.e. recordUnheld would mark one lost. */
export function anyInodeUnheld(ctx: ServiceContext): boolean {
  const live = ctx.store.inodes.countLive();
  // More live inodes than guest_memfds held: one at least is not (the common case, a crash, decided by a count).
  if (live > ctx.registry.gmems.size) return true;
  return live > 0 && ctx.store.inodes.listByState('live').some((ino) => !ctx.registry.gmem(ino.id));
}

function whyUnheld(ctx: ServiceContext, vmId: string, inodeId: string): string | null {
  if (ctx.registry.vmFd(vmId) === undefined) return 'its VM has no kernel VM in this process';
  if (!ctx.registry.gmem(inodeId)) return 'its inode has no guest_memfd in this process';
  return null;
}
