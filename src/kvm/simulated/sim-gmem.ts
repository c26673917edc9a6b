// guest_memfd file behaviour (KERNEL.md §2.1, §2.2): creation checks, fstat, fallocate (the
// VFS checks of vfs_fallocate, then kvm_gmem_fallocate's) and the file side of mmap.
import type { ErrnoName } from '../kernel-error.js';
import type { FileStat } from '../kvm-host.js';
import { FALLOC, GMEM_FLAGS_SHAREABLE, GMEM_FLAG, MAP, PROT } from '../uapi.js';
import type { SimFd } from './sim-fd-table.js';
import type { SimInode } from './sim-objects.js';
import { PAGE } from './sim-pages.js';

/** An errno by name, or by number where kernel-error.ts has no name (it renders `E<n>`, as
 * it does for the native adapter's errnos). */
export type Errno = ErrnoName | number;
export const EOVERFLOW = 75;

export const s64 = (x: bigint): bigint => BigInt.asIntN(64, x);
export const u64 = (x: bigint): bigint => BigInt.asUintN(64, x);

/** st_dev of anon_inodefs, where both VM fds and (in 6.18) gmem files live. */
const ANON_DEV = 0x10n;
/** The shared anon inode every VM fd uses. */
export const VM_FD_INO = 18n;
const MAX_LFS_FILESIZE = (1n << 63n) - 1n;

/** kvm_gmem_create: flags first, then size as a signed loff_t. Supported flags on a type-0 VM: 3. */
export function createGmemErrno(size: bigint, flags: bigint): ErrnoName | undefined {
  if (u64(flags) & ~GMEM_FLAGS_SHAREABLE) return 'EINVAL';
  const s = s64(size);
  if (s <= 0n || s % PAGE !== 0n) return 'EINVAL';
  return undefined;
}

export function fdStat(obj: SimFd): FileStat {
  if (obj.kind !== 'gmem') {
    // VM and vCPU fds share one anon inode, which has no file type bits (probed: mode 0600).
    return { dev: ANON_DEV, ino: VM_FD_INO, mode: 0o600, nlink: 1n, size: 0n, blksize: 4096n, blocks: 0n };
  }
  const inode = obj.file.inode;
  return { dev: ANON_DEV, ino: inode.ino, mode: 0o100600, nlink: 1n, size: inode.size, blksize: 4096n, blocks: 0n };
}

const FALLOC_FL_MODE_MASK = 0x02 | 0x08 | 0x10 | 0x20 | 0x40 | 0x80;
/** ALLOCATE (0), UNSHARE, ZERO_RANGE: KEEP_SIZE allowed. */
const MODES_KEEP_ALLOWED = new Set([0, 0x40, 0x10]);
/** COLLAPSE, INSERT, WRITE_ZEROES: KEEP_SIZE refused. */
const MODES_KEEP_REFUSED = new Set([0x08, 0x20, 0x80]);

/** fallocate(2) on a simulated fd; a successful punch zaps the pages (every view reads 0). */
export function fallocate(obj: SimFd, mode: number, offset: bigint, length: bigint): ErrnoName | undefined {
  mode |= 0;
  const off = s64(offset), len = s64(length);
  // vfs_fallocate
  if (off < 0n || len <= 0n) return 'EINVAL';
  if (mode & ~(FALLOC_FL_MODE_MASK | FALLOC.KEEP_SIZE)) return 'EOPNOTSUPP';
  const kind = mode & FALLOC_FL_MODE_MASK;
  const keep = (mode & FALLOC.KEEP_SIZE) !== 0;
  if (kind === FALLOC.PUNCH_HOLE ? !keep : MODES_KEEP_REFUSED.has(kind) ? keep : !MODES_KEEP_ALLOWED.has(kind)) {
    return 'EOPNOTSUPP';
  }
  // The VM/vCPU fds' anon inode is neither a regular file nor a block device.
  if (obj.kind !== 'gmem') return 'ENODEV';
  if (off + len > MAX_LFS_FILESIZE) return 'EFBIG';
  // kvm_gmem_fallocate
  if (!keep || mode & ~(FALLOC.KEEP_SIZE | FALLOC.PUNCH_HOLE)) return 'EOPNOTSUPP';
  if (off % PAGE !== 0n || len % PAGE !== 0n) return 'EINVAL';
  const inode = obj.file.inode;
  if (mode & FALLOC.PUNCH_HOLE) {
    inode.pages.drop(Number(off / PAGE), Number((off + len) / PAGE));
    return undefined;
  }
  // Allocation is invisible through the port: pages are not zeroed or marked uptodate, and the
  // first fault zeroes them, which is what an absent page reads as already.
  return off + len > inode.size ? 'EINVAL' : undefined;
}

/**
 * The file part of do_mmap (map type, noexec mount, size limit, ->mmap present) and then
 * kvm_gmem_mmap. Anonymous mappings never get here.
 */
export function mmapFileErrno(obj: SimFd, length: bigint, prot: number, flags: number, pgoff: bigint): Errno | undefined {
  const type = flags & 0x0f;
  if (type !== MAP.SHARED && type !== MAP.PRIVATE && type !== 3 /* MAP_SHARED_VALIDATE */) return 'EINVAL';
  // anon_inodefs is a noexec mount.
  if (prot & PROT.EXEC) return 'EPERM';
  if (obj.kind === 'gmem' && (length > MAX_LFS_FILESIZE || pgoff > (MAX_LFS_FILESIZE - length) / PAGE)) return EOVERFLOW;
  // A VM fd has no ->mmap. (A vCPU fd's kvm_run mapping is not modelled: nobody is handed one.)
  if (obj.kind !== 'gmem') return 'ENODEV';
  const inode: SimInode = obj.file.inode;
  if (!(inode.flags & GMEM_FLAG.MMAP)) return 'ENODEV';
  if (type === MAP.PRIVATE) return 'EINVAL';
  return undefined;
}
