// mmap(2), munmap(2) and the host's reads and writes through mappings, on the simulated address
// space. Check order follows sys_mmap -> ksys_mmap_pgoff -> do_mmap; the file-specific part is
// mmapFileErrno.
import { kfail, kok, type KResult } from '../kernel-error.js';
import { MAP } from '../uapi.js';
import { TASK_SIZE, type AddressSpace, type Backing, type PageRef } from './sim-address-space.js';
import type { FdTable } from './sim-fd-table.js';
import { EOVERFLOW, mmapFileErrno, u64 } from './sim-gmem.js';
import { getFile } from './sim-objects.js';
import { PAGE, PAGE_BYTES, PageStore } from './sim-pages.js';

const U64_MAX = (1n << 64n) - 1n;
const pageAlign = (n: bigint): bigint => (n + PAGE - 1n) / PAGE * PAGE;

export function sysMmap(fds: FdTable, space: AddressSpace, length: bigint, prot: number, flags: number, fd: number,
  offset: bigint): KResult<bigint> {
  const off = u64(offset), len = u64(length);
  if (off % PAGE) return kfail('mmap', 'EINVAL');
  const obj = flags & MAP.ANONYMOUS ? undefined : fds.get(fd);
  if (!(flags & MAP.ANONYMOUS) && !obj) return kfail('mmap', 'EBADF');
  if (len === 0n) return kfail('mmap', 'EINVAL');
  const size = pageAlign(len);
  if (size > U64_MAX) return kfail('mmap', 'ENOMEM'); // PAGE_ALIGN wrapped to 0
  if (off / PAGE + size / PAGE > U64_MAX) return kfail('mmap', EOVERFLOW);
  const start = size <= TASK_SIZE ? space.place(size) : undefined;
  if (start === undefined) return kfail('mmap', 'ENOMEM');
  let backing: Backing;
  if (obj) {
    const e = mmapFileErrno(obj, size, prot, flags, off / PAGE);
    if (e !== undefined) return kfail('mmap', e);
    if (obj.kind !== 'gmem') return kfail('mmap', 'ENODEV');
    getFile(obj.file);
    backing = { kind: 'gmem', file: obj.file, offset: off };
  } else {
    const type = flags & 0x0f;
    if (type !== MAP.SHARED && type !== MAP.PRIVATE) return kfail('mmap', 'EINVAL');
    backing = { kind: 'anon', store: new PageStore(), origin: start };
  }
  space.map(start, size, prot, backing);
  return kok(start);
}

export function sysMunmap(space: AddressSpace, addr: bigint, length: bigint): KResult<void> {
  const start = u64(addr), len = u64(length);
  if (start % PAGE || start > TASK_SIZE || len > TASK_SIZE - start) return kfail('munmap', 'EINVAL');
  const end = start + pageAlign(len);
  if (end === start) return kfail('munmap', 'EINVAL');
  space.unmap(start, end);
  return kok(undefined);
}

/**
 * The pages [addr, addr+length) touch, or undefined if any would fault. All-or-nothing, as the
 * native adapter checks a whole access before touching memory.
 */
function pagesFor(space: AddressSpace, addr: bigint, length: number, write: boolean): [PageRef, number][] | undefined {
  if (!Number.isSafeInteger(length) || length < 0) return undefined;
  const out: [PageRef, number][] = [];
  for (let done = 0; done < length;) {
    const ref = space.resolve(addr + BigInt(done), write);
    if (!ref) return undefined;
    const n = Math.min(PAGE_BYTES - ref.offset, length - done);
    out.push([ref, n]);
    done += n;
  }
  return out;
}

export function readMemory(space: AddressSpace, addr: bigint, length: number): KResult<Buffer> {
  const pages = pagesFor(space, addr, length, false);
  if (!pages) return kfail('memory', 'EFAULT');
  const out = Buffer.alloc(length);
  let at = 0;
  for (const [p, n] of pages) { p.store.read(p.index, p.offset, out, at, n); at += n; }
  return kok(out);
}

export function writeMemory(space: AddressSpace, addr: bigint, data: Buffer): KResult<void> {
  const pages = pagesFor(space, addr, data.length, true);
  if (!pages) return kfail('memory', 'EFAULT');
  let at = 0;
  for (const [p, n] of pages) { p.store.write(p.index, p.offset, data, at, n); at += n; }
  return kok(undefined);
}
