// The simulator's stand-in for handing guest_memfd fds to a successor process. A real gmem fd
// is inherited across fork+exec and keeps its inode (pages, size, flags, number) alive; the
// simulator's objects live in this process's heap, so the old process writes their state to
// a file and the successor's simulator installs equivalent gmem files from it. What the
// kernel would keep is kept: each file stays bound to the VM that created it, which in the
// successor has no fd (its ioctls cannot be reached, KERNEL.md §2.0), so binding the gmem to a
// new VM is EINVAL as on the real kernel, and only views over a mapping of it work.
import { readFileSync, writeFileSync } from 'node:fs';
import { kfail, kok, type KResult } from '../kernel-error.js';
import type { FdTable } from './sim-fd-table.js';
import { closeVmFd, newFile, newVm, type SimFile, type SimVm } from './sim-objects.js';
import { PAGE_BYTES, PageStore } from './sim-pages.js';

interface GmemState { vm: number; ino: string; size: string; flags: string; pages: [number, string][] }

export function writeGmemState(fds: FdTable, gmemFds: number[], stateFile: string): KResult<void> {
  const vms: SimVm[] = [];
  const out: GmemState[] = [];
  for (const fd of gmemFds) {
    const obj = fds.get(fd);
    if (!obj) return kfail('fstat', 'EBADF');
    if (obj.kind !== 'gmem') return kfail('fstat', 'EINVAL');
    const { inode, vm } = obj.file;
    if (!vms.includes(vm)) vms.push(vm);
    out.push({ vm: vms.indexOf(vm), ino: String(inode.ino), size: String(inode.size), flags: String(inode.flags),
      pages: inode.pages.entries().map(([i, p]) => [i, p.toString('base64')]) });
  }
  writeFileSync(stateFile, JSON.stringify({ gmems: out }));
  return kok(undefined);
}

/** Installs the gmems of a state file; returns their new fds, the files and the VMs they pin. */
export function readGmemState(fds: FdTable, stateFile: string): KResult<{ fds: number[]; files: SimFile[]; vms: SimVm[]; maxIno: bigint }> {
  let text: string;
  try {
    text = readFileSync(stateFile, 'utf8');
  } catch (e) {
    return kfail('open', (e as NodeJS.ErrnoException).code ?? 'EIO');
  }
  let state: { gmems: GmemState[] };
  try { state = JSON.parse(text); } catch { return kfail('open', 'EINVAL'); }
  const vms = new Map<number, SimVm>();
  const files: SimFile[] = [];
  const installed: number[] = [];
  let maxIno = 0n;
  for (const g of state.gmems) {
    const fd = fds.next();
    if (fd === undefined) return kfail('open', 'EMFILE');
    let vm = vms.get(g.vm);
    if (!vm) vms.set(g.vm, (vm = newVm()));
    const pages = new PageStore();
    for (const [index, data] of g.pages) pages.write(index, 0, Buffer.from(data, 'base64'), 0, PAGE_BYTES);
    const file = newFile(vm, { ino: BigInt(g.ino), size: BigInt(g.size), flags: BigInt(g.flags), pages });
    fds.install(fd, { kind: 'gmem', file });
    files.push(file);
    installed.push(fd);
    if (BigInt(g.ino) > maxIno) maxIno = BigInt(g.ino);
  }
  // The creating VMs' fds stayed with the old process: alive (pinned by their files) but unreachable.
  for (const vm of vms.values()) closeVmFd(vm);
  return kok({ fds: installed, files, vms: [...vms.values()], maxIno });
}
