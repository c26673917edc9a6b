// The one place where transactions begin and end. Two ways in:
// - commit(work): group commit. Concurrent requests' writes queue up and run together in one
//   IMMEDIATE transaction, one fsync (WAL, synchronous=FULL), flushed on setImmediate or when
//   MAX_BATCH are queued. Each member runs in its own SAVEPOINT: a member that throws rolls
//   back alone (and its audit-chain advances with it) while the others commit. The promise
//   settles only after COMMIT returned, i.e. once the batch is durable.
//   A flush waits, at most HOLD_MS after its first member queued, while writers are sure to
//   join (`joining`: commands whose kernel call is in flight, each of which writes when it
//   lands). Without the wait a batch held what landed in one turn of the event loop: 8 of the
//   bind bench's 32 concurrent requests, so 4 COMMITs (WAL frames, fsync, locks) where 1 would
//   do. Nothing waits when no one is about to join: a lone request commits at once.
// - run(work): one synchronous transaction now (start-up, tools, tests). Anything queued is
//   flushed first, so events keep the order in which their writes were handed over.
// A member is synchronous by construction: no await and no ioctl can sit inside a batch.
import type Database from 'better-sqlite3';
import type { AuditChain } from './audit-chain.js';
import { recordCommitBatch } from './metrics-repo.js';

interface Member { work: () => unknown; resolve: (v: unknown) => void; reject: (e: unknown) => void }

const MAX_BATCH = 128;
/** The longest a queued write waits for `joining` writers; well under the 10 ms p99 a write may take. */
export const HOLD_MS = 2;

const synchronous = <T>(work: () => T): T => {
  const result = work();
  if (result instanceof Promise) throw new Error('a unit of work must be synchronous');
  return result;
};

export class UnitOfWork {
  private queue: Member[] = [];
  private scheduled = false;
  private firstQueuedAt = 0;
  private holdTimer: NodeJS.Timeout | null = null;
  /** How many writers are sure to queue soon; the runner sets it (its kernel calls in flight). */
  joining: () => number = () => 0;
  /** HOLD_MS; a test lengthens it so that what it checks does not hang on this machine's speed. */
  holdMs = HOLD_MS;
  private readonly savepoint: (work: () => unknown) => unknown;
  /** Batches committed and members in them, for the bench and /metrics. */
  readonly stats = { batches: 0, members: 0, failedMembers: 0 };

  constructor(private readonly sqlite: Database.Database, private readonly chain: AuditChain) {
    // better-sqlite3 runs a transaction function called inside another as a SAVEPOINT.
    this.savepoint = sqlite.transaction((work: () => unknown) => synchronous(work));
  }

  run<T>(work: () => T): T {
    if (this.sqlite.inTransaction) return work(); // nested: part of the caller's transaction
    this.flush();
    const head = this.chain.getHead();
    try {
      const result = this.sqlite.transaction(() => synchronous(work)).immediate();
      recordCommitBatch(this.sqlite, 1);
      return result;
    } catch (e) {
      this.chain.resetHead(head);
      throw e;
    }
  }

  /** Queues `work` for the next batch; settles once the batch holding it is durable. */
  commit<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.queue.push({ work, resolve: resolve as (v: unknown) => void, reject }) === 1) this.firstQueuedAt = performance.now();
      if (this.queue.length >= MAX_BATCH) this.flush();
      else if (!this.scheduled) { this.scheduled = true; setImmediate(this.due); }
    });
  }

  /** After the turn that queued: flush, unless writers about to join are still worth waiting for. */
  private readonly due = (): void => {
    this.scheduled = false;
    if (this.queue.length === 0) return;
    const waited = performance.now() - this.firstQueuedAt;
    if (waited < this.holdMs && this.joining() > 0) {
      // Each joiner's commit() brings this check back; the timer bounds the wait if none comes.
      this.holdTimer ??= setTimeout(() => this.flush(), Math.ceil(this.holdMs - waited));
      return;
    }
    this.flush();
  };

  /** Writes everything queued as one transaction. Never throws: each member's promise carries its outcome. */
  flush(): void {
    this.scheduled = false;
    if (this.holdTimer) { clearTimeout(this.holdTimer); this.holdTimer = null; }
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    const batchHead = this.chain.getHead();
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    try {
      this.sqlite.transaction(() => {
        for (const m of batch) {
          const head = this.chain.getHead();
          try {
            outcomes.push({ ok: true, value: this.savepoint(m.work) });
          } catch (error) {
            this.chain.resetHead(head); // the savepoint is rolled back: so is the chain's head
            outcomes.push({ ok: false, error });
          }
        }
      }).immediate();
    } catch (error) {
      // BEGIN or COMMIT failed (disk full, I/O error): nothing of the batch is durable.
      this.chain.resetHead(batchHead);
      for (const m of batch) m.reject(error);
      return;
    }
    this.stats.batches += 1;
    this.stats.members += batch.length;
    recordCommitBatch(this.sqlite, batch.length);
    batch.forEach((m, i) => {
      const o = outcomes[i]!;
      if (o.ok) m.resolve(o.value);
      else { this.stats.failedMembers += 1; m.reject(o.error); }
    });
  }
}
