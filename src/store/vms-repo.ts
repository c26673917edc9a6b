import { and, asc, eq, gt, sql, type SQL } from 'drizzle-orm';
import type { Db } from './database.js';
import { vms } from './schema.js';
import type { VmRow, VmState } from './rows.js';
import { toPage, type Page } from './pagination.js';

export class VmsRepo {
  private readonly byId;
  private readonly activeByName;

  constructor(private readonly db: Db) {
    this.byId = db.select().from(vms).where(eq(vms.id, sql.placeholder('id'))).prepare();
    this.activeByName = db.select().from(vms)
      .where(and(eq(vms.name, sql.placeholder('name')), eq(vms.state, 'active'))).prepare();
  }

  get(id: string): VmRow | undefined { return this.byId.get({ id }); }
  findActiveByName(name: string): VmRow | undefined { return this.activeByName.get({ name }); }

  countByState(state: VmState): number {
    return this.db.select({ n: sql<number>`count(*)` }).from(vms).where(eq(vms.state, state)).get()?.n ?? 0;
  }

  insert(row: VmRow): void { this.db.insert(vms).values(row).run(); }

  setState(id: string, state: VmState, endedAt: number | null): void {
    this.db.update(vms).set({ state, endedAt }).where(eq(vms.id, id)).run();
  }

  listByState(state: VmState): VmRow[] {
    return this.db.select().from(vms).where(eq(vms.state, state)).orderBy(asc(vms.id)).all();
  }

  list(q: { state?: VmState; after?: string; limit: number }): Page<VmRow> {
    const conds: SQL[] = [];
    if (q.state) conds.push(eq(vms.state, q.state));
    if (q.after) conds.push(gt(vms.id, q.after));
    const rows = this.db.select().from(vms).where(and(...conds)).orderBy(asc(vms.id)).limit(q.limit + 1).all();
    return toPage(rows, q.limit, (r) => r.id);
  }
}
