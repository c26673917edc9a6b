// Ledger vs kernel: every active VM, live inode, open file and active binding of the ledger
// against what this process holds (heldFds: /proc/self/fd and fdinfo; heldMappings:
// /proc/self/maps; memslots asked of the kernel one by one, memslot-probe.ts), and the other
// way round: kvm fds, gmem mappings and memslots the process holds that the ledger lacks.
// Read-only: it reports each difference with its kind; repair.ts acts on them.
import type { HeldFd, MemoryRegion } from '../kvm/kvm-host.js';
import { MEM } from '../kvm/uapi.js';
import { memslotExists, sweepMemslots } from '../kvm/memslot-probe.js';
import type { BindingRow, FileRow } from '../store/rows.js';
import type { ServiceContext } from '../services/context.js';
import { memslotRegion } from '../services/memslots.js';

export const DRIFT_KINDS = [
  'vm_fd_missing', 'vm_fd_unexpected', 'gmem_fd_missing', 'gmem_fd_unexpected', 'inode_number_mismatch',
  'mapping_missing', 'mapping_unexpected', 'file_orphaned',
  'memslot_missing', 'memslot_unexpected', 'memslot_mismatch', 'intent_open',
] as const;
export type DriftKind = (typeof DRIFT_KINDS)[number];

export interface DriftItem {
  kind: DriftKind;
  message: string;
  /** Whether repair (POST /v1/reconcile {repair: true}) can make ledger and kernel agree. */
  repairable: boolean;
  vmId?: string; inodeId?: string; fileId?: string; bindingId?: string; intentId?: string;
  slot?: number; fd?: number; ino?: number;
}

export interface DriftReport {
  items: DriftItem[];
  checked: { vms: number; inodes: number; files: number; bindings: number; memslots: number };
  /** The sweep (sweepSlots) stopped at its deadline before every VM's slot ids were probed. */
  sweepTruncated: boolean;
}

const str = (r: MemoryRegion) => `slot ${r.slot} gpa ${r.guestPhysAddr} size ${r.memorySize} flags ${r.flags}`;

