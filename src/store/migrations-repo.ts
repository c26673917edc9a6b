import { and, asc, eq, gt, or, type SQL } from 'drizzle-orm';
import type { Db } from './database.js';
import { migrations } from './schema.js';
import type { MigrationRow } from './rows.js';
import { toPage, type Page } from './pagination.js';

export class MigrationsRepo {
  constructor(private readonly db: Db) {}

  get(id: string): MigrationRow | undefined {
    return this.db.select().from(migrations).where(eq(migrations.id, id)).get();
  }

  insert(row: MigrationRow): void { this.db.insert(migrations).values(row).run(); }

  setState(id: string, state: MigrationRow['state'], endedAt: number): void {
    this.db.update(migrations).set({ state, endedAt }).where(eq(migrations.id, id)).run();
  }

  listByState(state: MigrationRow['state']): MigrationRow[] {
    return this.db.select().from(migrations).where(eq(migrations.state, state)).orderBy(asc(migrations.id)).all();
  }

  /** The unfinished migration a VM takes part in, as source or target. */
  unfinishedFor(vmId: string): MigrationRow | undefined {
    return this.db.select().from(migrations).where(and(eq(migrations.state, 'prepared'),
      or(eq(migrations.sourceVmId, vmId), eq(migrations.targetVmId, vmId)))).get();
  }

  list(q: { state?: MigrationRow['state']; vmId?: string; after?: string; limit: number }): Page<MigrationRow> {
    const conds: SQL[] = [];
    if (q.state) conds.push(eq(migrations.state, q.state));
    if (q.vmId) conds.push(or(eq(migrations.sourceVmId, q.vmId), eq(migrations.targetVmId, q.vmId))!);
    if (q.after) conds.push(gt(migrations.id, q.after));
    const rows = this.db.select().from(migrations).where(and(...conds)).orderBy(asc(migrations.id)).limit(q.limit + 1).all();
    return toPage(rows, q.limit, (r) => r.id);
  }
}
