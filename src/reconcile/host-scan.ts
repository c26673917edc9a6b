// GET /v1/host/scan: every process's kvm-vm and kvm-gmem fds and guest_memfd mappings, read
// from /proc, each marked `tracked` when it is one gmemd holds (its own pid, an fd or mapping
// in the registry). A gmem's kernel inode number is unique while it lives, so a match with a
// live ledger inode names it: another process holding one of gmemd's inodes shows up so.
// With the simulated backend gmemd's own objects are not kernel objects and never appear.
import type { ServiceContext } from '../services/context.js';
import { listPids, scanProcess, type ProcScan, type ScanFilter } from './proc.js';
import type { Holders, HoldersByIno } from './lost.js';

export interface ScanFd { fd: number; kind: 'kvm-vm' | 'kvm-gmem'; ino: number | null; tracked: boolean; ledgerInodeId: string | null }
export interface ScanMapping { start: string; end: string; offset: number; ino: number; tracked: boolean; ledgerInodeId: string | null }
export interface ScanProcess { pid: number; command: string; self: boolean; fds: ScanFd[]; mappings: ScanMapping[] }

export interface HostScan {
  scannedAt: number;
  backend: string;
  /** Processes whose /proc entries could be read, and those that could not (gone, or another user's). */
  scanned: number;
  unreadable: number;
  /** Only processes holding at least one kvm-vm or kvm-gmem fd or gmem mapping. */
  processes: ScanProcess[];
  untracked: { fds: number; mappings: number };
  /** The scan hit its deadline (GMEMD_HOST_SCAN_DEADLINE_MS): `skipped` processes were not read. */
  truncated: boolean;
  skipped: number;
  deadlineMs: number;
}

export const GMEM_PATH = 'anon_inode:[kvm-gmem]';
/** All a scan looks at: other fds and mappings are neither parsed nor asked for their inode. */
export const KVM_ONLY: ScanFilter = { kinds: new Set(['kvm-vm', 'kvm-gmem']), mapPath: GMEM_PATH };

/** gmemd's own gmem mappings, sorted by address: a maps line is inside one of them or none. */
export function ownMappings(list: { addr: bigint; length: bigint }[]): (start: bigint, end: bigint) => boolean {
  const sorted = [...list].sort((a, b) => (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : 0));
  return (start: bigint, end: bigint): boolean => {
    let lo = 0, hi = sorted.length - 1, at = -1;
    while (lo <= hi) { // the last mapping starting at or before `start`
      const mid = (lo + hi) >> 1;
      if (sorted[mid]!.addr <= start) { at = mid; lo = mid + 1; } else hi = mid - 1;
    }
    return at >= 0 && end <= sorted[at]!.addr + sorted[at]!.length;
  };
}
const hex = (n: bigint) => `0x${n.toString(16)}`;

/** Reads /proc until done or until the deadline (ctx.now, so a test's clock drives it). */
export function hostScan(ctx: ServiceContext, proc = '/proc', deadlineMs = ctx.limits.hostScanDeadlineMs): HostScan {
  const stopAt = ctx.now() + deadlineMs;
  const native = ctx.kvm.backend === 'native';
  // Simulated inode numbers are not the kernel's: matching them against /proc would be chance.
  const ledgerByIno = new Map<number, string>(native ? ctx.store.inodes.listByState('live').map((i) => [i.kernelInode, i.id]) : []);
  const vmFds = new Set(native ? ctx.registry.vms.values() : []);
  const gmems = native ? [...ctx.registry.gmems.values()] : [];
  const gmemFds = new Set(gmems.map((g) => g.fd));
  const ours = ownMappings(gmems.flatMap((g) => (g.mapping ? [g.mapping] : [])));
  const processes: ScanProcess[] = [];
  let scanned = 0, unreadable = 0, skipped = 0;
  const pids = listPids(proc);
  for (const [i, pid] of pids.entries()) {
    // A host with many processes (or a slow /proc) must not hold the request, and the event loop, without end.
    if (ctx.now() >= stopAt) { skipped = pids.length - i; break; }
    const p = scanProcess(pid, proc, KVM_ONLY);
    if (!p) { unreadable++; continue; }
    scanned++;
    const entry = toEntry(p, pid === process.pid, ledgerByIno, vmFds, gmemFds, ours);
    if (entry.fds.length > 0 || entry.mappings.length > 0) processes.push(entry);
  }
  const untracked = {
    fds: processes.reduce((n, p) => n + p.fds.filter((f) => !f.tracked).length, 0),
    mappings: processes.reduce((n, p) => n + p.mappings.filter((m) => !m.tracked).length, 0),
  };
  return { scannedAt: ctx.now(), backend: ctx.kvm.backend, scanned, unreadable, processes, untracked,
    truncated: skipped > 0, skipped, deadlineMs };
}

function toEntry(p: ProcScan, self: boolean, ledgerByIno: Map<number, string>, vmFds: Set<number>, gmemFds: Set<number>,
  ours: (start: bigint, end: bigint) => boolean): ScanProcess {
  const fds: ScanFd[] = [];
  for (const f of p.fds) {
    if (f.kind !== 'kvm-vm' && f.kind !== 'kvm-gmem') continue;
    const tracked = self && (f.kind === 'kvm-vm' ? vmFds.has(f.fd) : gmemFds.has(f.fd));
    fds.push({ fd: f.fd, kind: f.kind, ino: f.ino, tracked,
      ledgerInodeId: f.kind === 'kvm-gmem' && f.ino !== null ? ledgerByIno.get(f.ino) ?? null : null });
  }
  const mappings: ScanMapping[] = p.mappings.filter((m) => m.path === GMEM_PATH).map((m) => ({
    start: hex(m.start), end: hex(m.end), offset: Number(m.offset), ino: m.ino,
    tracked: self && ours(m.start, m.end),
    ledgerInodeId: ledgerByIno.get(m.ino) ?? null,
  }));
  return { pid: p.pid, command: p.command, self, fds, mappings };
}

/**
 * Kernel inode number -> processes other than this one holding that gmem (fd or mapping).
 * Stops at `deadlineMs` as the host scan does (a host with many processes must not hold a
 * start-up without end); `skipped` says how many processes were not read.
 */
export function foreignHolders(proc = '/proc', deadlineMs = Infinity): Holders {
  const byIno: HoldersByIno = new Map();
  const stopAt = performance.now() + deadlineMs;
  const pids = listPids(proc);
  for (const [i, pid] of pids.entries()) {
    if (performance.now() >= stopAt) return { byIno, skipped: pids.length - i };
    if (pid === process.pid) continue;
    const p = scanProcess(pid, proc, KVM_ONLY);
    if (!p) continue;
    const inos = new Set<number>();
    for (const f of p.fds) if (f.kind === 'kvm-gmem' && f.ino !== null) inos.add(f.ino);
    for (const m of p.mappings) if (m.path === GMEM_PATH) inos.add(m.ino);
    for (const ino of inos) {
      const list = byIno.get(ino) ?? [];
      list.push({ pid, command: p.command });
      byIno.set(ino, list);
    }
  }
  return { byIno, skipped: 0 };
}
