// The audit chain verified on every core. A row's hash depends only on its own columns and
// its own stored prev_hash, so worker threads (verify-worker.ts, one read-only connection
// each) take disjoint seq ranges and walk them at once (verify-range.ts). Linkage needs the
// row before, which each worker has in hand except for its range's first row; so each walks
// its range with ChainWalker from its first row on, and one cheap pass joins the ranges in
// seq order, checking each range's first row against the previous range's head with
// ChainWalker.advance. Every row thus meets the same checks, in the same order, against the
// same predecessor as in verifyLedger, and the result (reason, first bad seq, events, head)
// is the single-threaded one (test/store/audit/verify-parallel.test.ts).
//
// It verifies the ledger up to the head as it is when it starts. Nothing here holds a
// statement open across an await, so a server keeps answering and writing meanwhile.
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import type Database from 'better-sqlite3';
import {
  ChainWalker, CHECKPOINTS_JOINED, checkCheckpoints, conclude, type Break, type CheckpointJoin, type VerifyOptions, type VerifyResult,
} from './verify.js';
import { walkRange, type RangeResult, type SeqRange } from './verify-range.js';
import { startWorker } from './worker-start.js';

export interface ParallelVerifyOptions extends VerifyOptions {
  /** Worker threads hashing ranges; default one per core. 0: hash on this thread. */
  threads?: number;
  /** Below this many events, hash on this thread: starting workers costs more. Default 20,000. */
  workersFrom?: number;
  /** Rows per range when walking on this thread, between yields to the event loop. Default 20,000. */
  chunk?: number;
}

/** [lo, hi] cut into at most `parts` contiguous ranges of equal width. */
export function splitRange(lo: bigint, hi: bigint, parts: number): SeqRange[] {
  const n = BigInt(Math.max(1, parts));
  const width = (hi - lo + n) / n;
  const out: SeqRange[] = [];
  for (let a = lo; a <= hi; a += width) out.push({ lo: a, hi: a + width - 1n < hi ? a + width - 1n : hi });
  return out;
}

export async function verifyLedgerParallel(sqlite: Database.Database, opts: ParallelVerifyOptions = {}): Promise<VerifyResult> {
  // safeIntegers: exact bounds even if a tampered seq lies beyond 2^53.
  const b = sqlite.prepare('SELECT min(seq) AS lo, max(seq) AS hi FROM events').safeIntegers(true).get() as { lo: bigint | null; hi: bigint | null };
  const w = new ChainWalker();
  let walkBreak: Break | null = null;
  if (b.lo !== null && b.hi !== null) {
    const threads = opts.threads ?? availableParallelism();
    const onWorkers = threads > 0 && !sqlite.memory && b.hi - b.lo + 1n >= BigInt(opts.workersFrom ?? 20_000);
    const results = onWorkers
      ? await Promise.all(splitRange(b.lo, b.hi, threads).map((r) => inWorker(resolve(sqlite.name), r)))
      : await inThread(sqlite, b.lo, b.hi, opts.chunk ?? 20_000);
    walkBreak = join(w, results);
  }
  const cps = checkCheckpoints(sqlite.prepare(CHECKPOINTS_JOINED).iterate() as Iterable<CheckpointJoin>, opts.key, w.headSeq);
  return conclude(w, walkBreak, cps);
}

/** The ranges in seq order, each first row checked against the head the walk has reached. */
export function join(w: ChainWalker, results: RangeResult[]): Break | null {
  for (const r of results) {
    if (r.firstUnreadable !== null) return w.unreadable(r.firstUnreadable);
    if (r.first === null) continue;
    const { first } = r;
    const brk = w.advance(first.seq, first.prevHash, first.hash, () => first.ownHashOk);
    if (brk) return brk;
    w.count += r.count;
    w.headSeq = r.headSeq;
    w.headHash = r.headHash;
    if (r.brk) return r.brk;
  }
  return null;
}

/** The ranges walked here, `chunk` rows at a time between yields (small or in-memory
 *  ledgers). Cut by row count, not by seq width, so a tampered outlier seq cannot make
 *  2^53 / chunk ranges. */
async function inThread(sqlite: Database.Database, lo: bigint, hi: bigint, chunk: number): Promise<RangeResult[]> {
  const nth = sqlite.prepare('SELECT seq FROM events WHERE seq >= ? ORDER BY seq LIMIT 1 OFFSET ?').pluck().safeIntegers(true);
  const out: RangeResult[] = [];
  for (let a = lo; a <= hi;) {
    const end = (nth.get(a, chunk - 1) as bigint | undefined) ?? hi;
    const res = walkRange(sqlite, { lo: a, hi: end < hi ? end : hi });
    out.push(res);
    if (res.brk || res.firstUnreadable !== null) break; // the join stops here at the latest
    a = end + 1n;
    await new Promise<void>((done) => setImmediate(done));
  }
  return out;
}

function inWorker(path: string, range: SeqRange): Promise<RangeResult> {
  return new Promise((done, fail) => {
    let result: RangeResult | undefined;
    const worker = startWorker(import.meta.url, 'verify-worker', { path, range });
    worker.once('message', (m: RangeResult) => { result = m; });
    worker.once('error', fail);
    worker.once('exit', (code) => (result ? done(result) : fail(new Error(`verify worker for seq ${range.lo}..${range.hi} exited (${code}) without a result`))));
  });
}
