// Reading one process's open files and mappings from /proc: /proc/PID/fd (link targets),
// their inode numbers (stat through the link, else fdinfo's `ino:` line), maps, cmdline. Plain
// parsing of what the kernel prints, for any process and any kind of fd, so it can be tested
// on a host without KVM against a process holding memfds and pipes.
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { classifyFdTarget, parseFdinfoIno, parseMaps, type FdKind, type ProcMapping } from '../kvm/procfs.js';

export { classifyFdTarget, parseFdinfoIno, parseMaps, type FdKind, type ProcMapping };

export interface ProcFd { fd: number; target: string; kind: FdKind; ino: number | null }

export interface ProcScan { pid: number; command: string; fds: ProcFd[]; mappings: ProcMapping[] }

/**
 * What a scan keeps: fds of these kinds (only their inode numbers are read: an fdinfo read per
 * fd was most of a scan of a process holding 20,000 fds) and mappings whose maps line mentions
 * `mapPath` (only those lines are parsed). Without it, everything.
 */
export interface ScanFilter { kinds: ReadonlySet<FdKind>; mapPath: string }

/** Numeric entries of /proc: every process visible to this one. */
export function listPids(proc = '/proc'): number[] {
  return readdirSync(proc).filter((n) => /^\d+$/.test(n)).map(Number).sort((a, b) => a - b);
}

/** One process, or null when it is gone or unreadable (another user's, without privilege). */
export function scanProcess(pid: number, proc = '/proc', only?: ScanFilter): ProcScan | null {
  const base = `${proc}/${pid}`;
  let names: string[];
  let maps: string;
  try {
    names = readdirSync(`${base}/fd`);
    maps = readFileSync(`${base}/maps`, 'utf8');
  } catch {
    return null;
  }
  const fds: ProcFd[] = [];
  for (const name of names) {
    const fd = Number(name);
    try {
      const target = readlinkSync(`${base}/fd/${fd}`);
      const kind = classifyFdTarget(target);
      if (only && !only.kinds.has(kind)) continue;
      fds.push({ fd, target, kind, ino: inoOf(base, fd, target) });
    } catch { /* closed between readdir and readlink */ }
  }
  const lines = only ? maps.split('\n').filter((l) => l.includes(only.mapPath)).join('\n') : maps;
  return { pid, command: commandOf(base), fds: fds.sort((a, b) => a.fd - b.fd), mappings: parseMaps(lines) };
}

function inoOf(base: string, fd: number, target: string): number | null {
  // `pipe:[n]`, `socket:[n]`: the target names it. Otherwise one stat through the link (the
  // file's own inode, what fdinfo's `ino:` line prints), and fdinfo only if the stat fails:
  // reading fdinfo is an open, a read and a close per fd.
  const bracket = /^\w+:\[(\d+)\]$/.exec(target);
  if (bracket) return Number(bracket[1]);
  try { return statSync(`${base}/fd/${fd}`).ino; } catch { /* fall through */ }
  try { return parseFdinfoIno(readFileSync(`${base}/fdinfo/${fd}`, 'utf8')); } catch { return null; }
}

function commandOf(base: string): string {
  try {
    const argv = readFileSync(`${base}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
    if (argv) return argv.length > 200 ? `${argv.slice(0, 197)}...` : argv;
    return readFileSync(`${base}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}
