// One slice of the parallel verify (verify-parallel.ts), run on a worker thread or, for a
// small ledger, on the caller's: the rows of one seq range walked with ChainWalker exactly as
// verifyLedger walks them, except that the range's first row is only read and hashed against
// its own stored prev_hash, because its predecessor belongs to the previous range. Whether it
// links to that predecessor is decided when the ranges are joined, in seq order.
import type Database from 'better-sqlite3';
import { canonicalValues, chainHash } from '../audit-chain.js';
import { CANONICAL_COLUMNS, RAW } from './event-rows.js';
import { ChainWalker, type Break } from './verify.js';

/** An inclusive seq range. BigInt, because a tampered seq may lie beyond 2^53. */
export interface SeqRange { lo: bigint; hi: bigint }

export interface RangeResult {
  /** The range's first row, and whether it holds its own hash; null for an empty range. */
  first: { seq: number; prevHash: string; hash: string; ownHashOk: boolean } | null;
  /** The driver failed before the first row was read (the row after the previous range's). */
  firstUnreadable: string | null;
  /** The walk from the first row on: rows verified after it, the head it reached, and the
   *  first break after the first row (the rows after a break are not read). */
  count: number;
  headSeq: number;
  headHash: string;
  brk: Break | null;
}

const ownHashOk = (row: unknown[]): boolean => {
  try { return chainHash(row[RAW.prevHash] as string, canonicalValues(row)) === row[RAW.hash]; } catch { return false; }
};

export function walkRange(db: Database.Database, r: SeqRange): RangeResult {
  const stmt = db.prepare(`SELECT ${CANONICAL_COLUMNS} FROM events WHERE seq >= ? AND seq <= ? ORDER BY seq`).raw(true);
  const w = new ChainWalker();
  let first: RangeResult['first'] = null;
  let brk: Break | null = null;
  try {
    for (const row of stmt.iterate(r.lo, r.hi) as Iterable<unknown[]>) {
      const seq = row[RAW.seq] as number, prevHash = row[RAW.prevHash] as string, hash = row[RAW.hash] as string;
      if (first === null) {
        first = { seq, prevHash, hash, ownHashOk: ownHashOk(row) };
        w.headSeq = seq;
        w.headHash = hash;
        continue;
      }
      brk = w.advance(seq, prevHash, hash, () => ownHashOk(row));
      if (brk) break;
    }
  } catch (e) {
    const message = (e as Error).message;
    if (first === null) return { first, firstUnreadable: message, count: 0, headSeq: 0, headHash: '', brk: null };
    brk = w.unreadable(message);
  }
  return { first, firstUnreadable: null, count: w.count, headSeq: w.headSeq, headHash: w.headHash, brk };
}
