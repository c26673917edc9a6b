// Who could touch an inode at a past instant: the access intervals covering it, never the
// current files (a revoked grant must still show up for the time it was held). An interval
// covers [from, to); one that is still open covers everything after its start. The instant
// is a time in ms, or an event seq for the exact state an event left behind (several events
// can share a millisecond).
import type Database from 'better-sqlite3';
import { err, ok, type Result } from '../../../domain/result.js';
import { clampLimit, decodeIntCursor, pageOf, type Page } from './paging.js';

export interface AccessQuery {
  inodeId: string;
  /** Instant in ms since the epoch. Exactly one of at / atSeq. */
  at?: number;
  /** The state right after the event with this seq. */
  atSeq?: number;
  cursor?: string;
  limit?: number;
}

export interface AccessHolder {
  vmId: string;
  fileId: string;
  role: 'owner' | 'grantee';
  permissions: string[];
  /** When this role and permission set began, and the event that began it. */
  from: { time: number; seq: number };
  /** When it ended (the file closed or changed), or null while it still holds. */
  to: { time: number; seq: number } | null;
}

interface IntervalRow {
  id: number; vmId: string; fileId: string; role: 'owner' | 'grantee'; permissions: string;
  fromTime: number; fromSeq: number; toTime: number | null; toSeq: number | null;
}

const COLUMNS = `id, vm_id AS vmId, file_id AS fileId, role, permissions, from_time AS fromTime,
  from_seq AS fromSeq, to_time AS toTime, to_seq AS toSeq`;

export class AccessQueries {
  private readonly atTime: Database.Statement;
  private readonly atSeq: Database.Statement;
  private readonly inodeExists: Database.Statement;

  constructor(sqlite: Database.Database) {
    // The (inode_id, from_time) index narrows to the inode; the few intervals left are
    // filtered and sorted. INDEXED BY keeps the planner off a full rowid-order scan.
    this.atTime = sqlite.prepare(`SELECT ${COLUMNS} FROM access_intervals INDEXED BY access_inode_time_idx
      WHERE inode_id = @inodeId AND from_time <= @at AND (to_time IS NULL OR to_time > @at) AND id > @after
      ORDER BY id LIMIT @limit`);
    this.atSeq = sqlite.prepare(`SELECT ${COLUMNS} FROM access_intervals INDEXED BY access_inode_time_idx
      WHERE inode_id = @inodeId AND from_seq <= @at AND (to_seq IS NULL OR to_seq > @at) AND id > @after
      ORDER BY id LIMIT @limit`);
    this.inodeExists = sqlite.prepare('SELECT 1 FROM inodes WHERE id = ?').pluck();
  }

  holders(q: AccessQuery): Result<Page<AccessHolder>> {
    if ((q.at === undefined) === (q.atSeq === undefined)) return err('request.invalid', 'give exactly one of at and atSeq');
    const after = decodeIntCursor(q.cursor);
    if (!after.ok) return after;
    if (this.inodeExists.get(q.inodeId) === undefined) return err('inode.not_found', `inode ${q.inodeId} does not exist`);
    const limit = clampLimit(q.limit);
    const stmt = q.at !== undefined ? this.atTime : this.atSeq;
    const rows = stmt.all({ inodeId: q.inodeId, at: q.at ?? q.atSeq, after: after.value ?? 0, limit: limit + 1 }) as IntervalRow[];
    return ok(pageOf(rows, limit, (r) => r.id, toHolder));
  }
}

function toHolder(r: IntervalRow): AccessHolder {
  return {
    vmId: r.vmId, fileId: r.fileId, role: r.role, permissions: JSON.parse(r.permissions) as string[],
    from: { time: r.fromTime, seq: r.fromSeq },
    to: r.toSeq === null || r.toTime === null ? null : { time: r.toTime, seq: r.toSeq },
  };
}
