// The parallel verify on real worker threads gives exactly verifyLedger's result: the same
// reason, first bad seq, event count, head and checkpoint report, whichever range the tampered
// rows fall in, at a range's edges, and across ranges. Tampering is done as in verify.test.ts,
// through a second connection on the file.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { Store } from '../../../src/store/store.js';
import { Checkpointer } from '../../../src/store/audit/checkpoints.js';
import { verifyLedger, type VerifyResult } from '../../../src/store/audit/verify.js';
import { splitRange, verifyLedgerParallel } from '../../../src/store/audit/verify-parallel.js';
import { tempDir } from '../../support/tmp.js';
import { Clock, History } from '../../support/ledger-history.js';

const N = 600;
const KEY = 'parallel-test-key-0123456789abcdef';
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
// Three workers over seq 1..600 take 1–200, 201–400 and 401–600; walked on this thread in
// chunks of 200, the ranges are the same. Starting workers under tsx takes ~0.3–1 s each on a
// loaded machine, so most cases run the ranges on this thread (the same walkRange and join)
// and the ones marked `onWorkers` run them on real worker threads as well.
const OPTS = { key: KEY, threads: 3, workersFrom: 0 };
const IN_THREAD = { key: KEY, threads: 0, chunk: 200 };

describe('parallel audit verify (worker threads)', () => {
  const tmp = tempDir();
  const base = join(tmp.dir, 'base.db');
  let n = 0;

  before(() => {
    const clock = new Clock();
    const store = Store.open(base, clock.now);
    Checkpointer.attach(store, { key: KEY, every: 100 });
    const h = new History(store);
    const a = h.vm('a').id, b = h.vm('b').id;
    const { file } = h.inode(a);
    store.uow.run(() => {
      while (store.chain.getHead().seq < N) {
        clock.tick(3);
        const i = store.chain.getHead().seq;
        h.event(i % 7 === 0
          ? { action: 'file.share', outcome: 'denied', vmId: b, fileId: file.id, errorCode: 'file.permission_escalation', details: { permissions: ['write'], i } }
          : { action: 'vm.probe', outcome: 'ok', vmId: i % 2 ? a : b, details: { gpa: 4096 * i, note: 'line\nbreak "q" \u00e9' } });
      }
    });
    store.close();
  });
  after(() => tmp.cleanup());

  /** Both verifies of a tampered copy; asserts they agree and returns the result. */
  async function both(sql: string | null, onWorkers = false): Promise<VerifyResult> {
    const p = join(tmp.dir, `case-${n++}.db`);
    copyFileSync(base, p);
    if (sql) { const w = new Database(p); w.exec(sql); w.close(); }
    const db = new Database(p, { readonly: true });
    try {
      const reference = verifyLedger(db, { key: KEY });
      assert.deepEqual(await verifyLedgerParallel(db, IN_THREAD), reference);
      if (onWorkers) assert.deepEqual(await verifyLedgerParallel(db, OPTS), reference);
      return reference;
    } finally { db.close(); }
  }
  const brk = (r: VerifyResult) => [r.ok, !r.ok && r.firstBadSeq, !r.ok && r.reason, r.events];

  test('ranges: contiguous, covering, at most the number asked for', () => {
    assert.deepEqual(splitRange(1n, 600n, 3), [{ lo: 1n, hi: 200n }, { lo: 201n, hi: 400n }, { lo: 401n, hi: 600n }]);
    assert.deepEqual(splitRange(1n, 2n, 4), [{ lo: 1n, hi: 1n }, { lo: 2n, hi: 2n }]);
    assert.deepEqual(splitRange(-5n, 5n, 2), [{ lo: -5n, hi: 0n }, { lo: 1n, hi: 5n }]);
  });

  test('an intact ledger', async () => {
    const r = await both(null, true);
    assert.equal(r.ok, true);
    assert.deepEqual([r.events, r.checkpoints], [N, { count: 6, latestSeq: 600, macsVerified: true }]);
  });

  for (const seq of [50, 250, 550]) {
    test(`an edited row inside range ${Math.ceil(seq / 200)} (seq ${seq})`, async () => {
      assert.deepEqual(brk(await both(`UPDATE events SET actor = 'mallory' WHERE seq = ${seq}`, seq === 550)), [false, seq, 'hash_mismatch', seq - 1]);
    });
  }

  test('the edges of a range: its last row, its first row\'s link, its first row\'s hash', async () => {
    assert.deepEqual(brk(await both(`UPDATE events SET details = '{}' WHERE seq = 200`)), [false, 200, 'hash_mismatch', 199]);
    assert.deepEqual(brk(await both(`UPDATE events SET prev_hash = '${'a'.repeat(64)}' WHERE seq = 201`, true)), [false, 201, 'prev_hash_mismatch', 200]);
    assert.deepEqual(brk(await both(`UPDATE events SET hash = '${'b'.repeat(64)}' WHERE seq = 400`)), [false, 400, 'hash_mismatch', 399]);
    assert.deepEqual(brk(await both(`UPDATE events SET time = time + 1 WHERE seq = 401`)), [false, 401, 'hash_mismatch', 400]);
  });

  test('deleted rows: at the end of a range, at the start of one, a whole range', async () => {
    assert.deepEqual(brk(await both('DELETE FROM events WHERE seq = 200')), [false, 200, 'seq_gap', 199]);
    assert.deepEqual(brk(await both('DELETE FROM events WHERE seq = 401', true)), [false, 401, 'seq_gap', 400]);
    assert.deepEqual(brk(await both('DELETE FROM events WHERE seq BETWEEN 201 AND 400')), [false, 201, 'seq_gap', 200]);
  });

  test('tampering in several ranges reports the lowest, whichever worker finishes first', async () => {
    assert.deepEqual(brk(await both(`UPDATE events SET actor = 'x' WHERE seq IN (120, 450); DELETE FROM events WHERE seq = 300`, true)), [false, 120, 'hash_mismatch', 119]);
    // Rows swapped across ranges: the lower one no longer links.
    assert.deepEqual(brk(await both('UPDATE events SET seq = -1 WHERE seq = 150; UPDATE events SET seq = 150 WHERE seq = 500; UPDATE events SET seq = 500 WHERE seq = -1;')), [false, 150, 'prev_hash_mismatch', 149]);
  });

  test('seqs outside 1..N: a negative first seq, a seq beyond 2^53', async () => {
    assert.deepEqual(brk(await both('UPDATE events SET seq = -5 WHERE seq = 1')), [false, -5, 'seq_unexpected', 0]);
    assert.deepEqual(brk(await both('UPDATE events SET seq = 9007199254740993 WHERE seq = 600')), [false, 600, 'seq_gap', 599]);
  });

  test('a row whose content cannot be canonicalized never holds its hash, even an empty one', async () => {
    // 9e999 is stored as an infinite REAL, which JCS cannot encode.
    assert.deepEqual(brk(await both(`UPDATE events SET time = 9e999, hash = '' WHERE seq = 333`)), [false, 333, 'hash_mismatch', 332]);
  });

  test('a truncated tail and a broken checkpoint are reported as verifyLedger reports them', async () => {
    assert.deepEqual(brk(await both('DELETE FROM events WHERE seq > 550')), [false, 551, 'checkpoint_event_missing', 550]);
    assert.deepEqual(brk(await both(`UPDATE checkpoints SET mac = '${'0'.repeat(64)}' WHERE seq = 300`)), [false, 300, 'checkpoint_mac_invalid', 600]);
  });

  test('the compiled module (dist/) starts its workers too', () => {
    const dist = join(ROOT, 'dist/store/audit/verify-parallel.js');
    assert.ok(existsSync(dist), 'dist/ is missing: run npm run build');
    const p = join(tmp.dir, `dist-${n++}.db`);
    copyFileSync(base, p);
    const w = new Database(p); w.exec(`UPDATE events SET actor = 'x' WHERE seq = 444`); w.close();
    const script = `import Database from 'better-sqlite3';
      const { verifyLedgerParallel } = await import(${JSON.stringify(dist)});
      const db = new Database(process.env.LEDGER, { readonly: true });
      console.log(JSON.stringify(await verifyLedgerParallel(db, ${JSON.stringify(OPTS)})));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, env: { ...process.env, LEDGER: p }, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const db = new Database(p, { readonly: true });
    try { assert.deepEqual(JSON.parse(r.stdout), verifyLedger(db, { key: KEY })); } finally { db.close(); }
  });
});
