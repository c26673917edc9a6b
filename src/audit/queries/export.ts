// NDJSON export of events over a seq or time range, in constant memory. Rows are read in
// keyset chunks, each chunk's statement run to completion before anything is yielded: an
// iterator left open across an await would keep the shared connection busy and make every
// write in the meantime fail ("This database connection is busy executing a query").
// Each line is one AuditEvent; canonicalize(line.details) is the stored details string, so
// an external verifier can recompute every hash from the export alone.
import { Readable } from 'node:stream';
import type Database from 'better-sqlite3';
import type { EventRow } from '../../store/audit-chain.js';
import { EVENT_COLUMNS, toAuditEvent, type AuditEvent } from '../event-rows.js';
import { TimeBounds } from './time-bounds.js';

export interface ExportRange {
  /** Inclusive seq bounds. */
  fromSeq?: number;
  toSeq?: number;
  /** Time bounds in ms: since inclusive, until exclusive. */
  since?: number;
  until?: number;
  /** Rows per statement run (memory bound); default 1000. */
  chunk?: number;
}

export class EventExporter {
  private readonly chunkStmt: Database.Statement;
  private readonly headSeq: Database.Statement;
  private readonly firstSince: Database.Statement;

  constructor(sqlite: Database.Database, private readonly bounds = new TimeBounds(sqlite)) {
    this.chunkStmt = sqlite.prepare(`SELECT ${EVENT_COLUMNS} FROM events
      WHERE seq > @after AND seq <= @hi AND time >= @since AND time < @until
      ORDER BY seq LIMIT @chunk`);
    this.headSeq = sqlite.prepare('SELECT max(seq) FROM events').pluck();
    // Without monotone times (time-bounds.ts), the first event in range is the smallest seq
    // among all events at or after `since`, not the first by time.
    this.firstSince = sqlite.prepare('SELECT min(seq) FROM events WHERE time >= ?').pluck();
  }

  /** Yields one NDJSON line (with its newline) per event, in seq order. The range ends at
   *  the head as it is when the export starts, so a busy ledger still gives a finite export.
   *  `shape` maps each event to what is written (the HTTP API writes its wire form). */
  async *lines(range: ExportRange = {}, shape: (e: AuditEvent) => unknown = (e) => e): AsyncGenerator<string> {
    const chunk = range.chunk ?? 1000;
    const head = (this.headSeq.get() as number | null) ?? 0;
    let hi = Math.min(range.toSeq ?? head, head);
    let after = (range.fromSeq ?? 1) - 1;
    const seqs = range.since !== undefined || range.until !== undefined ? this.bounds.seqRange(range.since, range.until) : null;
    if (seqs) {
      after = Math.max(after, seqs.lo - 1);
      hi = Math.min(hi, seqs.hi - 1);
    } else if (range.since !== undefined) {
      const first = this.firstSince.get(range.since) as number | null;
      if (first === null) return;
      after = Math.max(after, first - 1);
    }
    const params = { after, hi, since: range.since ?? Number.MIN_SAFE_INTEGER, until: range.until ?? Number.MAX_SAFE_INTEGER, chunk };
    for (;;) {
      const lines: string[] = [];
      for (const row of this.chunkStmt.iterate(params) as Iterable<EventRow>) {
        lines.push(JSON.stringify(shape(toAuditEvent(row))) + '\n');
        params.after = row.seq;
      }
      for (const line of lines) yield line;
      // LIMIT counts matching rows only, so a short chunk means all of (after, hi] was read.
      if (lines.length < chunk) return;
    }
  }

  /** A Readable of the same lines, with backpressure, for HTTP responses and files. */
  stream(range: ExportRange = {}, shape?: (e: AuditEvent) => unknown): Readable {
    return Readable.from(this.lines(range, shape), { objectMode: false });
  }
}
