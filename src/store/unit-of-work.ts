// The one place where transactions begin and end. Use cases hand it a synchronous function
// that writes state and audit events; it runs as one IMMEDIATE transaction. Keeping the
// boundary here is what lets concurrent requests later share a commit (group commit)
// without touching the use cases. An async callback is refused: better-sqlite3 would commit
// at its first await.
import type Database from 'better-sqlite3';
import type { AuditChain } from './audit-chain.js';
import { recordCommitBatch } from './metrics-repo.js';

export class UnitOfWork {
  constructor(private readonly sqlite: Database.Database, private readonly chain: AuditChain) {}

  run<T>(work: () => T): T {
    if (this.sqlite.inTransaction) return work(); // nested: part of the caller's transaction
    const head = this.chain.getHead();
    try {
      const result = this.sqlite.transaction(() => {
        const r = work();
        if (r instanceof Promise) throw new Error('a unit of work must be synchronous');
        return r;
      }).immediate();
      // One unit per transaction until group commit batches several (gmemd_commit_batch_size).
      recordCommitBatch(this.sqlite, 1);
      return result;
    } catch (e) {
      this.chain.resetHead(head);
      throw e;
    }
  }
}
