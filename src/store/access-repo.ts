// Access intervals: who held which permissions on an inode over which period. Written in
// the same transaction as the file change and the event that caused it, so the audit
// "access at time T" question is answered from history rather than current state.
import type Database from 'better-sqlite3';
import type { Db } from './database.js';
import { accessIntervals } from './schema.js';
import type { FileRow } from './rows.js';
import { clientOf } from './row-reader.js';
import { RowWriter } from './row-writer.js';

type Interval = typeof accessIntervals.$inferInsert;

export class AccessRepo {
  // Written by every share, donate, revoke and inode create: prepared statements.
  private readonly write: RowWriter<Interval>;
  private readonly closeOpen: Database.Statement<[number, number, string]>;

  constructor(db: Db) {
    const sqlite = clientOf(db);
    this.write = new RowWriter(sqlite, accessIntervals);
    this.closeOpen = sqlite.prepare(`UPDATE "access_intervals" SET "to_time" = ?, "to_seq" = ? WHERE "file_id" = ? AND "to_seq" IS NULL`);
  }

  /** Opens a period for the file's current role and permissions. */
  open(file: Pick<FileRow, 'id' | 'inodeId' | 'vmId' | 'role' | 'permissions'>, at: { time: number; seq: number }): void {
    this.write.insert({
      inodeId: file.inodeId, fileId: file.id, vmId: file.vmId, role: file.role,
      permissions: file.permissions, fromTime: at.time, fromSeq: at.seq,
    });
  }

  /** Ends the file's open period, if any. */
  close(fileId: string, at: { time: number; seq: number }): void {
    this.closeOpen.run(at.time, at.seq, fileId);
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
