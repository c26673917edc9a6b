// Time filters as seq ranges. Events are paged by seq, so "time >= since" alone makes SQLite
// either scan the chain from seq 1 or sort the whole window (~200-400 ms at 1M events). While
// event times never decrease along seq (the normal case), the events in [since, until) are
// exactly the seqs in [first seq at/after since, first seq at/after until), each found in
// O(log n) on events_time_idx (time, then rowid = seq). A clock that stepped back breaks that
// equivalence, so monotonicity is checked (once over events_time_idx, then only over new
// events) and, where it does not hold, callers fall back to filtering by time.
import type Database from 'better-sqlite3';

export interface SeqRange { lo: number; hi: number }

export class TimeBounds {
  private checkedThrough = 0;
  private lastTime = Number.MIN_SAFE_INTEGER;
  private monotone = true;
  private readonly head: Database.Statement;
  private readonly seqsByTime: Database.Statement;
  private readonly newTimes: Database.Statement;
  private readonly firstAtOrAfter: Database.Statement;

  constructor(sqlite: Database.Database) {
    this.head = sqlite.prepare('SELECT seq, time FROM events ORDER BY seq DESC LIMIT 1');
    // Times never decrease along seq exactly when seq increases along (time, seq) order, and
    // that order is the covering events_time_idx: a pass over a small index instead of the
    // table (at 1M events ~0.3-0.5 s, against ~1.5 s for a window function over the rows).
    this.seqsByTime = sqlite.prepare('SELECT seq FROM events ORDER BY time, seq').pluck();
    this.newTimes = sqlite.prepare('SELECT time FROM events WHERE seq > ? AND seq <= ? ORDER BY seq').pluck();
    this.firstAtOrAfter = sqlite.prepare('SELECT seq FROM events WHERE time >= ? ORDER BY time, seq LIMIT 1').pluck();
  }

  /** The seq range [lo, hi) holding exactly the events with since <= time < until, or null
   *  when event times are not monotone and no such range exists. */
  seqRange(since: number | undefined, until: number | undefined): SeqRange | null {
    const head = this.head.get() as { seq: number; time: number } | undefined;
    if (!head) return { lo: 1, hi: 1 };
    if (!this.isMonotone(head)) return null;
    const bound = (t: number | undefined, dflt: number) =>
      t === undefined ? dflt : (this.firstAtOrAfter.get(t) as number | undefined) ?? head.seq + 1;
    return { lo: bound(since, 1), hi: bound(until, head.seq + 1) };
  }

  private isMonotone(head: { seq: number; time: number }): boolean {
    if (this.monotone && head.seq > this.checkedThrough) {
      this.monotone = this.checkedThrough === 0 ? this.wholeChainMonotone() : this.newEventsMonotone(head.seq);
      this.checkedThrough = head.seq;
      this.lastTime = head.time;
    } else if (head.seq < this.checkedThrough) {
      // The chain got shorter (truncated): start over rather than trust old knowledge.
      this.checkedThrough = 0; this.lastTime = Number.MIN_SAFE_INTEGER; this.monotone = true;
      return this.isMonotone(head);
    }
    return this.monotone;
  }

  private wholeChainMonotone(): boolean {
    let prev = Number.MIN_SAFE_INTEGER;
    for (const seq of this.seqsByTime.iterate() as Iterable<number>) {
      if (seq < prev) return false; // leaving the loop early closes the statement
      prev = seq;
    }
    return true;
  }

  /** Events appended since the last check: each no earlier than the one before it. */
  private newEventsMonotone(toSeq: number): boolean {
    let prev = this.lastTime;
    for (const time of this.newTimes.iterate(this.checkedThrough, toSeq) as Iterable<number>) {
      if (time < prev) return false;
      prev = time;
    }
    return true;
  }
}
