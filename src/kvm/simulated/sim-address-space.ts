// The process's host mappings (VMAs): placement, munmap with splitting, and what a host access
// at an address reaches. A gmem mapping holds a reference on its file, so it keeps the file
// (and with it the inode and the bindings) alive after the last fd is closed (KERNEL.md §3).
import { GMEM_FLAG, PROT } from '../uapi.js';
import { getFile, putFile, type SimFile } from './sim-objects.js';
import { PAGE, PageStore } from './sim-pages.js';
import { RangeSet } from './sim-range-set.js';

/** x86-64 TASK_SIZE_MAX with 4-level paging. */
export const TASK_SIZE = (1n << 47n) - PAGE;

export type Backing =
  | { kind: 'anon'; store: PageStore; origin: bigint }
  | { kind: 'gmem'; file: SimFile; offset: bigint };

export interface Vma {
  start: bigint;
  end: bigint;
  prot: number;
  backing: Backing;
}

/** The page a host access lands on. */
export interface PageRef {
  store: PageStore;
  index: number;
  offset: number;
}

export class AddressSpace {
  private readonly vmas = new RangeSet<Vma>();
  /**
   * [base, noGapBelow) is covered by mappings without a gap, so a first-fit search may start
   * there. Walking every mapping from the base made each mmap cost O(mappings): 11% of the
   * event loop in a mix that keeps adding them. Only lowered by munmap; raised by the search.
   */
  private noGapBelow: bigint;

  constructor(private readonly base: bigint) {
    this.noGapBelow = base;
  }

  /** First fit from the base upward; undefined when no gap is large enough (ENOMEM). */
  place(length: bigint): bigint | undefined {
    const all = this.vmas.all();
    // From the mapping before the hint, which may reach past it.
    let cursor = this.noGapBelow;
    for (let i = Math.max(0, this.vmas.firstAtOrAfter(cursor) - 1); i < all.length; i++) {
      const r = all[i]!;
      if (r.start - cursor >= length) break;
      // A mapping that starts where the covered run ends extends the run.
      if (r.start <= this.noGapBelow && r.end > this.noGapBelow) this.noGapBelow = r.end;
      if (r.end > cursor) cursor = r.end;
    }
    return cursor + length <= TASK_SIZE ? cursor : undefined;
  }

  map(start: bigint, length: bigint, prot: number, backing: Backing): void {
    this.vmas.insert(start, start + length, { start, end: start + length, prot, backing });
  }

  /** Unmap [start, end), splitting VMAs that straddle an edge (each part holds its own file ref). */
  unmap(start: bigint, end: bigint): void {
    // What stays below `start` (a split keeps its lower part) is as covered as it was.
    if (start < this.noGapBelow) this.noGapBelow = start < this.base ? this.base : start;
    for (const r of this.vmas.overlapping(start, end)) {
      const vma = r.value;
      this.vmas.removeAt(vma.start);
      if (vma.start < start) this.keepPart(vma, vma.start, start);
      if (vma.end > end) this.keepPart(vma, end, vma.end);
      if (vma.backing.kind === 'gmem') putFile(vma.backing.file);
    }
  }

  /** Where a host access at addr lands, or undefined for SIGSEGV/SIGBUS (reported as EFAULT). */
  resolve(addr: bigint, write: boolean): PageRef | undefined {
    const vma = this.vmas.find(addr)?.value;
    if (!vma || !(vma.prot & (write ? PROT.WRITE : PROT.READ))) return undefined;
    const b = vma.backing;
    if (b.kind === 'anon') return pageRef(b.store, addr - b.origin);
    const offset = b.offset + (addr - vma.start);
    const inode = b.file.inode;
    // kvm_gmem_fault_user_mapping: SIGBUS beyond i_size, and on memory that is not shared.
    if (offset >= inode.size || !(inode.flags & GMEM_FLAG.INIT_SHARED)) return undefined;
    return pageRef(inode.pages, offset);
  }

  gmemVmas(): Vma[] {
    return this.vmas.all().map((r) => r.value).filter((v) => v.backing.kind === 'gmem');
  }

  private keepPart(vma: Vma, start: bigint, end: bigint): void {
    const b = vma.backing;
    const backing: Backing = b.kind === 'anon' ? b : { ...b, offset: b.offset + (start - vma.start) };
    if (b.kind === 'gmem') getFile(b.file);
    this.map(start, end - start, vma.prot, backing);
  }
}

function pageRef(store: PageStore, offset: bigint): PageRef {
  return { store, index: Number(offset / PAGE), offset: Number(offset % PAGE) };
}
