// Sparse page contents. An absent page reads as zeros: the kernel zeroes a gmem folio the first
// time it is faulted (host or guest) if it is not uptodate, and anonymous memory starts zeroed,
// so "never written" and "zero" are indistinguishable through every path the port offers.
export const PAGE = 4096n;
export const PAGE_BYTES = 4096;

export class PageStore {
  // Made on the first write: most inodes are never written through the simulator, and an
  // empty Map keeps a hash table (~200 bytes with the Map: 1.9 MiB at 10,000 inodes).
  private pages: Map<number, Buffer> | null = null;

  readByte(index: number, offset: number): number {
    return this.pages?.get(index)?.[offset] ?? 0;
  }

  writeByte(index: number, offset: number, value: number): void {
    this.page(index)[offset] = value & 0xff;
  }

  read(index: number, offset: number, target: Buffer, at: number, length: number): void {
    const p = this.pages?.get(index);
    if (p) p.copy(target, at, offset, offset + length); else target.fill(0, at, at + length);
  }

  write(index: number, offset: number, source: Buffer, from: number, length: number): void {
    source.copy(this.page(index), offset, from, from + length);
  }

  /** Drop pages [first, last): a punch hole. Iterates the populated pages, not the range. */
  drop(first: number, last: number): void {
    const pages = this.pages;
    if (pages) for (const index of pages.keys()) if (index >= first && index < last) pages.delete(index);
  }

  clear(): void {
    this.pages = null;
  }

  /** Populated pages by index (for the handover state file, sim-handover.ts). */
  entries(): [number, Buffer][] {
    return this.pages ? [...this.pages.entries()].sort((a, b) => a[0] - b[0]) : [];
  }

  private page(index: number): Buffer {
    const pages = this.pages ??= new Map();
    let p = pages.get(index);
    if (!p) pages.set(index, (p = Buffer.alloc(PAGE_BYTES)));
    return p;
  }
}
