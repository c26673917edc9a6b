// The chain of owners of an inode, read from the audit events (the ledger's state keeps only
// the current owner): its creation, then every successful donation or migration that moved
// the owner role. Events are found by inode_id, and also by file_id over the inode's files,
// so an ownership event recorded with only its receiving file (actions.ts: fileId = the
// receiving file) is not missed. Both lookups are (column, seq) index scans.
import type Database from 'better-sqlite3';
import type { EventRow } from '../../audit-chain.js';
import { err, ok, type Result } from '../../../domain/result.js';
import { EVENT_COLUMNS } from '../event-rows.js';
import { clampLimit, decodeIntCursor, pageOf, type Page } from './paging.js';

export interface OwnershipStep {
  seq: number;
  time: number;
  actor: string;
  action: 'inode.create' | 'file.donate' | 'file.migrate';
  /** Null for the creation. */
  fromVmId: string | null;
  toVmId: string | null;
  fromFileId: string | null;
  /** The owner file after this step. */
  toFileId: string | null;
  migrationId: string | null;
  requestId: string | null;
}

export class LineageQuery {
  private readonly steps: Database.Statement;
  private readonly inodeExists: Database.Statement;

  constructor(sqlite: Database.Database) {
    // Unary + keeps the planner off events_action_idx: by action it would scan every
    // creation and donation in the ledger; by inode and file it reads one inode's events.
    this.steps = sqlite.prepare(`SELECT ${EVENT_COLUMNS} FROM events
      WHERE (inode_id = @inodeId OR file_id IN (SELECT id FROM files WHERE inode_id = @inodeId))
        AND +outcome = 'ok' AND seq > @after
        AND (+action = 'inode.create'
          OR (+action IN ('file.donate', 'file.migrate') AND json_extract(details, '$.role') = 'owner'))
      ORDER BY seq LIMIT @limit`);
    this.inodeExists = sqlite.prepare('SELECT 1 FROM inodes WHERE id = ?').pluck();
  }

  page(inodeId: string, q: { cursor?: string; limit?: number } = {}): Result<Page<OwnershipStep>> {
    const after = decodeIntCursor(q.cursor);
    if (!after.ok) return after;
    if (this.inodeExists.get(inodeId) === undefined) return err('inode.not_found', `inode ${inodeId} does not exist`);
    const limit = clampLimit(q.limit);
    const rows = this.steps.all({ inodeId, after: after.value ?? 0, limit: limit + 1 }) as EventRow[];
    return ok(pageOf(rows, limit, (r) => r.seq, toStep));
  }
}

function toStep(e: EventRow): OwnershipStep {
  const d = safeDetails(e.details);
  const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  const created = e.action === 'inode.create';
  return {
    seq: e.seq, time: e.time, actor: e.actor, action: e.action as OwnershipStep['action'],
    fromVmId: created ? null : str(d.fromVmId),
    toVmId: created ? e.vmId ?? str(d.ownerVmId) : str(d.toVmId) ?? e.vmId,
    fromFileId: created ? null : str(d.fromFileId),
    toFileId: created ? e.fileId : str(d.toFileId) ?? e.fileId,
    migrationId: e.migrationId, requestId: e.requestId,
  };
}

function safeDetails(text: string): Record<string, unknown> {
  try { const v: unknown = JSON.parse(text); return v && typeof v === 'object' ? v as Record<string, unknown> : {}; } catch { return {}; }
}
