// Other processes on the host holding KVM VMs or guest_memfds, read before a bench measures.
// They skew what the bench reports: their mappings and fds are read by every host scan and by
// gmemd's start-up scan of other holders, and their guests compete for the cores. A run of
// the full bench once reported a host scan of 417 ms, not ~190, beside two idle gmemd
// processes left over from an experiment. The bench goes on, and says so where its figures are.
import { GMEM_PATH, KVM_ONLY } from '../../src/reconcile/host-scan.js';
import { listPids, scanProcess } from '../../src/reconcile/proc.js';

export interface OtherHolder { pid: number; command: string; vms: number; gmems: number; gmemMappings: number }

/** Every process but this one (and `except`, e.g. its own children) holding a kvm-vm or kvm-gmem fd or mapping. */
export function otherKvmHolders(except: readonly number[] = []): OtherHolder[] {
  const skip = new Set([process.pid, ...except]);
  const out: OtherHolder[] = [];
  for (const pid of listPids()) {
    if (skip.has(pid)) continue;
    const p = scanProcess(pid, '/proc', KVM_ONLY);
    if (!p) continue;
    const vms = p.fds.filter((f) => f.kind === 'kvm-vm').length, gmems = p.fds.length - vms;
    const gmemMappings = p.mappings.filter((m) => m.path === GMEM_PATH).length;
    if (vms + gmems + gmemMappings > 0) out.push({ pid, command: p.command, vms, gmems, gmemMappings });
  }
  return out;
}

/** One WARNING line per holder (nothing when the host is quiet); the list, for the results file. */
export function warnOtherHolders(where: string, except: readonly number[] = []): OtherHolder[] {
  const others = otherKvmHolders(except);
  for (const o of others) {
    console.log(`   WARNING (${where}): pid ${o.pid} (${o.command.slice(0, 60)}) holds ${o.vms} VM(s), ${o.gmems} guest_memfd(s) and ${o.gmemMappings} gmem mapping(s): its fds and mappings load the figures below`);
  }
  return others;
}
