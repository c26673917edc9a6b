// Events, filtered and paged by seq (keyset: `seq > cursor`, or `<` newest-first). Each
// equality filter has an (column, seq) index in schema.ts, so a filtered page is an index
// range scan already in seq order. Statements are prepared once per filter shape.
import type Database from 'better-sqlite3';
import type { EventRow, Outcome } from '../../store/audit-chain.js';
import { err, ok, type Result } from '../../domain/result.js';
import { EVENT_COLUMNS, toAuditEvent, type AuditEvent } from '../event-rows.js';
import { clampLimit, decodeIntCursor, pageOf, type Page } from './paging.js';

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

  constructor(private readonly sqlite: Database.Database) {}

  page(f: EventFilter = {}): Result<Page<AuditEvent>> {
    const after = decodeIntCursor(f.cursor);
    if (!after.ok) return after;
    if (f.since !== undefined && f.until !== undefined && f.since > f.until) {
      return err('request.invalid', 'since must not be after until');
    }
    const desc = f.order === 'desc';
    const limit = clampLimit(f.limit);
    const params: Record<string, unknown> = { limit: limit + 1 };
    let key = desc ? 'd' : 'a';
    for (const [name] of CONDITIONS) {
      if (f[name] !== undefined) { params[name] = f[name]; key += name[0]! + name[1]; }
    }
    if (after.value !== undefined) { params.after = after.value; key += 'c'; }
    const rows = this.statement(key, f, desc, after.value !== undefined).all(params) as EventRow[];
    return ok(pageOf(rows, limit, (r) => r.seq, toAuditEvent));
  }

  private statement(key: string, f: EventFilter, desc: boolean, cursor: boolean): Database.Statement {
    let stmt = this.statements.get(key);
    if (!stmt) {
      const where: string[] = CONDITIONS.filter(([name]) => f[name] !== undefined).map(([, cond]) => cond);
      if (cursor) where.push(desc ? 'seq < @after' : 'seq > @after');
      stmt = this.sqlite.prepare(`SELECT ${EVENT_COLUMNS} FROM events
        ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY seq ${desc ? 'DESC' : 'ASC'} LIMIT @limit`);
      this.statements.set(key, stmt);
    }
    return stmt;
  }
}
