// NDJSON export of events over a seq or time range, in constant memory. Rows are read in
// keyset chunks, each chunk's statement run to completion before anything is yielded: an
// iterator left open across an await would keep the shared connection busy and make every
// write in the meantime fail ("This database connection is busy executing a query").
// Each line is one AuditEvent; canonicalize(line.details) is the stored details string, so
// an external verifier can recompute every hash from the export alone. A chunk's lines are
// written from raw rows (event-line.ts) and handed on as one string: a yield per line cost
// more than writing it.
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { Readable } from 'node:stream';
import type Database from 'better-sqlite3';
import { EVENT_COLUMNS } from '../event-rows.js';
import { lineWriter, type LineFormat } from './event-line.js';
import { slicesOnWorkers } from './export-slices.js';
import { TimeBounds } from './time-bounds.js';

export interface ExportRange {
  /** Inclusive seq bounds. */
  fromSeq?: number;
  toSeq?: number;
  /** Time bounds in ms: since inclusive, until exclusive. */
  since?: number;
  until?: number;
  /** Rows per statement run and per yielded text (memory bound); default 1000. */
  chunk?: number;
}

export class EventExporter {
  private readonly chunkStmt: Database.Statement;
  private readonly headSeq: Database.Statement;
  private readonly firstSince: Database.Statement;
  private readonly seqAt: number;
  private readonly eventLine: (row: unknown[]) => string;
  private readonly wireLine: (row: unknown[]) => string;

  constructor(private readonly sqlite: Database.Database, private readonly bounds = new TimeBounds(sqlite)) {
    this.chunkStmt = sqlite.prepare(`SELECT ${EVENT_COLUMNS} FROM events
      WHERE seq > @after AND seq <= @hi AND time >= @since AND time < @until
      ORDER BY seq LIMIT @chunk`).raw(true);
    const names = this.chunkStmt.columns().map((c) => c.name);
    this.seqAt = names.indexOf('seq');
    this.eventLine = lineWriter(names, 'event');
    this.wireLine = lineWriter(names, 'wire');
    this.headSeq = sqlite.prepare('SELECT max(seq) FROM events').pluck();
    // Without monotone times (time-bounds.ts), the first event in range is the smallest seq
    // among all events at or after `since`, not the first by time.
    this.firstSince = sqlite.prepare('SELECT min(seq) FROM events WHERE time >= ?').pluck();
  }

  /** The rows of a range as (after, hi] with time bounds, or null when it holds none. */
  private plan(range: ExportRange): { after: number; hi: number; since: number; until: number } | null {
    const head = (this.headSeq.get() as number | null) ?? 0;
    let hi = Math.min(range.toSeq ?? head, head);
    let after = (range.fromSeq ?? 1) - 1;
    const seqs = range.since !== undefined || range.until !== undefined ? this.bounds.seqRange(range.since, range.until) : null;
    if (seqs) {
      after = Math.max(after, seqs.lo - 1);
      hi = Math.min(hi, seqs.hi - 1);
    } else if (range.since !== undefined) {
      const first = this.firstSince.get(range.since) as number | null;
      if (first === null) return null;
      after = Math.max(after, first - 1);
    }
    return after < hi ? { after, hi, since: range.since ?? Number.MIN_SAFE_INTEGER, until: range.until ?? Number.MAX_SAFE_INTEGER } : null;
  }

  /** Yields the NDJSON text of the range, one string per chunk of whole lines (each with its
   *  newline), in seq order. The range ends at the head as it is when the export starts, so
   *  a busy ledger still gives a finite export. `format` 'wire' writes the HTTP API's form. */
  async *texts(range: ExportRange = {}, format: LineFormat = 'event'): AsyncGenerator<string> {
    const chunk = range.chunk ?? 1000;
    const plan = this.plan(range);
    if (!plan) return;
    const params = { ...plan, chunk };
    const line = format === 'wire' ? this.wireLine : this.eventLine;
    for (;;) {
      let text = '';
      let n = 0;
      for (const row of this.chunkStmt.iterate(params) as Iterable<unknown[]>) {
        text += line(row);
        params.after = row[this.seqAt] as number;
        n++;
      }
      if (n > 0) yield text;
      // LIMIT counts matching rows only, so a short chunk means all of (after, hi] was read.
      if (n < chunk) return;
    }
  }

  /** The same bytes as UTF-8 Buffers. A range of at least `workersFrom` seqs (default
   *  50,000) of a ledger file is written by worker threads (export-slices.ts). */
  async *chunks(range: ExportRange = {}, format: LineFormat = 'event', opts: { threads?: number; workersFrom?: number } = {}): AsyncGenerator<Buffer> {
    const plan = this.plan(range);
    if (!plan) return;
    const threads = opts.threads ?? availableParallelism();
    if (threads > 0 && !this.sqlite.memory && plan.hi - plan.after >= (opts.workersFrom ?? 50_000)) {
      yield* slicesOnWorkers(resolve(this.sqlite.name), { ...plan, width: Math.max(range.chunk ?? 5000, 1), format }, threads);
      return;
    }
    for await (const text of this.texts(range, format)) yield Buffer.from(text);
  }

  /** The same text one line per value (each with its newline). */
  async *lines(range: ExportRange = {}, format: LineFormat = 'event'): AsyncGenerator<string> {
    for await (const text of this.texts(range, format)) {
      for (let a = 0, b = text.indexOf('\n'); b >= 0; a = b + 1, b = text.indexOf('\n', a)) yield text.slice(a, b + 1);
    }
  }

  /** A Readable of the chunks, with backpressure, for HTTP responses and files. */
  stream(range: ExportRange = {}, format: LineFormat = 'event'): Readable {
    return Readable.from(this.chunks(range, format), { objectMode: false });
  }
}
