// GET /v1/host: which backend runs, what the kernel supports (read from the kernel each
// time, KVM_CHECK_EXTENSION), the fd limit and memory that bound how far gmemd can scale.
// Each VM, inode and probe vCPU holds an fd; Node already raises the soft RLIMIT_NOFILE to
// the hard limit at start-up (PlatformInit in node.cc), so gmemd only reports both.
import { readFileSync } from 'node:fs';
import { ok, type Result } from '../domain/result.js';
import type { HostCapabilities } from '../kvm/kvm-host.js';
import type { ServiceContext } from './context.js';
import { DEFAULT_VM_TYPE, privateGmemReachable, privateMemVmTypes } from '../domain/guest-reach.js';
import { kernelError } from './outcomes.js';
import { defaultLimits, maxInodeSize, WIRE, type Limits } from '../domain/limits.js';
import { hostFacts } from './host-facts.js';

export interface HostInfo {
  backend: string;
  capabilities: HostCapabilities & { shareableInodes: boolean; readonlyViews: boolean; privateMemVmTypes: number[]; privateInodesGuestReachable: boolean };
  operations: Record<string, boolean>;
  limits: Limits & { nofileSoft: number | null; nofileHard: number | null; memslotsPerVm: number; maxInodeSizeBytes: number;
    defaults: Limits; wire: typeof WIRE };
  memory: { hostTotalBytes: number | null; unevictableBytes: number | null; liveInodeBytes: number };
  ledger: { vmsActive: number; inodesLive: number; events: number };
}

function procLimit(name: string): [number | null, number | null] {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith(name));
    const parts = line?.slice(name.length).trim().split(/\s+/) ?? [];
    const num = (s?: string) => (s && /^\d+$/.test(s) ? Number(s) : null);
    return [num(parts[0]), num(parts[1])];
  } catch { return [null, null]; }
}

function meminfo(key: string): number | null {
  try {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/meminfo', 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch { return null; }
}

export function hostInfo(ctx: ServiceContext): Result<HostInfo> {
  const caps = ctx.kvm.capabilities();
  if (!caps.ok) return { ok: false, error: kernelError(caps.error) };
  const c = caps.value;
  const shareable = (c.guestMemfdFlags & 3) === 3;
  const readonlyViews = c.readonlyMem > 0;
  // A private inode has no mapping; only a VM of a private-memory type the host offers could
  // fault it, and gmemd creates VMs of the default type (KERNEL.md: every access goes through
  // userspace_addr on this host). Binding one is refused with inode.not_guest_reachable.
  const privateReachable = privateGmemReachable(DEFAULT_VM_TYPE, c.vmTypes);
  const [soft, hard] = procLimit('Max open files');
  return ok({
    backend: ctx.kvm.backend,
    capabilities: { ...c, shareableInodes: shareable, readonlyViews, privateMemVmTypes: privateMemVmTypes(c.vmTypes), privateInodesGuestReachable: privateReachable },
    // What this kernel lets gmemd do (DESIGN §2): views need MMAP|INIT_SHARED gmem; read-only
    // grants need KVM_MEM_READONLY. Private inodes are never shared, donated or migrated.
    operations: {
      createInode: c.guestMemfd > 0, shareInode: shareable, shareReadOnly: shareable && readonlyViews,
      donateInode: shareable, migrate: shareable, donatePrivateInode: false, migratePrivateInode: false,
      bindPrivateInode: privateReachable,
    },
    // The limits in force, and what each would be on this host without its GMEMD_* variable.
    limits: { nofileSoft: soft, nofileHard: hard, memslotsPerVm: c.nrMemslots, ...ctx.limits, maxInodeSizeBytes: maxInodeSize(ctx.limits),
      defaults: defaultLimits(hostFacts(ctx.kvm)), wire: WIRE },
    memory: { hostTotalBytes: meminfo('MemTotal'), unevictableBytes: meminfo('Unevictable'), liveInodeBytes: ctx.store.inodes.liveBytes() },
    ledger: {
      vmsActive: ctx.store.vms.countByState('active'),
      inodesLive: ctx.store.inodes.countLive(),
      events: ctx.store.chain.getHead().seq,
    },
  });
}
