// Access intervals: who held which permissions on an inode over which period. Written in
// the same transaction as the file change and the event that caused it, so the audit
// "access at time T" question is answered from history rather than current state.
import type Database from 'better-sqlite3';
import { and, eq, getTableName, isNull } from 'drizzle-orm';
import type { Db } from './database.js';
import { accessIntervals } from './schema.js';
import type { FileRow } from './rows.js';
import { clientOf } from './row-reader.js';

export class AccessRepo {
  private readonly closeOpen: Database.Statement<[number, number, string]>;

  constructor(private readonly db: Db) {
    this.closeOpen = clientOf(db).prepare(`UPDATE "${getTableName(accessIntervals)}" SET "to_time" = ?, "to_seq" = ?
      WHERE "file_id" = ? AND "to_seq" IS NULL`);
  }

  /** Opens a period for the file's current role and permissions. */
  open(file: Pick<FileRow, 'id' | 'inodeId' | 'vmId' | 'role' | 'permissions'>, at: { time: number; seq: number }): void {
    this.db.insert(accessIntervals).values({
      inodeId: file.inodeId, fileId: file.id, vmId: file.vmId, role: file.role,
      permissions: file.permissions, fromTime: at.time, fromSeq: at.seq,
    }).run();
  }

  /** Ends the file's open period, if any. */
  close(fileId: string, at: { time: number; seq: number }): void {
    this.db.update(accessIntervals).set({ toTime: at.time, toSeq: at.seq })
      .where(and(eq(accessIntervals.fileId, fileId), isNull(accessIntervals.toSeq))).run();
  }

  /** Ends the open period of each file at its own event (lost marking: thousands at once), one prepared statement. */
  closeMany(ends: readonly { fileId: string; time: number; seq: number }[]): void {
    for (const e of ends) this.closeOpen.run(e.time, e.seq, e.fileId);
  }

  /** A permission or role change: the old period ends where the new one begins. */
  change(file: Pick<FileRow, 'id' | 'inodeId' | 'vmId' | 'role' | 'permissions'>, at: { time: number; seq: number }): void {
    this.close(file.id, at);
    this.open(file, at);
  }
}
