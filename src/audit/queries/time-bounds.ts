// Time filters as seq ranges. Events are paged by seq, so "time >= since" alone makes SQLite
// either scan the chain from seq 1 or sort the whole window (~200-400 ms at 1M events). While
// event times never decrease along seq (the normal case), the events in [since, until) are
// exactly the seqs in [first seq at/after since, first seq at/after until), each found in
// O(log n) on events_time_idx (time, then rowid = seq). A clock that stepped back breaks that
// equivalence, so monotonicity is checked (once over the chain, then only over new events)
// and, where it does not hold, callers fall back to filtering by time.
import type Database from 'better-sqlite3';

export interface SeqRange { lo: number; hi: number }

export class TimeBounds {
  private checkedThrough = 0;
  private lastTime = Number.MIN_SAFE_INTEGER;
  private monotone = true;
  private readonly head: Database.Statement;
  private readonly regressions: Database.Statement;
  private readonly firstAtOrAfter: Database.Statement;

  constructor(sqlite: Database.Database) {
    this.head = sqlite.prepare('SELECT seq, time FROM events ORDER BY seq DESC LIMIT 1');
    // One ordered pass in SQLite (a window function), not a row-by-row loop in JS.
    this.regressions = sqlite.prepare(`SELECT count(*) FROM (
      SELECT time, lag(time, 1, @lastTime) OVER (ORDER BY seq) AS prev FROM events WHERE seq > @from AND seq <= @to
    ) WHERE time < prev`).pluck();
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
      const n = this.regressions.get({ from: this.checkedThrough, to: head.seq, lastTime: this.lastTime }) as number;
      this.monotone = n === 0;
      this.checkedThrough = head.seq;
      this.lastTime = head.time;
    } else if (head.seq < this.checkedThrough) {
      // The chain got shorter (truncated): start over rather than trust old knowledge.
      this.checkedThrough = 0; this.lastTime = Number.MIN_SAFE_INTEGER; this.monotone = true;
      return this.isMonotone(head);
    }
    return this.monotone;
  }
}
