// Geometry rules: page alignment, inode bounds, memslot overlap. These mirror what the
// kernel would refuse (KERNEL.md §2.3) so that the ledger refuses first with a clear code,
// and the kernel stays the last word. Every number here may be hostile (ISSUE 8: a negative
// offset became a view over another tenant's memory), so each is first checked to be a
// non-negative safe integer and all arithmetic is then done in BigInt: `offset + size` is
// exact whatever the inputs, never rounded or wrapped.
import { err, ok, type Result } from './result.js';

export const PAGE = 4096;
const PAGE_N = BigInt(PAGE);
/** KVM_MEM_MAX_NR_PAGES (2^31 - 1) pages per memslot. */
export const MAX_SLOT_BYTES = (2 ** 31 - 1) * PAGE;
/** Guest-physical addresses gmemd accepts: below 2^46 (the host's MMU reach here, probed). */
export const MAX_GPA = 2 ** 46;
/**
 * The largest inode gmemd creates: 1 TiB. guest_memfd itself has no upper bound (KERNEL.md
 * §2.1), but gmemd maps every shareable inode whole, and a size far beyond any host's memory
 * is a mistake, not a plan (a 64 TiB inode was accepted on a 24 GiB host).
 */
export const MAX_INODE_SIZE = 2 ** 40;
/** The top of every offset and length inside an inode, and of a memslot's size. */
export const MAX_OFFSET = MAX_INODE_SIZE - PAGE;

/** A page-aligned extent [start, start + size), exact. */
export interface Span { start: bigint; size: bigint }

/**
 * A request number as an exact bigint: refused unless it is a non-negative safe integer
 * (in-process callers skip the HTTP schema, so the domain checks again).
 */
export function exact(field: string, n: number): Result<bigint> {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    return err('request.invalid', `${field} must be a non-negative safe integer`, { field, value: String(n) });
  }
  return ok(BigInt(n));
}

function exactAll<K extends string>(fields: Record<K, number>): Result<Record<K, bigint>> {
  const out = {} as Record<K, bigint>;
  for (const k of Object.keys(fields) as K[]) {
    const r = exact(k, fields[k]);
    if (!r.ok) return r;
    out[k] = r.value;
  }
  return ok(out);
}

const isAligned = (n: bigint) => n % PAGE_N === 0n;

/** [a, a + aSize) and [b, b + bSize) intersect; computed exactly. */
export function overlaps(aStart: number | bigint, aSize: number | bigint, bStart: number | bigint, bSize: number | bigint): boolean {
  const a0 = BigInt(aStart), b0 = BigInt(bStart);
  return a0 < b0 + BigInt(bSize) && b0 < a0 + BigInt(aSize);
}

/** `[start, start + size)` lies inside `[0, limit)`. */
export const within = (s: Span, limit: bigint) => s.start < limit && s.start + s.size <= limit;

export function checkInodeSize(size: number): Result<number> {
  const n = exact('size', size);
  if (!n.ok || n.value === 0n) return err('inode.invalid_size', 'size must be a positive integer', { value: String(size) });
  if (!isAligned(n.value)) return err('inode.invalid_size', `size ${size} is not a multiple of the page size (${PAGE})`);
  if (n.value > BigInt(MAX_INODE_SIZE)) return err('inode.invalid_size', `size exceeds ${MAX_INODE_SIZE}`, { limit: MAX_INODE_SIZE });
  return ok(size);
}

/** fallocate and punch-hole ranges: page-aligned, non-empty, inside the inode. */
export function checkFileRange(offset: number, length: number, inodeSize: number): Result<Span> {
  const n = exactAll({ offset, length });
  if (!n.ok) return n;
  const s: Span = { start: n.value.offset, size: n.value.length };
  if (s.size === 0n) return err('range.empty', 'length must be > 0');
  if (!isAligned(s.start) || !isAligned(s.size)) {
    return err('range.misaligned', `offset ${offset} and length ${length} must be page-aligned`);
  }
  if (!within(s, BigInt(inodeSize))) {
    return err('range.out_of_bounds', `range [${s.start}, ${s.start + s.size}) exceeds the inode size ${inodeSize}`, { inodeSize });
  }
  return ok(s);
}

export interface Extent { id: string; gpa: number; offset: number; size: number; slot: number }

export interface BindingRequest { gpa: number; offset: number; size: number }
export interface BindingSpan { guest: Span; inode: Span }

/**
 * A new memslot's geometry: exact non-negative numbers, aligned, non-empty, at most one
 * memslot's worth, inside the inode, inside the guest-physical space gmemd accepts.
 */
export function checkBindingRange(req: BindingRequest, inodeSize: number): Result<BindingSpan> {
  const n = exactAll({ gpa: req.gpa, offset: req.offset, size: req.size });
  if (!n.ok) return n;
  const { gpa, offset, size } = n.value;
  if (size === 0n) return err('binding.empty', 'size must be > 0');
  if (!isAligned(gpa) || !isAligned(offset) || !isAligned(size)) {
    return err('binding.misaligned', 'gpa, offset and size must be page-aligned');
  }
  if (size > BigInt(MAX_SLOT_BYTES)) return err('binding.too_large', `a memslot holds at most ${MAX_SLOT_BYTES} bytes`, { limit: MAX_SLOT_BYTES });
  const inode: Span = { start: offset, size };
  if (!within(inode, BigInt(inodeSize))) {
    return err('binding.out_of_bounds', `offset ${offset} + size ${size} exceeds the inode size ${inodeSize}`, { inodeSize });
  }
  const guest: Span = { start: gpa, size };
  if (!within(guest, BigInt(MAX_GPA))) {
    return err('binding.gpa_out_of_range', `guest range [${gpa}, ${gpa + size}) ends above ${MAX_GPA}`, { limit: MAX_GPA });
  }
  return ok({ guest, inode });
}

/**
 * No guest-address overlap with the VM's other memslots (EEXIST in the kernel), and for gmem
 * memslots no offset overlap with the inode's other gmem memslots (EINVAL in 6.18).
 */
export function checkBindingOverlap(s: BindingSpan, vmSlots: readonly Extent[], gmemSlots: readonly Extent[] | null): Result<true> {
  const gpaHit = vmSlots.find((b) => overlaps(s.guest.start, s.guest.size, b.gpa, b.size));
  if (gpaHit) {
    return err('binding.gpa_overlap', `guest range overlaps binding ${gpaHit.id}`, { bindingId: gpaHit.id });
  }
  const offHit = gmemSlots?.find((b) => overlaps(s.inode.start, s.inode.size, b.offset, b.size));
  if (offHit) {
    return err('binding.offset_overlap', `inode range is already bound by gmem memslot ${offHit.id}`, { bindingId: offHit.id });
  }
  return ok(true);
}

/** Both checks, range first. */
export function checkBinding(req: BindingRequest, inodeSize: number, vmSlots: readonly Extent[], gmemSlots: readonly Extent[] | null): Result<BindingSpan> {
  const s = checkBindingRange(req, inodeSize);
  if (!s.ok) return s;
  const o = checkBindingOverlap(s.value, vmSlots, gmemSlots);
  return o.ok ? s : o;
}
