// Parsing what the kernel prints in /proc: fd link targets, fdinfo, maps. Pure functions,
// shared by the native adapter (what this process holds) and reconcile's host scan (what
// every process holds), so both read the kernel's words the same way.

export type FdKind = 'kvm-vm' | 'kvm-gmem' | 'kvm-vcpu' | 'memfd' | 'pipe' | 'socket' | 'anon_inode' | 'file' | 'other';

export interface ProcMapping { start: bigint; end: bigint; perms: string; offset: bigint; dev: string; ino: number; path: string }

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
