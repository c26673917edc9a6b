// Signed checkpoints of the chain head. The hash chain alone cannot show that its newest
// events were deleted (a shorter chain is still a valid chain), and anyone with write access
// can rewrite a suffix and recompute its hashes. A checkpoint is an HMAC-SHA-256, under a key
// the database does not hold (GMEMD_AUDIT_KEY), over `seq|hash|time` of the head, as
// CloudTrail signs its digest files. Verify then requires every checkpointed seq to still be
// in the chain with the checkpointed hash.
//
// Checkpoints are written every `every` events, in the transaction of the event that reaches
// the boundary (an append hook on the chain), and on demand (checkpointNow, e.g. at shutdown).
import { createHmac, timingSafeEqual } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { AuditChain, ChainHead, EventRow } from '../audit-chain.js';
import type { UnitOfWork } from '../unit-of-work.js';

export const DEFAULT_CHECKPOINT_EVERY = 1000;

export interface CheckpointConfig {
  /** The HMAC key (GMEMD_AUDIT_KEY); the caller reads it from wherever config lives. */
  key: string;
  /** Write a checkpoint whenever seq is a multiple of this. */
  every?: number;
}

export interface Checkpoint { seq: number; hash: string; time: number; mac: string }

export function checkpointMac(key: string, cp: { seq: number; hash: string; time: number }): string {
  return createHmac('sha256', key).update(`${cp.seq}|${cp.hash}|${cp.time}`).digest('hex');
}

/** Constant-time comparison of a stored MAC with the one the key gives. */
export function checkpointMacValid(key: string, cp: Checkpoint): boolean {
  const expected = Buffer.from(checkpointMac(key, cp), 'hex');
  const actual = Buffer.from(typeof cp.mac === 'string' ? cp.mac : '', 'hex');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** What the checkpointer needs from the Store (kept narrow so tests and tools can pass parts). */
export interface CheckpointHost {
  ledger: { sqlite: Database.Database };
  chain: AuditChain;
  uow: UnitOfWork;
  now: () => number;
}

export class Checkpointer {
  private readonly insert: Database.Statement;
  private readonly bySeq: Database.Statement;
  private readonly every: number;
  private readonly detachHook: () => void;

  private constructor(private readonly host: CheckpointHost, private readonly key: string, every: number) {
    this.every = every;
    // OR IGNORE: checkpointNow twice at the same head keeps the first signature.
    this.insert = host.ledger.sqlite.prepare('INSERT OR IGNORE INTO checkpoints (seq, hash, time, mac) VALUES (@seq, @hash, @time, @mac)');
    this.bySeq = host.ledger.sqlite.prepare('SELECT seq, hash, time, mac FROM checkpoints WHERE seq = ?');
    this.detachHook = host.chain.onAppend((row: EventRow) => {
      if (row.seq % this.every === 0) this.write(row);
    });
  }

  /** Starts checkpointing the host's chain. */
  static attach(host: CheckpointHost, config: CheckpointConfig): Checkpointer {
    if (!config.key) throw new Error('a checkpoint key is required');
    const every = config.every ?? DEFAULT_CHECKPOINT_EVERY;
    if (!Number.isSafeInteger(every) || every < 1) throw new Error(`checkpoint interval must be a positive integer, got ${every}`);
    return new Checkpointer(host, config.key, every);
  }

  /** Signs the current head now (at shutdown, or before handing the ledger to an auditor).
   *  Returns null for an empty chain. Inside a caller's transaction it joins that transaction. */
  checkpointNow(): Checkpoint | null {
    return this.host.uow.run(() => {
      const head = this.host.chain.getHead();
      return head.seq === 0 ? null : this.write(head);
    });
  }

  /** Stops writing checkpoints (the hook is removed from the chain). */
  detach(): void { this.detachHook(); }

  private write(head: ChainHead): Checkpoint {
    const time = this.host.now();
    const cp: Checkpoint = { seq: head.seq, hash: head.hash, time, mac: checkpointMac(this.key, { seq: head.seq, hash: head.hash, time }) };
    if (this.insert.run(cp).changes === 1) return cp;
    return this.bySeq.get(head.seq) as Checkpoint;
  }
}
