import { eq, sql } from 'drizzle-orm';
import type { Db } from './database.js';
import { inodes } from './schema.js';
import type { InodeRow, InodeState } from './rows.js';
import { toPage, type Page } from './pagination.js';
import { clientOf, RowReader } from './row-reader.js';
import { RowWriter } from './row-writer.js';

export class InodesRepo {
  // Reads go through prepared statements (row-reader.ts); writes through drizzle.
  private readonly read: RowReader<InodeRow>;
  private readonly write: RowWriter<InodeRow>;
  private readonly totals;

  constructor(private readonly db: Db) {
    this.read = new RowReader(clientOf(db), inodes);
    this.write = new RowWriter(clientOf(db), inodes);
    // Every inode create's quota check reads it (inodes_state_idx).
    this.totals = clientOf(db).prepare<[], { inodes: number; bytes: number }>(
      `SELECT count(*) AS inodes, coalesce(sum("${inodes.size.name}"), 0) AS bytes FROM "inodes" WHERE "${inodes.state.name}" = 'live'`);
  }

  get(id: string): InodeRow | undefined { return this.read.get('WHERE "id" = ?', id); }

  insert(row: InodeRow): void { this.write.insert(row); }

  setOwner(id: string, ownerVmId: string): void {
    this.write.update(id, { ownerVmId });
  }

  setState(id: string, state: InodeState, endedAt: number | null): void {
    this.write.update(id, { state, endedAt });
  }

  listByState(state: InodeState): InodeRow[] {
    return this.read.all(`WHERE "${inodes.state.name}" = ? ORDER BY "id"`, state);
  }

  list(q: { ownerVmId?: string; state?: InodeState; after?: string; limit: number }): Page<InodeRow> {
    const rows = this.read.page([[inodes.ownerVmId.name, q.ownerVmId || undefined], [inodes.state.name, q.state]], q.after, q.limit);
    return toPage(rows, q.limit, (r) => r.id);
  }

  /** Live inodes and the sum of their sizes, for the quota checks. */
  liveTotals(): { inodes: number; bytes: number } { return this.totals.get()!; }

  /** Bytes of guest memory gmemd holds live, for GET /v1/host. */
  countLive(): number {
    return this.db.select({ n: sql<number>`count(*)` }).from(inodes).where(eq(inodes.state, 'live')).get()?.n ?? 0;
  }

  liveBytes(): number {
    const r = this.db.select({ total: sql<number>`coalesce(sum(${inodes.size}), 0)` }).from(inodes)
      .where(eq(inodes.state, 'live')).get();
    return r?.total ?? 0;
  }
}
