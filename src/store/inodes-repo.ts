import { and, asc, eq, gt, sql, type SQL } from 'drizzle-orm';
import type { Db } from './database.js';
import { inodes } from './schema.js';
import type { InodeRow, InodeState } from './rows.js';
import { toPage, type Page } from './pagination.js';

export class InodesRepo {
  private readonly byId;

  constructor(private readonly db: Db) {
    this.byId = db.select().from(inodes).where(eq(inodes.id, sql.placeholder('id'))).prepare();
  }

  get(id: string): InodeRow | undefined { return this.byId.get({ id }); }

  insert(row: InodeRow): void { this.db.insert(inodes).values(row).run(); }

  setOwner(id: string, ownerVmId: string): void {
    this.db.update(inodes).set({ ownerVmId }).where(eq(inodes.id, id)).run();
  }

  setState(id: string, state: InodeState, endedAt: number | null): void {
    this.db.update(inodes).set({ state, endedAt }).where(eq(inodes.id, id)).run();
  }

  listByState(state: InodeState): InodeRow[] {
    return this.db.select().from(inodes).where(eq(inodes.state, state)).orderBy(asc(inodes.id)).all();
  }

  list(q: { ownerVmId?: string; state?: InodeState; after?: string; limit: number }): Page<InodeRow> {
    const conds: SQL[] = [];
    if (q.ownerVmId) conds.push(eq(inodes.ownerVmId, q.ownerVmId));
    if (q.state) conds.push(eq(inodes.state, q.state));
    if (q.after) conds.push(gt(inodes.id, q.after));
    const rows = this.db.select().from(inodes).where(and(...conds)).orderBy(asc(inodes.id)).limit(q.limit + 1).all();
    return toPage(rows, q.limit, (r) => r.id);
  }

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
