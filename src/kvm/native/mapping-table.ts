// The host mappings the native adapter made, kept sorted by address. The kernel never lets two
// mappings overlap, so neither do these, and their ends are sorted as their starts are: the
// mapping that may hold an address is found by binary search, and what an munmap touches is a
// contiguous run. A plain list cost O(n) per munmap with a copy of the whole list (759 µs each
// with 10,000 mappings, one per live inode, so deleting them all took seconds of event loop),
// and O(n) per close and per host memory access.
export interface Mapping {
  start: bigint;
  end: bigint;
  fd: number;          // -1: anonymous, or the fd was closed through the adapter
  anonymous: boolean;
  offset: bigint;      // file offset of `start`
  prot: number;
  ino: bigint;         // guards against the fd number being reused for another file
  faultable: boolean;  // false for a gmem known to lack INIT_SHARED: every host touch is SIGBUS
}

export class MappingTable {
  private readonly sorted: Mapping[] = [];
  // Arrays, not Sets: an fd has one mapping, rarely a few, and a Set per live inode weighed
  // 1.3 MiB more heap than an array each at 10,000 (README "Memory").
  private readonly byFd = new Map<number, Mapping[]>();

  get size(): number { return this.sorted.length; }

  /** A new mapping; whatever it covers was unmapped by the kernel (MAP_FIXED semantics). */
  add(m: Mapping): void {
    this.cut(m.start, m.end);
    this.sorted.splice(this.firstEndingAfter(m.start), 0, m);
    this.index(m);
  }

  /** munmap(lo, hi - lo): keeps whatever lies outside [lo, hi) of each mapping, a hole in the middle included. */
  cut(lo: bigint, hi: bigint): void {
    if (hi <= lo) return;
    const from = this.firstEndingAfter(lo);
    let to = from;
    while (to < this.sorted.length && this.sorted[to]!.start < hi) to++;
    if (to === from) return;
    const parts: Mapping[] = [];
    for (const m of this.sorted.slice(from, to)) {
      this.unindex(m);
      if (m.start < lo) parts.push({ ...m, end: lo });
      if (m.end > hi) parts.push({ ...m, start: hi, offset: m.offset + (hi - m.start) });
    }
    this.sorted.splice(from, to - from, ...parts);
    for (const p of parts) this.index(p);
  }

  /** A mapping with start <= addr and end <= its end, if one exists: for end > addr, the one
   *  holding [addr, end); for an empty range, one may end exactly at addr. */
  covering(addr: bigint, end: bigint): Mapping | undefined {
    const m = this.sorted[this.firstEndingAfter(end - 1n)];
    return m && m.start <= addr && end <= m.end ? m : undefined;
  }

  /** The fd is closed: its mappings stay valid, but their file can no longer be checked through it. */
  forgetFd(fd: number): void {
    const ms = this.byFd.get(fd);
    if (!ms) return;
    for (const m of ms) m.fd = -1;
    this.byFd.delete(fd);
  }

  /** In address order, for tests and diagnostics. */
  list(): readonly Mapping[] { return this.sorted; }

  /** Index of the first mapping whose end lies above addr (the only one that can hold addr). */
  private firstEndingAfter(addr: bigint): number {
    let lo = 0, hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.sorted[mid]!.end <= addr) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private index(m: Mapping): void {
    if (m.anonymous || m.fd < 0) return;
    const ms = this.byFd.get(m.fd);
    if (ms) ms.push(m);
    else this.byFd.set(m.fd, [m]);
  }

  private unindex(m: Mapping): void {
    const ms = this.byFd.get(m.fd);
    const i = ms ? ms.indexOf(m) : -1;
    if (i < 0) return;
    ms!.splice(i, 1);
    if (ms!.length === 0) this.byFd.delete(m.fd);
  }
}
