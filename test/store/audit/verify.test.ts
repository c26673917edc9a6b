// Tampering is done the way an attacker with the file would: a separate better-sqlite3
// connection editing the SQLite file directly, then verify on a fresh connection.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Store } from '../../../src/store/store.js';
import { GENESIS_HASH } from '../../../src/store/audit-chain.js';
import { verifyLedger } from '../../../src/store/audit/verify.js';
import { verifyLedgerParallel } from '../../../src/store/audit/verify-parallel.js';
import { tempDir } from '../../support/tmp.js';
import { Clock, History } from '../../support/ledger-history.js';

const N = 12;

/** A ledger with N events of mixed shape (nulls, details, denied outcomes). */
function buildLedger(path: string): void {
  const clock = new Clock();
  const store = Store.open(path, clock.now);
  const h = new History(store);
  const a = h.vm('a'); clock.tick();
  const b = h.vm('b'); clock.tick();
  const { file } = h.inode(a.id); clock.tick();
  const g = h.share(file.id, b.id, ['read', 'write']); clock.tick();
  h.narrow(g.id, ['read']); clock.tick();
  h.event({ action: 'file.share', outcome: 'denied', vmId: b.id, fileId: g.id, errorCode: 'file.permission_escalation', requestId: 'req-1', details: { permissions: ['write'] } });
  h.event({ action: 'binding.create', outcome: 'failed', vmId: a.id, fileId: file.id, errno: 'EEXIST', operation: 'KVM_SET_USER_MEMORY_REGION2', details: { gpa: 0 } });
  while (store.chain.getHead().seq < N) { clock.tick(); h.event({ action: 'vm.probe', outcome: 'ok', vmId: a.id, details: { gpa: 4096, value: 7 } }); }
  store.close();
}

function tamper(path: string, sqlText: string): void {
  const db = new Database(path);
  db.exec(sqlText);
  db.close();
}

/** verifyLedger's result, after checking that the range-split walk gives exactly the same
 *  with ranges cut in three different places (on this thread; verify-parallel.test.ts runs
 *  the worker threads). */
async function verifyFile(path: string) {
  const db = new Database(path, { readonly: true });
  try {
    const r = verifyLedger(db);
    for (const chunk of [1, 3, 5]) assert.deepEqual(await verifyLedgerParallel(db, { threads: 0, chunk }), r, `ranges of ${chunk}`);
    return r;
  } finally { db.close(); }
}

