import { and, asc, eq, gt, inArray, sql, type SQL } from 'drizzle-orm';
import type { Db } from './database.js';
import { files } from './schema.js';
import type { FileRow, FileState } from './rows.js';
import { toPage, type Page } from './pagination.js';

export class FilesRepo {
  private readonly byId;
  private readonly liveForVm;
  // Prepared once per (column, state set): these run on every bind, share and GET.
  private readonly byStates = new Map<string, { all(p: { key: string }): FileRow[] }>();

  constructor(private readonly db: Db) {
    this.byId = db.select().from(files).where(eq(files.id, sql.placeholder('id'))).prepare();
    this.liveForVm = db.select().from(files).where(and(
      eq(files.inodeId, sql.placeholder('inodeId')), eq(files.vmId, sql.placeholder('vmId')),
      inArray(files.state, ['open', 'pending']))).prepare();
  }

  get(id: string): FileRow | undefined { return this.byId.get({ id }); }
  /** The open or pending file of a VM on an inode, if any (at most one exists). */
  liveFor(inodeId: string, vmId: string): FileRow | undefined { return this.liveForVm.get({ inodeId, vmId }); }

  insert(row: FileRow): void { this.db.insert(files).values(row).run(); }

  update(id: string, set: Partial<Pick<FileRow, 'permissions' | 'state' | 'role' | 'endedAt' | 'migrationId' | 'grantedByFileId'>>): void {
    this.db.update(files).set(set).where(eq(files.id, id)).run();
  }

  /** Every open or pending file, oldest first (reconcile walks them all). */
  allLive(): FileRow[] {
    return this.db.select().from(files).where(inArray(files.state, ['open', 'pending'])).orderBy(asc(files.id)).all();
  }

  byInode(inodeId: string, states: FileState[] = ['open', 'pending']): FileRow[] {
    return this.statesQuery('inode', states).all({ key: inodeId });
  }

  byVm(vmId: string, states: FileState[] = ['open', 'pending']): FileRow[] {
    return this.statesQuery('vm', states).all({ key: vmId });
  }

  private statesQuery(by: 'inode' | 'vm', states: FileState[]) {
    const cacheKey = `${by}:${states.join(',')}`;
    let q = this.byStates.get(cacheKey);
    if (!q) {
      const col = by === 'inode' ? files.inodeId : files.vmId;
      q = this.db.select().from(files).where(and(eq(col, sql.placeholder('key')), inArray(files.state, states)))
        .orderBy(asc(files.id)).prepare();
      this.byStates.set(cacheKey, q);
    }
    return q;
  }

  byMigration(migrationId: string): FileRow[] {
    return this.db.select().from(files).where(eq(files.migrationId, migrationId)).orderBy(asc(files.id)).all();
  }

  list(q: { vmId?: string; inodeId?: string; state?: FileState; after?: string; limit: number }): Page<FileRow> {
    const conds: SQL[] = [];
    if (q.vmId) conds.push(eq(files.vmId, q.vmId));
    if (q.inodeId) conds.push(eq(files.inodeId, q.inodeId));
    if (q.state) conds.push(eq(files.state, q.state));
    if (q.after) conds.push(gt(files.id, q.after));
    const rows = this.db.select().from(files).where(and(...conds)).orderBy(asc(files.id)).limit(q.limit + 1).all();
    return toPage(rows, q.limit, (r) => r.id);
  }
}
