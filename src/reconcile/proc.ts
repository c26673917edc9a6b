// Reading one process's open files and mappings from /proc: /proc/PID/fd (link targets),
// fdinfo (the `ino:` line, Linux 5.14+, else stat through the link), maps, cmdline. Plain
// parsing of what the kernel prints, for any process and any kind of fd, so it can be tested
// on a host without KVM against a process holding memfds and pipes.
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';

export type FdKind = 'kvm-vm' | 'kvm-gmem' | 'kvm-vcpu' | 'memfd' | 'pipe' | 'socket' | 'anon_inode' | 'file' | 'other';

export interface ProcFd { fd: number; target: string; kind: FdKind; ino: number | null }

export interface ProcMapping { start: bigint; end: bigint; perms: string; offset: bigint; dev: string; ino: number; path: string }

export interface ProcScan { pid: number; command: string; fds: ProcFd[]; mappings: ProcMapping[] }

/** What an fd link target names (KERNEL.md §2.1: `anon_inode:[kvm-gmem]`, `anon_inode:kvm-vm`). */
export function classifyFdTarget(target: string): FdKind {
  if (target === 'anon_inode:kvm-vm') return 'kvm-vm';
  if (target === 'anon_inode:[kvm-gmem]') return 'kvm-gmem';
  if (/^anon_inode:kvm-vcpu:\d+$/.test(target)) return 'kvm-vcpu';
  if (target.startsWith('/memfd:')) return 'memfd';
  if (/^pipe:\[\d+\]$/.test(target)) return 'pipe';
  if (/^socket:\[\d+\]$/.test(target)) return 'socket';
  if (target.startsWith('anon_inode:')) return 'anon_inode';
  if (target.startsWith('/')) return 'file';
  return 'other';
}

/** `start-end perms offset dev inode [path]` per line; the path may contain spaces. */
export function parseMaps(text: string): ProcMapping[] {
  const out: ProcMapping[] = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+)\s+(\S+)\s+([0-9a-f]+)\s+([0-9a-f]+:[0-9a-f]+)\s+(\d+)\s*(.*)$/.exec(line);
    if (!m) continue;
    out.push({ start: BigInt(`0x${m[1]}`), end: BigInt(`0x${m[2]}`), perms: m[3]!, offset: BigInt(`0x${m[4]}`), dev: m[5]!, ino: Number(m[6]), path: m[7]! });
  }
  return out;
}

export function parseFdinfoIno(text: string): number | null {
  const m = /^ino:\s*(\d+)$/m.exec(text);
  return m ? Number(m[1]) : null;
}

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
