import { asc, eq } from 'drizzle-orm';
import type { Db } from './database.js';
import { files } from './schema.js';
import type { FileRow, FileState, LiveFileRef } from './rows.js';
import { toPage, type Page } from './pagination.js';
import { clientOf, RowReader } from './row-reader.js';
import { RowWriter } from './row-writer.js';
import { StateMarker } from './bulk.js';

export class FilesRepo {
  // Reads go through prepared statements (row-reader.ts); writes through drizzle.
  private readonly read: RowReader<FileRow>;
  private readonly write: RowWriter<FileRow>;
  private readonly lost: StateMarker;
  private readonly liveRefsRead: RowReader<LiveFileRef>;

  constructor(private readonly db: Db) {
    this.read = new RowReader(clientOf(db), files);
    this.write = new RowWriter(clientOf(db), files);
    this.lost = new StateMarker(clientOf(db), files, ['open', 'pending']);
    this.liveRefsRead = this.read.fields(['id', 'vmId', 'inodeId', 'state', 'role'] as const);
  }

  /** What the lost marking needs of every open or pending file (reconcile/lost.ts), oldest first. */
  liveRefs(): LiveFileRef[] { return this.liveRefsRead.all(`WHERE "state" IN ('open', 'pending') ORDER BY "id"`); }

  get(id: string): FileRow | undefined { return this.read.get('WHERE "id" = ?', id); }
  // States inline, as in VmsRepo#findActiveByName: the partial unique index files_one_live_per_vm_uq
  // serves it (6.3 -> 4.5 µs, without drizzle's mapping).
  /** The open or pending file of a VM on an inode, if any (at most one exists). */
  liveFor(inodeId: string, vmId: string): FileRow | undefined {
    return this.read.get(`WHERE "${files.inodeId.name}" = ? AND "${files.vmId.name}" = ? AND "state" IN ('open', 'pending')`, inodeId, vmId);
  }

  insert(row: FileRow): void { this.write.insert(row); }

  update(id: string, set: Partial<Pick<FileRow, 'permissions' | 'state' | 'role' | 'endedAt' | 'migrationId' | 'grantedByFileId'>>): void {
    this.write.update(id, set);
  }

  /** Every open or pending file, oldest first (reconcile walks them all). */
  allLive(): FileRow[] {
    return this.read.all(`WHERE "state" IN ('open', 'pending') ORDER BY "id"`);
  }

  /** Open or pending files among `ids` become lost, in one statement. */
  markLost(ids: readonly string[], endedAt: number): number { return this.lost.mark(ids, 'lost', endedAt); }

  byInode(inodeId: string, states: FileState[] = ['open', 'pending']): FileRow[] {
    return this.read.all(`WHERE "${files.inodeId.name}" = ? AND "state" IN (${states.map(() => '?').join(', ')}) ORDER BY "id"`, inodeId, ...states);
  }

  byVm(vmId: string, states: FileState[] = ['open', 'pending']): FileRow[] {
    return this.read.all(`WHERE "${files.vmId.name}" = ? AND "state" IN (${states.map(() => '?').join(', ')}) ORDER BY "id"`, vmId, ...states);
  }

  byMigration(migrationId: string): FileRow[] {
    return this.db.select().from(files).where(eq(files.migrationId, migrationId)).orderBy(asc(files.id)).all();
  }

  list(q: { vmId?: string; inodeId?: string; state?: FileState; after?: string; limit: number }): Page<FileRow> {
    const rows = this.read.page([[files.vmId.name, q.vmId || undefined], [files.inodeId.name, q.inodeId || undefined],
      [files.state.name, q.state]], q.after, q.limit);
    return toPage(rows, q.limit, (r) => r.id);
  }
}
