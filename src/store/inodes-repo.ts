import { getTableName } from 'drizzle-orm';
import type { Db } from './database.js';
import { inodes, liveTotals } from './schema.js';
import type { InodeRow, InodeState, LiveInodeRef } from './rows.js';
import { toPage, type Page } from './pagination.js';
import { clientOf, RowReader } from './row-reader.js';
import { RowWriter } from './row-writer.js';
import { StateMarker } from './bulk.js';

export class InodesRepo {
  // Reads go through prepared statements (row-reader.ts); writes through drizzle.
  private readonly read: RowReader<InodeRow>;
  private readonly write: RowWriter<InodeRow>;
  private readonly totals;
  private readonly lost: StateMarker;
  private readonly liveRefsRead: RowReader<LiveInodeRef>;

  constructor(db: Db) {
    this.read = new RowReader(clientOf(db), inodes);
    this.write = new RowWriter(clientOf(db), inodes);
    // Every inode create's quota check reads it: one row kept by triggers (schema.ts liveTotals).
    this.totals = clientOf(db).prepare<[], { inodes: number; bytes: number }>(`SELECT "${liveTotals.inodesLive.name}" AS inodes,
      "${liveTotals.inodeBytesLive.name}" AS bytes FROM "${getTableName(liveTotals)}" WHERE "id" = 1`);
    this.lost = new StateMarker(clientOf(db), inodes, ['live']);
    this.liveRefsRead = this.read.fields(['id', 'ownerVmId', 'kernelInode'] as const);
  }

  /** What the lost marking needs of every live inode (reconcile/lost.ts), oldest first. */
  liveRefs(): LiveInodeRef[] { return this.liveRefsRead.all(`WHERE "${inodes.state.name}" = ? ORDER BY "id"`, 'live' satisfies InodeState); }

  get(id: string): InodeRow | undefined { return this.read.get('WHERE "id" = ?', id); }

  insert(row: InodeRow): void { this.write.insert(row); }

  setOwner(id: string, ownerVmId: string): void {
    this.write.update(id, { ownerVmId });
  }

  setState(id: string, state: InodeState, endedAt: number | null): void {
    this.write.update(id, { state, endedAt });
  }

  /** Live inodes among `ids` become lost, in one statement. */
  markLost(ids: readonly string[], endedAt: number): number { return this.lost.mark(ids, 'lost', endedAt); }

  listByState(state: InodeState): InodeRow[] {
    return this.read.all(`WHERE "${inodes.state.name}" = ? ORDER BY "id"`, state);
  }

  list(q: { ownerVmId?: string; state?: InodeState; after?: string; limit: number }): Page<InodeRow> {
    const rows = this.read.page([[inodes.ownerVmId.name, q.ownerVmId || undefined], [inodes.state.name, q.state]], q.after, q.limit);
    return toPage(rows, q.limit, (r) => r.id);
  }

  /** Live inodes and the sum of their sizes, for the quota checks. */
  liveTotals(): { inodes: number; bytes: number } { return this.totals.get()!; }

  /** Live inodes, for GET /v1/host. */
  countLive(): number { return this.liveTotals().inodes; }

  /** Bytes of guest memory gmemd holds live, for GET /v1/host. */
  liveBytes(): number { return this.liveTotals().bytes; }
}
