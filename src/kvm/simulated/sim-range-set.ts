// Non-overlapping half-open ranges kept sorted by start, so overlap and point queries are a
// binary search. Memslot GPA ranges, a file's binding offsets and host mappings are all such
// sets, and a VM may hold 32764 slots: a linear scan per ioctl would make filling it quadratic.

export interface Range<T> {
  start: bigint;
  end: bigint;
  value: T;
}

export class RangeSet<T> {
  private readonly items: Range<T>[] = [];

  /** Index of the first range whose start is >= point. */
  private lowerBound(point: bigint): number {
    let lo = 0, hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.items[mid].start < point) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  /** Ranges intersecting [start, end), in address order. */
  overlapping(start: bigint, end: bigint): Range<T>[] {
    const out: Range<T>[] = [];
    // Ranges are disjoint and sorted, so their ends are sorted too: walk back from the last
    // range starting before `end` while ranges still reach past `start`.
    for (let i = this.lowerBound(end) - 1; i >= 0 && this.items[i].end > start; i--) out.unshift(this.items[i]);
    return out;
  }

  /** Whether any range other than the one holding `except` intersects [start, end). */
  overlaps(start: bigint, end: bigint, except?: T): boolean {
    return this.overlapping(start, end).some((r) => r.value !== except);
  }

  /** Index of the first range that starts at or after `point` (ranges are in start order). */
  firstAtOrAfter(point: bigint): number {
    return this.lowerBound(point);
  }

  find(point: bigint): Range<T> | undefined {
    const i = this.lowerBound(point + 1n) - 1;
    const r = this.items[i];
    return r && r.end > point ? r : undefined;
  }

  /** Caller guarantees [start, end) is free. */
  insert(start: bigint, end: bigint, value: T): void {
    this.items.splice(this.lowerBound(start), 0, { start, end, value });
  }

  /** Remove the range starting exactly at `start`. */
  removeAt(start: bigint): void {
    const i = this.lowerBound(start);
    if (this.items[i]?.start === start) this.items.splice(i, 1);
  }

  clear(): void {
    this.items.length = 0;
  }

  all(): readonly Range<T>[] {
    return this.items;
  }

  get size(): number {
    return this.items.length;
  }
}
