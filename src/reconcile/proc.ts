// Reading one process's open files and mappings from /proc: /proc/PID/fd (link targets),
// fdinfo (the `ino:` line, Linux 5.14+, else stat through the link), maps, cmdline. Plain
// parsing of what the kernel prints, for any process and any kind of fd, so it can be tested
// on a host without KVM against a process holding memfds and pipes.
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { classifyFdTarget, parseFdinfoIno, parseMaps, type FdKind, type ProcMapping } from '../kvm/procfs.js';

export { classifyFdTarget, parseFdinfoIno, parseMaps, type FdKind, type ProcMapping };

export interface ProcFd { fd: number; target: string; kind: FdKind; ino: number | null }

export interface ProcScan { pid: number; command: string; fds: ProcFd[]; mappings: ProcMapping[] }

/** Numeric entries of /proc: every process visible to this one. */
export function listPids(proc = '/proc'): number[] {
  return readdirSync(proc).filter((n) => /^\d+$/.test(n)).map(Number).sort((a, b) => a - b);
}

/** One process, or null when it is gone or unreadable (another user's, without privilege). */
export function scanProcess(pid: number, proc = '/proc'): ProcScan | null {
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
      fds.push({ fd, target, kind: classifyFdTarget(target), ino: inoOf(base, fd, target) });
    } catch { /* closed between readdir and readlink */ }
  }
  return { pid, command: commandOf(base), fds: fds.sort((a, b) => a.fd - b.fd), mappings: parseMaps(maps) };
}

function inoOf(base: string, fd: number, target: string): number | null {
  try {
    const fromInfo = parseFdinfoIno(readFileSync(`${base}/fdinfo/${fd}`, 'utf8'));
    if (fromInfo !== null) return fromInfo;
  } catch { /* fall through */ }
  const bracket = /^\w+:\[(\d+)\]$/.exec(target);
  if (bracket) return Number(bracket[1]);
  try { return statSync(`${base}/fd/${fd}`).ino; } catch { return null; }
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
