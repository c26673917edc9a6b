// Memslot id allocation. User bindings take the lowest free id; the probe's temporary code
// page takes the highest, so it never collides with a slot a caller asked for.
import { err, ok, type Result } from './result.js';
import { overlaps, PAGE, type Extent } from './ranges.js';

export const NR_MEMSLOTS = 32764;

/** A VM's memslot ids as a new binding sees them: in use (recorded or claimed) or free. */
export interface SlotTable {
  /** The VM's bindings holding a slot, for the quota. */
  count: number;
  has(slot: number): boolean;
  /** The lowest id below `limit` that `has` says is free; undefined if there is none. */
  lowestFree(limit: number): number | undefined;
}

export function chooseSlot(slots: SlotTable, requested?: number): Result<number> {
  if (requested !== undefined) {
    if (!Number.isSafeInteger(requested) || requested < 0 || requested >= NR_MEMSLOTS) {
      return err('request.invalid', `slot must be an integer in [0, ${NR_MEMSLOTS})`, { field: 'slot', value: String(requested) });
    }
    return slots.has(requested) ? err('binding.slot_in_use', `slot ${requested} is in use`) : ok(requested);
  }
  // The top id stays free for the probe's code page (probeSlot).
  const s = slots.lowestFree(NR_MEMSLOTS - 1);
  return s === undefined ? err('binding.slots_exhausted', `all ${NR_MEMSLOTS - 1} memslots are in use`) : ok(s);
}

export function probeSlot(used: Iterable<number>): number | undefined {
  const taken = new Set(used);
  for (let s = NR_MEMSLOTS - 1; s >= 0; s--) if (!taken.has(s)) return s;
  return undefined;
}

/** A free page below 4 GiB for the probe's code, away from every memslot and the target page. */
export function probeCodeGpa(slots: readonly Extent[], target: number): number | undefined {
  const targetPage = Math.floor(target / PAGE) * PAGE;
  const sorted = [...slots].sort((a, b) => b.gpa - a.gpa);
  // Walk down from just below 4 GiB, skipping occupied ranges: the top of the 32-bit space
  // is where guests rarely place RAM.
  let candidate = 2 ** 32 - PAGE;
  while (candidate >= 0) {
    const hit = sorted.find((s) => overlaps(candidate, PAGE, s.gpa, s.size));
    if (hit) { candidate = Math.floor((hit.gpa - PAGE) / PAGE) * PAGE; continue; }
    if (candidate === targetPage) { candidate -= PAGE; continue; }
    return candidate;
  }
  return undefined;
}
