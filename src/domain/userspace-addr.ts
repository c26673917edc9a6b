// The one computation of a memslot's userspace_addr. KVM trusts that address completely: the
// guest reads and writes whatever gmemd's process has mapped there (KERNEL.md, first section),
// so an address outside the binding's own inode mapping would hand the guest another tenant's
// memory or gmemd's heap. Every input is checked here again, in BigInt, whatever the layers
// above already checked, and anything not provably inside the mapping is refused.
import { err, ok, type Result } from './result.js';

const PAGE = 4096n;
const U64 = 1n << 64n;

export interface Mapping { addr: bigint; length: bigint }

const isWhole = (n: number | bigint) => typeof n === 'bigint' || Number.isSafeInteger(n);

/**
 * userspace_addr for [offset, offset + size) of an inode mapped at `mapping`: fails closed
 * unless offset and size are non-negative page-aligned integers, size > 0, and
 * [addr, addr + size) lies inside [mapping.addr, mapping.addr + mapping.length).
 */
export function userspaceAddr(mapping: Mapping | null, offset: number | bigint, size: number | bigint): Result<bigint> {
  const refuse = (why: string) => err('memslot.outside_mapping', `refused to issue a memslot: ${why}`,
    { offset: String(offset), size: String(size) });
  if (!mapping) return refuse('the inode has no host mapping a guest could reach');
  if (!isWhole(offset) || !isWhole(size)) return refuse('offset and size must be integers');
  const off = BigInt(offset), len = BigInt(size);
  if (off < 0n || len <= 0n || off % PAGE !== 0n || len % PAGE !== 0n) return refuse('offset and size must be page-aligned, size > 0');
  if (mapping.addr <= 0n || mapping.addr % PAGE !== 0n || mapping.length <= 0n || mapping.addr + mapping.length > U64) {
    return refuse('the mapping itself is not a valid address range');
  }
  if (off + len > mapping.length) return refuse(`[${off}, ${off + len}) lies outside the inode's mapping of ${mapping.length} bytes`);
  const addr = mapping.addr + off;
  // Restated on the result so that a mistake above cannot widen it.
  if (addr < mapping.addr || addr + len > mapping.addr + mapping.length) return refuse('address outside the mapping');
  return ok(addr);
}

/** Whether [addr, addr + size) overlaps a mapping: a memslot there still points into it. */
export function pointsInto(addr: bigint, size: bigint, mapping: Mapping): boolean {
  return size > 0n && addr < mapping.addr + mapping.length && mapping.addr < addr + size;
}