export function detectDrift(ctx: ServiceContext, opts: { sweepSlots?: boolean; sweepDeadlineMs?: number } = {}): DriftReport {
  const { store, registry, kvm } = ctx;
  const items: DriftItem[] = [];
  const add = (i: DriftItem) => items.push(i);
  const held = kvm.heldFds();
  const mappings = kvm.heldMappings();
  const byFd = new Map<number, HeldFd>(held.ok ? held.value.map((h) => [h.fd, h]) : []);
  const holds = (fd: number | undefined, kind: HeldFd['kind']) => fd !== undefined && (!held.ok || byFd.get(fd)?.kind === kind);

  const vms = store.vms.listByState('active');
  const heldVms = new Map<string, number>();
  for (const vm of vms) {
    const fd = registry.vmFd(vm.id);
    if (holds(fd, 'kvm-vm')) heldVms.set(vm.id, fd!);
    else add({ kind: 'vm_fd_missing', vmId: vm.id, repairable: true, ...(fd !== undefined ? { fd } : {}),
      message: `VM ${vm.id} is active in the ledger but this process holds no kernel VM for it (repair marks it lost)` });
  }

  const inodes = store.inodes.listByState('live');
  const heldInodes = new Set<string>();
  for (const ino of inodes) {
    const gm = registry.gmem(ino.id);
    if (!gm || !holds(gm.fd, 'kvm-gmem')) {
      add({ kind: 'gmem_fd_missing', inodeId: ino.id, ino: ino.kernelInode, repairable: true,
        message: `inode ${ino.id} is live in the ledger but this process holds no guest_memfd for it (repair marks it lost)` });
      continue;
    }
    heldInodes.add(ino.id);
    const actual = byFd.get(gm.fd)?.ino;
    if (actual !== undefined && actual !== BigInt(ino.kernelInode)) {
      add({ kind: 'inode_number_mismatch', inodeId: ino.id, fd: gm.fd, ino: Number(actual), repairable: false,
        message: `fd ${gm.fd} of inode ${ino.id} is kernel inode ${actual}, the ledger records ${ino.kernelInode}` });
    }
    if (ino.shareable && mappings.ok) {
      const m = gm.mapping;
      const mapped = m && mappings.value.some((h) => h.ino === BigInt(ino.kernelInode) && h.start <= m.addr && m.addr + m.length <= h.end);
      if (!mapped) add({ kind: 'mapping_missing', inodeId: ino.id, ino: ino.kernelInode, repairable: false,
        message: `shareable inode ${ino.id} has no MAP_SHARED mapping in this process for views to point at` });
    }
  }

  if (held.ok) {
    const vmFds = new Set(heldVms.values());
    const gmemFds = new Set([...heldInodes].map((id) => registry.gmem(id)!.fd));
    for (const h of held.value) {
      if (h.kind === 'kvm-vm' && !vmFds.has(h.fd)) add({ kind: 'vm_fd_unexpected', fd: h.fd, repairable: false,
        message: `this process holds kvm-vm fd ${h.fd} that no active ledger VM accounts for` });
      if (h.kind === 'kvm-gmem' && !gmemFds.has(h.fd)) add({ kind: 'gmem_fd_unexpected', fd: h.fd, ino: Number(h.ino), repairable: false,
        message: `this process holds kvm-gmem fd ${h.fd} (inode ${h.ino}) that no live ledger inode accounts for` });
    }
  }
  if (mappings.ok) {
    const liveInos = new Set([...heldInodes].map((id) => BigInt(store.inodes.get(id)!.kernelInode)));
    for (const m of mappings.value) {
      if (!liveInos.has(m.ino)) add({ kind: 'mapping_unexpected', ino: Number(m.ino), repairable: false,
        message: `a gmem mapping at 0x${m.start.toString(16)} (inode ${m.ino}) belongs to no live ledger inode` });
    }
  }

  const liveFiles: FileRow[] = store.files.allLive();
  for (const f of liveFiles) {
    if (heldVms.has(f.vmId) && heldInodes.has(f.inodeId)) continue;
    add({ kind: 'file_orphaned', fileId: f.id, vmId: f.vmId, inodeId: f.inodeId, repairable: true,
      message: `file ${f.id} is ${f.state} but this process holds ${heldVms.has(f.vmId) ? 'no guest_memfd for its inode' : 'no kernel VM for its VM'} (repair marks it lost)` });
  }

  let memslots = 0;
  let bindings = 0;
  // ~32k probes per VM: with many VMs the sweep alone could take minutes, inside one command.
  const sweepEnds = ctx.now() + (opts.sweepDeadlineMs ?? ctx.limits.memslotSweepDeadlineMs);
  const expired = () => ctx.now() >= sweepEnds;
  let sweepTruncated = false;
  for (const [vmId, vmFd] of heldVms) {
    const ledger = new Map<number, BindingRow>(store.bindings.activeByVm(vmId).map((b) => [b.slot, b]));
    bindings += ledger.size;
    const tracked = registry.memslots.get(vmId) ?? new Map<number, MemoryRegion>();
    const ids = new Set([...ledger.keys(), ...tracked.keys()]);
    if (opts.sweepSlots && !sweepTruncated) {
      const all = sweepMemslots(kvm, vmFd, expired);
      if (all.ok) for (const s of all.value.slots) ids.add(s);
      if (all.ok && !all.value.complete) sweepTruncated = true;
    } else if (opts.sweepSlots) {
      sweepTruncated = true;
    }
    for (const slot of [...ids].sort((a, b) => a - b)) {
      memslots++;
      const exists = memslotExists(kvm, vmFd, slot);
      if (!exists.ok) continue; // the VM fd itself failed: reported above as vm_fd_missing
      const b = ledger.get(slot);
      const mine = tracked.get(slot);
      if (b && !exists.value) {
        add({ kind: 'memslot_missing', vmId, bindingId: b.id, fileId: b.fileId, inodeId: b.inodeId, slot, repairable: heldInodes.has(b.inodeId),
          message: `binding ${b.id} is active in the ledger but VM ${vmId} has no memslot ${slot} (repair re-creates it)` });
      } else if (!b && exists.value) {
        add({ kind: 'memslot_unexpected', vmId, slot, repairable: true,
          message: `VM ${vmId} has memslot ${slot}${mine ? ` (${str(mine)}, created by gmemd)` : ' that gmemd did not create'} but no active binding in the ledger (repair deletes it)` });
      } else if (b && exists.value) {
        const want = heldInodes.has(b.inodeId) ? memslotRegion(ctx, b) : null;
        if (want?.ok && mine && !sameRegion(want.value.region, mine)) {
          add({ kind: 'memslot_mismatch', vmId, bindingId: b.id, fileId: b.fileId, inodeId: b.inodeId, slot, repairable: true,
            message: `memslot ${slot} of VM ${vmId} was created as ${str(mine)}; binding ${b.id} records ${str(want.value.region)} (repair re-creates it)` });
        }
      } else if (mine) {
        registry.untrackMemslot(vmId, slot); // deleted behind gmemd's back and in the ledger too: they agree
      }
    }
  }
  for (const vmId of [...registry.memslots.keys()]) if (!heldVms.has(vmId)) registry.forgetMemslots(vmId);

  for (const intent of store.intents.listOpen()) {
    add({ kind: 'intent_open', intentId: intent.id, repairable: false,
      message: `intent ${intent.id} (${intent.kind}) is open: an operation ended without recording its outcome; start-up reconcile resolves it` });
  }
  return { items, checked: { vms: vms.length, inodes: inodes.length, files: liveFiles.length, bindings, memslots }, sweepTruncated };
}

export function sameRegion(a: MemoryRegion, b: MemoryRegion): boolean {
  return a.slot === b.slot && a.flags === b.flags && a.guestPhysAddr === b.guestPhysAddr && a.memorySize === b.memorySize
    && a.userspaceAddr === b.userspaceAddr && a.guestMemfdOffset === b.guestMemfdOffset
    && ((a.flags & MEM.GUEST_MEMFD) === 0 || a.guestMemfd === b.guestMemfd);
}
