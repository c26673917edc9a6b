// The successor's side of a handover (KERNEL.md, first section: probe-handover.c). KVM ties a
// VM to the process that created it (its ioctls from here get EIO), but an inherited
// guest_memfd can be mapped here, and a fresh VM's plain memslot over that mapping reaches
// the same memory. So: map every inherited gmem, create a new kernel VM for every ledger VM,
// and re-create every memslot as a view (read-only unless its file may write). All kernel
// work first, outside any transaction (adoptKernel); the ledger records it in one transaction
// (recordAdoption): per VM a committed `handover` migration and a handover.adopt event, per
// inode a handover.adopt event, per memslot its new kind; then start-up reconcile marks what
// did not come over (e.g. a forced handover's private inodes) lost.
import { writeSync, closeSync } from 'node:fs';
import { MAP, PROT } from '../../kvm/uapi.js';
import type { MigrationPlan } from '../../domain/migration-plan.js';
import { newId } from '../../store/ids.js';
import type { BindingRow, MigrationRow } from '../../store/rows.js';
import type { ServiceContext } from '../../services/context.js';
import { createMemslot, type SlotError, type SlotSpec } from '../../services/memslots.js';
import { ok } from '../../domain/result.js';
import { refusalOf, runNow } from '../../services/pipeline/run.js';
import { bindingSubjects } from '../../services/pipeline/recorder.js';
import { SYSTEM_CALLER, recordStartup, type StartupReport } from '../../reconcile/startup.js';
import type { HandoverSummary } from '../lifecycle.js';
import type { HandoverManifest } from './manifest.js';

export interface AdoptedKernel {
  inodes: { inodeId: string; fd: number; kernelInode: number }[];
  vms: string[];
  views: { binding: BindingRow; spec: SlotSpec }[];
  failed: { binding: BindingRow; error: SlotError }[];
  /** Inherited fds that were not what the ledger says (closed again, their inodes become lost). */
  refused: { inodeId: string; reason: string }[];
}

export function adoptKernel(ctx: ServiceContext, m: HandoverManifest): AdoptedKernel {
  const { store, kvm, registry } = ctx;
  const imported = kvm.importGmems(m.gmemFds, m.stateFile);
  if (!imported.ok) throw new Error(`handover: importing the guest_memfds failed: ${imported.error.message}`);
  const out: AdoptedKernel = { inodes: [], vms: [], views: [], failed: [], refused: [] };
  m.inodes.forEach((h, i) => {
    const fd = imported.value[i]!;
    const row = store.inodes.get(h.inodeId);
    const st = kvm.fstat(fd);
    const why = !row || row.state !== 'live' ? 'not live in the ledger' : !row.shareable ? 'private'
      : !st.ok ? `fstat: ${st.error.errno}` : st.value.ino !== BigInt(row.kernelInode) ? `fd is inode ${st.value.ino}, the ledger records ${row.kernelInode}` : null;
    const mapped = why ? null : kvm.mmap(fd, BigInt(h.size), PROT.READ | PROT.WRITE, MAP.SHARED, 0n);
    if (why || !mapped?.ok) {
      kvm.close(fd);
      out.refused.push({ inodeId: h.inodeId, reason: why ?? `mmap: ${mapped!.ok ? '' : mapped!.error.errno}` });
      return;
    }
    // No VM of this process created it: every memslot on it is a view (kernelOriginVmId null).
    registry.setGmem(h.inodeId, { fd, kernelOriginVmId: null, size: h.size, mapping: { addr: mapped.value, length: BigInt(h.size) } });
    out.inodes.push({ inodeId: h.inodeId, fd, kernelInode: h.kernelInode });
  });
  for (const vm of store.vms.listByState('active')) {
    const fd = kvm.createVm(vm.vmType);
    if (!fd.ok) continue; // not held: start-up reconcile marks it lost with its files and bindings
    registry.addVm(vm.id, fd.value);
    out.vms.push(vm.id);
  }
  for (const b of store.bindings.allActive()) {
    if (registry.vmFd(b.vmId) === undefined || !registry.gmem(b.inodeId)) continue;
    const file = store.files.get(b.fileId);
    if (!file || file.state !== 'open') continue;
    const writable = file.permissions.includes('write');
    const spec: SlotSpec = { vmId: b.vmId, inodeId: b.inodeId, slot: b.slot, gpa: b.gpa, offset: b.offset, size: b.size, kind: 'view', readonly: !writable };
    const r = createMemslot(ctx, spec);
    if (r.ok) out.views.push({ binding: b, spec }); else out.failed.push({ binding: b, error: r.error });
  }
  ctx.crashPoint('handover.adopt:kernel');
  return out;
}

