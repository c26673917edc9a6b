// Verifies the audit chain: walks every event in seq order, recomputing each hash exactly as
// audit-chain.ts computed it, and checks linkage (prevHash = previous hash) and continuity
// (seq 1, 2, 3, … with no gap). An edited row (any column) fails its own hash or linkage, a
// deleted row leaves a gap, swapped rows break linkage at the first of them. Then every
// signed checkpoint is checked: its MAC (when the key is given) and that the chain still
// holds its seq with its hash, which catches tail truncation and a rewritten, re-hashed
// suffix. Memory stays constant: rows are streamed with .iterate(), never collected.
import type Database from 'better-sqlite3';
import { canonicalEvent, chainHash, GENESIS_HASH, type EventRow } from '../audit-chain.js';
import { EVENT_COLUMNS } from './event-rows.js';
import { checkpointMacValid, type Checkpoint } from './checkpoints.js';

export type BreakReason =
  | 'seq_gap' | 'seq_unexpected' | 'prev_hash_mismatch' | 'hash_mismatch' | 'unreadable_row'
  | 'checkpoint_mac_invalid' | 'checkpoint_hash_mismatch' | 'checkpoint_event_missing';

export interface Break { firstBadSeq: number; reason: BreakReason; message: string }

export interface CheckpointReport {
  count: number;
  latestSeq: number | null;
  /** False when no key was given: then only linkage to the chain was checked, not the MACs. */
  macsVerified: boolean;
}

export type VerifyResult =
  | { ok: true; events: number; headSeq: number; headHash: string; checkpoints: CheckpointReport }
  /** events: how many events verified before the break (all of them for a checkpoint break). */
  | ({ ok: false; events: number; checkpoints: CheckpointReport } & Break);

export interface VerifyOptions { key?: string }

/** The chain rule as a step function over rows in seq order; pure apart from its own state.
 *  The checks of one row run in a fixed order (continuity, linkage, its own hash), so a row
 *  failing several is always reported the same way, by this walk or by the parallel one. */
export class ChainWalker {
  count = 0;
  headSeq = 0;
  headHash = GENESIS_HASH;

  check(row: EventRow): Break | null {
    return this.advance(row.seq, row.prevHash, row.hash, () => {
      try { return chainHash(row.prevHash, canonicalEvent(row)) === row.hash; } catch { return false; }
    });
  }

  /** Continuity and linkage, then `ownHashOk` (called only if those hold); on success the
   *  row becomes the head. verify-parallel.ts passes its workers' verdict as ownHashOk. */
  advance(seq: number, prevHash: string, hash: string, ownHashOk: () => boolean): Break | null {
    const expected = this.headSeq + 1;
    if (seq !== expected) {
      return seq > expected
        ? { firstBadSeq: expected, reason: 'seq_gap', message: `event ${expected} is missing (next is ${seq})` }
        : { firstBadSeq: seq, reason: 'seq_unexpected', message: `seq ${seq} where ${expected} was expected` };
    }
    if (prevHash !== this.headHash) {
      return { firstBadSeq: seq, reason: 'prev_hash_mismatch', message: `event ${seq} does not link to event ${this.headSeq}` };
    }
    if (!ownHashOk()) {
      return { firstBadSeq: seq, reason: 'hash_mismatch', message: `event ${seq} does not match its hash` };
    }
    this.count++;
    this.headSeq = seq;
    this.headHash = hash;
    return null;
  }

  /** The break for a row after the head that the driver could not read. */
  unreadable(message: string): Break {
    return { firstBadSeq: this.headSeq + 1, reason: 'unreadable_row', message: `event after ${this.headSeq} cannot be read: ${message}` };
  }

  /** Feeds rows until the first break. A row the driver cannot read is a break too. */
  walk(rows: Iterable<EventRow>): Break | null {
    try {
      for (const row of rows) {
        const b = this.check(row);
        if (b) return b;
      }
      return null;
    } catch (e) {
      return this.unreadable((e as Error).message);
    }
  }
}

export type CheckpointJoin = Checkpoint & { eventHash: string | null };

export const CHECKPOINTS_JOINED = `SELECT c.seq AS seq, c.hash AS hash, c.time AS time, c.mac AS mac, e.hash AS eventHash
  FROM checkpoints c LEFT JOIN events e ON e.seq = c.seq ORDER BY c.seq`;

/** Checks checkpoints (in seq order) against the chain; returns the lowest break, if any. */
export function checkCheckpoints(rows: Iterable<CheckpointJoin>, key: string | undefined, walkedHeadSeq: number): { report: CheckpointReport; brk: Break | null } {
  const report: CheckpointReport = { count: 0, latestSeq: null, macsVerified: key !== undefined };
  let brk: Break | null = null;
  let lastGood = 0;
  for (const cp of rows) {
    report.count++;
    report.latestSeq = cp.seq;
    if (brk) continue; // keep counting; the first (lowest) break is the one reported
    if (key !== undefined && !checkpointMacValid(key, cp)) {
      brk = { firstBadSeq: cp.seq, reason: 'checkpoint_mac_invalid', message: `the checkpoint at seq ${cp.seq} has an invalid MAC` };
    } else if (cp.eventHash === null) {
      // Events up to a signed seq are gone: the first missing one is where the chain ends.
      const first = Math.min(cp.seq, walkedHeadSeq + 1);
      brk = { firstBadSeq: first, reason: 'checkpoint_event_missing', message: `the chain ends before signed seq ${cp.seq} (truncated from seq ${first})` };
    } else if (cp.eventHash !== cp.hash) {
      brk = { firstBadSeq: cp.seq, reason: 'checkpoint_hash_mismatch', message: `events after seq ${lastGood} up to ${cp.seq} were rewritten: seq ${cp.seq} no longer has its signed hash` };
    } else {
      lastGood = cp.seq;
    }
  }
  return { report, brk };
}

export function conclude(w: ChainWalker, walkBreak: Break | null, cps: { report: CheckpointReport; brk: Break | null }): VerifyResult {
  const brk = walkBreak && (!cps.brk || walkBreak.firstBadSeq <= cps.brk.firstBadSeq) ? walkBreak : cps.brk;
  if (brk) return { ok: false, events: w.count, checkpoints: cps.report, ...brk };
  return { ok: true, events: w.count, headSeq: w.headSeq, headHash: w.headHash, checkpoints: cps.report };
}

/** Verifies the whole ledger in one read transaction (a consistent snapshot), on this thread,
 *  blocking it throughout. The reference walk: the CLI and the server use
 *  verifyLedgerParallel (verify-parallel.ts), which gives the same result on every core. */
export function verifyLedger(sqlite: Database.Database, opts: VerifyOptions = {}): VerifyResult {
  return sqlite.transaction(() => {
    const w = new ChainWalker();
    const walkBreak = w.walk(sqlite.prepare(`SELECT ${EVENT_COLUMNS} FROM events ORDER BY seq`).iterate() as Iterable<EventRow>);
    const cps = checkCheckpoints(sqlite.prepare(CHECKPOINTS_JOINED).iterate() as Iterable<CheckpointJoin>, opts.key, w.headSeq);
    return conclude(w, walkBreak, cps);
  })();
}
