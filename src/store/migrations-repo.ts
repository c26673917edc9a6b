import { and, asc, eq, gt, or, type SQL } from 'drizzle-orm';
import type { Db } from './database.js';
import { migrations } from './schema.js';
import type { MigrationRow } from './rows.js';
import { toPage, type Page } from './pagination.js';
import { clientOf, RowReader } from './row-reader.js';
import { RowWriter } from './row-writer.js';

export class MigrationsRepo {
  // Every share, donate and bind asks unfinishedFor: prepared, like the other hot paths.
  private readonly read: RowReader<MigrationRow>;
  private readonly write: RowWriter<MigrationRow>;

  constructor(private readonly db: Db) {
    this.read = new RowReader(clientOf(db), migrations);
    this.write = new RowWriter(clientOf(db), migrations);
  }

  get(id: string): MigrationRow | undefined { return this.read.get('WHERE "id" = ?', id); }

  insert(row: MigrationRow): void { this.write.insert(row); }

  setState(id: string, state: MigrationRow['state'], endedAt: number): void { this.write.update(id, { state, endedAt }); }

  listByState(state: MigrationRow['state']): MigrationRow[] {
    return this.db.select().from(migrations).where(eq(migrations.state, state)).orderBy(asc(migrations.id)).all();
  }

  /** The unfinished migration a VM takes part in, as source or target. */
  unfinishedFor(vmId: string): MigrationRow | undefined {
    return this.read.get(`WHERE "state" = 'prepared' AND ("${migrations.sourceVmId.name}" = ? OR "${migrations.targetVmId.name}" = ?)`, vmId, vmId);
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
