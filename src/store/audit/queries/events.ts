// Events, filtered and paged by seq (keyset: `seq > cursor`, or `<` newest-first). Each
// equality filter has an (column, seq) index in schema.ts, so a filtered page is an index
// range scan already in seq order; a time filter becomes a seq range (time-bounds.ts), or
// stays a filter on time when the chain's times are not monotone. Statements are prepared
// once per filter shape.
import type Database from 'better-sqlite3';
import type { EventRow, Outcome } from '../../audit-chain.js';
import { err, ok, type Result } from '../../../domain/result.js';
import { EVENT_COLUMNS, toAuditEvent, type AuditEvent } from '../event-rows.js';
import { clampLimit, decodeIntCursor, pageOf, type Page } from './paging.js';
import { TimeBounds } from './time-bounds.js';

export interface EventFilter {
  action?: string;
  vmId?: string;
  inodeId?: string;
  fileId?: string;
  outcome?: Outcome;
  /** Inclusive lower bound on event time (ms since the epoch). */
  since?: number;
  /** Exclusive upper bound on event time (ms). */
  until?: number;
  /** Oldest first (default) or newest first. */
  order?: 'asc' | 'desc';
  cursor?: string;
  limit?: number;
}

// Filter key -> SQL condition on a named parameter. Order fixes the statement cache key.
const CONDITIONS = [
  ['action', 'action = @action'],
  ['vmId', 'vm_id = @vmId'],
  ['inodeId', 'inode_id = @inodeId'],
  ['fileId', 'file_id = @fileId'],
  ['outcome', 'outcome = @outcome'],
  ['since', 'time >= @since'],
  ['until', 'time < @until'],
] as const;

export class EventsQuery {
  private readonly statements = new Map<string, Database.Statement>();

  constructor(private readonly sqlite: Database.Database, private readonly bounds = new TimeBounds(sqlite)) {}

  page(f: EventFilter = {}): Result<Page<AuditEvent>> {
    const after = decodeIntCursor(f.cursor);
    if (!after.ok) return after;
    if (f.since !== undefined && f.until !== undefined && f.since > f.until) {
      return err('request.invalid', 'since must not be after until');
    }
    const desc = f.order === 'desc';
    const limit = clampLimit(f.limit);
    const params: Record<string, unknown> = { limit: limit + 1 };
    const range = f.since !== undefined || f.until !== undefined ? this.bounds.seqRange(f.since, f.until) : null;
    // With a seq range, the time conditions are implied by it and left out.
    const active = CONDITIONS.filter(([name]) => f[name] !== undefined && !(range && (name === 'since' || name === 'until')));
    let key = desc ? 'd' : 'a';
    for (const [name] of active) { params[name] = f[name]; key += name[0]! + name[1]; }
    if (range) { params.lo = range.lo; params.hi = range.hi; key += 'r'; }
    if (after.value !== undefined) { params.after = after.value; key += 'c'; }
    const rows = this.statement(key, active.map(([, cond]) => cond), range !== null, desc, after.value !== undefined).all(params) as EventRow[];
    return ok(pageOf(rows, limit, (r) => r.seq, toAuditEvent));
  }

  private statement(key: string, conditions: string[], seqRange: boolean, desc: boolean, cursor: boolean): Database.Statement {
    let stmt = this.statements.get(key);
    if (!stmt) {
      const where = [...conditions];
      if (seqRange) where.push('seq >= @lo AND seq < @hi');
      if (cursor) where.push(desc ? 'seq < @after' : 'seq > @after');
      stmt = this.sqlite.prepare(`SELECT ${EVENT_COLUMNS} FROM events
        ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY seq ${desc ? 'DESC' : 'ASC'} LIMIT @limit`);
      this.statements.set(key, stmt);
    }
    return stmt;
  }
}