export function recordAdoption(ctx: ServiceContext, m: HandoverManifest, k: AdoptedKernel): { summary: HandoverSummary; startup: StartupReport } {
  const { store } = ctx;
  const base = { handoverId: m.handoverId, fromPid: m.fromPid, toPid: process.pid };
  const before = store.chain.getHead().seq;
  const recorded = runNow(ctx, SYSTEM_CALLER, {
    action: 'handover.adopt', keys: 'global', maintenance: true,
    decide: () => ok({
      afterRecord: 'handover.adopt:recorded',
      record: (rec) => {
        const t = rec.time;
        const migrations: string[] = [];
        for (const vmId of k.vms) {
          const views = k.views.filter((v) => v.binding.vmId === vmId);
          // The plan has a migration's shape: the VM keeps its files; its memslots are re-created.
          const plan: MigrationPlan = {
            files: store.files.byVm(vmId, ['open']).map((f) => ({ sourceFileId: f.id, inodeId: f.inodeId, role: f.role, permissions: f.permissions,
              shareable: store.inodes.get(f.inodeId)!.shareable })),
            memslots: views.map(({ binding: b }) => ({ sourceBindingId: b.id, sourceFileId: b.fileId, inodeId: b.inodeId, slot: b.slot, gpa: b.gpa, offset: b.offset, size: b.size })),
          };
          const mig: MigrationRow = { id: newId('mig', t), sourceVmId: vmId, targetVmId: vmId, kind: 'handover', state: 'committed', plan, createdAt: t, endedAt: t };
          store.migrations.insert(mig);
          migrations.push(mig.id);
          rec.event('handover.adopt', { vmId, migrationId: mig.id }, { ...base, object: 'vm', memslots: views.length });
          for (const { binding: b, spec } of views) {
            store.bindings.update(b.id, { kind: spec.kind, readonly: spec.readonly });
            rec.bindingEvent({ ...b, kind: spec.kind, readonly: spec.readonly }, { migrationId: mig.id, cause: 'handover', recreated: true });
          }
        }
        for (const i of k.inodes) rec.event('handover.adopt', { inodeId: i.inodeId }, { ...base, object: 'inode', kernelInode: i.kernelInode, fd: i.fd });
        for (const { binding: b, error } of k.failed) {
          store.bindings.update(b.id, { state: 'lost', endedAt: t });
          rec.event('reconcile.lost', bindingSubjects(b), { cause: 'handover', object: 'binding', from: 'active', reason: 'its view could not be re-created',
            refusal: refusalOf(error).event });
        }
        const startup = recordStartup(ctx, rec, 'handover');
        const summary: HandoverSummary = {
          handoverId: m.handoverId, fromPid: m.fromPid, successorPid: process.pid, vms: k.vms, inodes: k.inodes.map((i) => i.inodeId),
          memslots: k.views.length, lostInodes: startup.lost.inodes, migrations, durationMs: Math.max(0, t - m.startedAt),
        };
        return { summary, startup: { at: t, cause: 'handover' as const, ...startup, events: null as StartupReport['events'] } };
      },
    }),
  });
  if (!recorded.ok) throw new Error(`handover: the adoption could not be recorded: ${recorded.error.message}`);
  const after = store.chain.getHead().seq;
  recorded.value.startup.events = after > before ? { from: before + 1, to: after } : null;
  return recorded.value;
}

/** Tells the old process this one serves: one JSON line on the inherited pipe, then EOF. */
export function reportReady(m: HandoverManifest, summary: HandoverSummary): void {
  try {
    writeSync(m.readyFd, `${JSON.stringify(summary)}\n`);
  } finally {
    closeSync(m.readyFd);
  }
}