describe('audit verify', () => {
  const tmp = tempDir();
  const base = join(tmp.dir, 'base.db');
  let n = 0;
  /** A fresh copy of the base ledger for one tampering case. */
  const copy = (): string => { const p = join(tmp.dir, `case-${n++}.db`); copyFileSync(base, p); return p; };
  /** Verifies a copy of the base ledger after `sqlText` ran on it. */
  const verifyTampered = (sqlText: string) => { const p = copy(); tamper(p, sqlText); return verifyFile(p); };

  before(() => buildLedger(base));
  after(() => tmp.cleanup());

  test('an intact chain verifies, reporting its head', async () => {
    const r = await verifyFile(copy());
    assert.equal(r.ok, true);
    const db = new Database(base, { readonly: true });
    const head = db.prepare('SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string };
    db.close();
    assert.deepEqual(r, { ok: true, events: N, headSeq: N, headHash: head.hash, checkpoints: { count: 0, latestSeq: null, macsVerified: false } });
  });

  test('an empty chain verifies with the genesis hash', () => {
    const tmp2 = tempDir();
    const store = Store.open(join(tmp2.dir, 'empty.db'));
    try {
      const r = verifyLedger(store.ledger.sqlite);
      assert.deepEqual(r, { ok: true, events: 0, headSeq: 0, headHash: GENESIS_HASH, checkpoints: { count: 0, latestSeq: null, macsVerified: false } });
    } finally { store.close(); tmp2.cleanup(); }
  });

  const columns: Array<[string, string]> = [
    ['time', 'time = time + 1'], ['actor', `actor = 'mallory'`], ['action', `action = 'vm.destroy'`],
    ['outcome', `outcome = 'ok'`], ['request_id', `request_id = 'req-2'`], ['vm_id', 'vm_id = NULL'],
    ['inode_id', `inode_id = 'ino_x'`], ['file_id', `file_id = NULL`], ['binding_id', `binding_id = 'bind_x'`],
    ['migration_id', `migration_id = 'mig_x'`], ['error_code', 'error_code = NULL'], ['errno', `errno = 'EPERM'`],
    ['operation', `operation = 'x'`], ['details', `details = '{"permissions":["read"]}'`],
    ['prev_hash', `prev_hash = '${'f'.repeat(64)}'`], ['hash', `hash = '${'e'.repeat(64)}'`],
  ];
  for (const [column, set] of columns) {
    test(`an edit of ${column} is found at that event`, async () => {
      const r = await verifyTampered(`UPDATE events SET ${set} WHERE seq = 6`);
      assert.equal(r.ok, false);
      assert.equal(!r.ok && r.firstBadSeq, 6);
      assert.equal(r.events, 5);
    });
  }

  test('an edit of seq (moving an event past the end) is a gap at its old seq', async () => {
    const r = await verifyTampered('UPDATE events SET seq = 100 WHERE seq = 6');
    assert.deepEqual([r.ok, !r.ok && r.firstBadSeq, !r.ok && r.reason], [false, 6, 'seq_gap']);
  });

  test('a deleted row in the middle is a gap at its seq', async () => {
    const r = await verifyTampered('DELETE FROM events WHERE seq = 7');
    assert.deepEqual([r.ok, !r.ok && r.firstBadSeq, !r.ok && r.reason, r.events], [false, 7, 'seq_gap', 6]);
  });

  test('a deleted first row is found at seq 1', async () => {
    const r = await verifyTampered('DELETE FROM events WHERE seq = 1');
    assert.deepEqual([r.ok, !r.ok && r.firstBadSeq], [false, 1]);
  });

  test('two rows with their seq values swapped are found at the lower seq', async () => {
    const r = await verifyTampered('UPDATE events SET seq = -4 WHERE seq = 4; UPDATE events SET seq = 4 WHERE seq = 8; UPDATE events SET seq = 8 WHERE seq = -4;');
    assert.deepEqual([r.ok, !r.ok && r.firstBadSeq], [false, 4]);
  });

  test('two rows with their contents swapped (seq kept) are found at the lower seq', async () => {
    const cols = 'time, actor, action, outcome, request_id, vm_id, inode_id, file_id, binding_id, migration_id, error_code, errno, operation, details, prev_hash, hash';
    const r = await verifyTampered(`CREATE TEMP TABLE t AS SELECT * FROM events WHERE seq IN (9, 10);
      UPDATE events SET (${cols}) = (SELECT ${cols} FROM t WHERE t.seq = 10) WHERE seq = 9;
      UPDATE events SET (${cols}) = (SELECT ${cols} FROM t WHERE t.seq = 9) WHERE seq = 10;`);
    assert.deepEqual([r.ok, !r.ok && r.firstBadSeq, !r.ok && r.reason], [false, 9, 'prev_hash_mismatch']);
  });

  test('a row the driver cannot read (integer beyond 2^53) is a break at its seq', async () => {
    const r = await verifyTampered('UPDATE events SET time = 9007199254740993 WHERE seq = 3');
    assert.deepEqual([r.ok, !r.ok && r.firstBadSeq], [false, 3]);
  });

  test('the chunked walk on this thread gives the same answers, and lets the event loop run between chunks', async () => {
    const p = copy();
    tamper(p, 'DELETE FROM events WHERE seq = 11');
    const db = new Database(p, { readonly: true });
    try {
      // Queued before the walk starts: it runs before the walk ends only if the walk yields
      // (a walk without a yield would resolve first, microtasks running before immediates).
      let ranBetween = false;
      setImmediate(() => { ranBetween = true; });
      const r = await verifyLedgerParallel(db, { threads: 0, chunk: 1 });
      assert.equal(ranBetween, true);
      assert.deepEqual([r.ok, !r.ok && r.firstBadSeq, r.events], [false, 11, 10]);
      assert.deepEqual(r, verifyLedger(db));
    } finally { db.close(); }
  });
});
