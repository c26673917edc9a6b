// Geometry rules: page alignment, inode bounds, memslot overlap. These mirror what the
// kernel would refuse (KERNEL.md §2.3) so that the ledger refuses first with a clear code,
// and the kernel stays the last word.
import { err, ok, type Result } from './result.js';

export const PAGE = 4096;
/** KVM_MEM_MAX_NR_PAGES (2^31 - 1) pages per memslot. */
export const MAX_SLOT_BYTES = (2 ** 31 - 1) * PAGE;
/** Guest-physical addresses gmemd accepts: below 2^46 (the host's MMU reach here, probed). */
export const MAX_GPA = 2 ** 46;
/** Sizes stay exact in JSON numbers. */
export const MAX_INODE_SIZE = Math.floor(Number.MAX_SAFE_INTEGER / PAGE) * PAGE;

export const aligned = (n: number) => n % PAGE === 0;

export function checkInodeSize(size: number): Result<number> {
  if (!Number.isSafeInteger(size) || size <= 0) return err('inode.invalid_size', 'size must be a positive integer');
  if (!aligned(size)) return err('inode.invalid_size', `size ${size} is not a multiple of the page size (${PAGE})`);
  if (size > MAX_INODE_SIZE) return err('inode.invalid_size', `size exceeds ${MAX_INODE_SIZE}`);
  return ok(size);
}

/** fallocate and punch-hole ranges: page-aligned, non-empty, inside the inode. */
export function checkFileRange(offset: number, length: number, inodeSize: number): Result<true> {
  if (!aligned(offset) || !aligned(length) || length <= 0) {
    return err('range.misaligned', `offset ${offset} and length ${length} must be page-aligned and length > 0`);
  }
  if (offset + length > inodeSize) {
    return err('range.out_of_bounds', `range [${offset}, ${offset + length}) exceeds the inode size ${inodeSize}`);
  }
  return ok(true);
}

export interface Extent { id: string; gpa: number; offset: number; size: number; slot: number }

export const overlaps = (a0: number, a1: number, b0: number, b1: number) => a0 < b1 && b0 < a1;

export interface BindingRequest { gpa: number; offset: number; size: number }

/**
 * A new memslot: aligned, inside the inode, no guest-address overlap with the VM's other
 * memslots (EEXIST in the kernel), and for gmem memslots no offset overlap with the
 * inode's other gmem memslots (EINVAL in 6.18).
 */
export function checkBinding(req: BindingRequest, inodeSize: number, vmSlots: Extent[], gmemSlots: Extent[] | null): Result<true> {
  const { gpa, offset, size } = req;
  if (!aligned(gpa) || !aligned(offset) || !aligned(size) || size <= 0) {
    return err('binding.misaligned', 'gpa, offset and size must be page-aligned, and size > 0');
  }
  if (size > MAX_SLOT_BYTES) return err('binding.too_large', `a memslot holds at most ${MAX_SLOT_BYTES} bytes`);
  if (offset + size > inodeSize) {
    return err('binding.out_of_bounds', `offset ${offset} + size ${size} exceeds the inode size ${inodeSize}`);
  }
  if (gpa + size > MAX_GPA) return err('binding.out_of_bounds', `guest range ends above ${MAX_GPA}`);
  const gpaHit = vmSlots.find((b) => overlaps(gpa, gpa + size, b.gpa, b.gpa + b.size));
  if (gpaHit) {
    return err('binding.gpa_overlap', `guest range overlaps binding ${gpaHit.id}`, { bindingId: gpaHit.id });
  }
  const offHit = gmemSlots?.find((b) => overlaps(offset, offset + size, b.offset, b.offset + b.size));
  if (offHit) {
    return err('binding.offset_overlap', `inode range is already bound by gmem memslot ${offHit.id}`, { bindingId: offHit.id });
  }
  return ok(true);
}
