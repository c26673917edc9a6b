// The auditor's questions over one ledger connection, each prepared once: what happened
// (events, export), who could touch an inode at an instant (access), what is exposed now
// (exposure), who owned an inode over time (lineage), and is the record intact (verify).
import type Database from 'better-sqlite3';
import { EventsQuery, type EventFilter } from './queries/events.js';
import { AccessQueries, type AccessQuery } from './queries/access.js';
import { ExposureQuery, type ExposureKind } from './queries/exposure.js';
import { LineageQuery } from './queries/lineage.js';
import { EventExporter, type ExportRange } from './queries/export.js';
import { TimeBounds } from './queries/time-bounds.js';
import type { LineFormat } from './queries/event-line.js';
import { verifyLedger, type VerifyOptions } from './verify.js';
import { verifyLedgerParallel } from './verify-parallel.js';

export class AuditQueries {
  private readonly eventsQ: EventsQuery;
  private readonly accessQ: AccessQueries;
  private readonly exposureQ: ExposureQuery;
  private readonly lineageQ: LineageQuery;
  private readonly exporter: EventExporter;

  /** key: GMEMD_AUDIT_KEY, when configured, so verify also checks checkpoint MACs. */
  constructor(private readonly sqlite: Database.Database, private readonly verifyOptions: VerifyOptions = {}) {
    const bounds = new TimeBounds(sqlite);
    this.eventsQ = new EventsQuery(sqlite, bounds);
    this.accessQ = new AccessQueries(sqlite);
    this.exposureQ = new ExposureQuery(sqlite);
    this.lineageQ = new LineageQuery(sqlite);
    this.exporter = new EventExporter(sqlite, bounds);
  }

  events(filter: EventFilter = {}) { return this.eventsQ.page(filter); }
  access(q: AccessQuery) { return this.accessQ.holders(q); }
  exposure(q: { kind?: ExposureKind; cursor?: string; limit?: number } = {}) { return this.exposureQ.page(q); }
  lineage(inodeId: string, q: { cursor?: string; limit?: number } = {}) { return this.lineageQ.page(inodeId, q); }
  exportLines(range: ExportRange = {}, format?: LineFormat) { return this.exporter.lines(range, format); }
  exportChunks(range: ExportRange = {}, format?: LineFormat, opts?: { threads?: number; workersFrom?: number }) { return this.exporter.chunks(range, format, opts); }
  exportStream(range: ExportRange = {}, format?: LineFormat) { return this.exporter.stream(range, format); }
  /** Blocking walk in one snapshot (tools, tests). */
  verify() { return verifyLedger(this.sqlite, this.verifyOptions); }
  /** The same result from worker threads, or in chunks between yields for a small ledger (the server). */
  verifyAsync(chunk?: number) { return verifyLedgerParallel(this.sqlite, { ...this.verifyOptions, ...(chunk ? { chunk } : {}) }); }
}
