import { test, describe, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Store } from '../../../src/store/store.js';
import { canonicalEvent, chainHash, type EventRow } from '../../../src/store/audit-chain.js';
import { Checkpointer, checkpointMac, type Checkpoint } from '../../../src/store/audit/checkpoints.js';
import { verifyLedger } from '../../../src/store/audit/verify.js';
import { EVENT_COLUMNS } from '../../../src/store/audit/event-rows.js';
import { tempDir } from '../../support/tmp.js';
import { Clock, History } from '../../support/ledger-history.js';

const KEY = 'test-audit-key-0123456789abcdef';

describe('signed checkpoints', () => {
  let cleanups: Array<() => void> = [];
  afterEach(() => { for (const c of cleanups) c(); cleanups = []; });

  /** A ledger of `events` probe events with checkpoints every `every`; the store stays open. */
  function ledger(events: number, every = 5) {
    const tmp = tempDir();
    const path = join(tmp.dir, 'ledger.db');
    const clock = new Clock();
    const store = Store.open(path, clock.now);
    cleanups.push(() => { store.close(); tmp.cleanup(); });
    const cp = Checkpointer.attach(store, { key: KEY, every });
    const h = new History(store);
    const append = (k: number) => { for (let i = 0; i < k; i++) { clock.tick(); h.event({ action: 'vm.probe', outcome: 'ok', details: { i } }); } };
    append(events);
    return { path, store, cp, append, clock };
  }
  const checkpoints = (db: Database.Database) => db.prepare('SELECT seq, hash, time, mac FROM checkpoints ORDER BY seq').all() as Checkpoint[];
  const verifyFile = (path: string, key?: string) => {
    const db = new Database(path, { readonly: true });
    try { return verifyLedger(db, key === undefined ? {} : { key }); } finally { db.close(); }
  };
  const tamper = (path: string, text: string) => { const db = new Database(path); db.exec(text); db.close(); };

  test('a checkpoint is written at every multiple of `every`, signing seq|hash|time', () => {
    const { store } = ledger(12);
    const cps = checkpoints(store.ledger.sqlite);
    assert.deepEqual(cps.map((c) => c.seq), [5, 10]);
    for (const c of cps) {
      const ev = store.ledger.sqlite.prepare('SELECT hash FROM events WHERE seq = ?').get(c.seq) as { hash: string };
      assert.equal(c.hash, ev.hash);
      assert.equal(c.mac, checkpointMac(KEY, c));
    }
    const r = verifyLedger(store.ledger.sqlite, { key: KEY });
    assert.deepEqual(r.ok && r.checkpoints, { count: 2, latestSeq: 10, macsVerified: true });
  });

  test('the boundary checkpoint commits and rolls back with its event', () => {
    const { store } = ledger(4);
    const h = new History(store);
    assert.throws(() => store.uow.run(() => { h.event({ action: 'vm.probe', outcome: 'ok' }); throw new Error('kernel said no'); }));
    assert.equal(checkpoints(store.ledger.sqlite).length, 0);
    assert.equal(store.chain.getHead().seq, 4);
    h.event({ action: 'vm.probe', outcome: 'ok' });
    assert.deepEqual(checkpoints(store.ledger.sqlite).map((c) => c.seq), [5]);
  });

  test('checkpointNow signs the head once; an empty chain has nothing to sign', () => {
    const empty = ledger(0);
    assert.equal(empty.cp.checkpointNow(), null);
    empty.store.close();
    const { store, cp } = ledger(7);
    const first = cp.checkpointNow();
    assert.equal(first?.seq, 7);
    assert.deepEqual(cp.checkpointNow(), first);
    assert.deepEqual(checkpoints(store.ledger.sqlite).map((c) => c.seq), [5, 7]);
  });

  test('detach stops checkpointing', () => {
    const { store, cp, append } = ledger(3);
    cp.detach();
    append(10);
    assert.equal(checkpoints(store.ledger.sqlite).length, 0);
  });

  test('tail truncation past a checkpoint is found at the first missing seq', () => {
    const { path, store, cp } = ledger(12);
    cp.checkpointNow(); // shutdown checkpoint at 12
    store.close();
    tamper(path, 'DELETE FROM events WHERE seq > 8');
    const r = verifyFile(path, KEY);
    assert.deepEqual([r.ok, !r.ok && r.firstBadSeq, !r.ok && r.reason, r.events], [false, 9, 'checkpoint_event_missing', 8]);
    // Without the key the checkpoints still anchor the chain (but their MACs go unchecked).
    const r2 = verifyFile(path);
    assert.deepEqual([r2.ok, !r2.ok && r2.firstBadSeq, r2.checkpoints.macsVerified], [false, 9, false]);
  });

  test('the shutdown checkpoint catches truncating the last events', () => {
    const { path, store, cp } = ledger(13);
    cp.checkpointNow();
    store.close();
    tamper(path, 'DELETE FROM events WHERE seq = 13');
    const r = verifyFile(path, KEY);
    assert.deepEqual([r.ok, !r.ok && r.firstBadSeq], [false, 13]);
  });

  test('a forged or altered checkpoint fails its MAC; a wrong key fails the first one', () => {
    const { path, store } = ledger(12);
    store.close();
    assert.equal(verifyFile(path, KEY).ok, true);
    const wrong = verifyFile(path, 'another-key');
    assert.deepEqual([wrong.ok, !wrong.ok && wrong.firstBadSeq, !wrong.ok && wrong.reason], [false, 5, 'checkpoint_mac_invalid']);
    tamper(path, 'UPDATE checkpoints SET time = time + 1 WHERE seq = 10');
    const r = verifyFile(path, KEY);
    assert.deepEqual([r.ok, !r.ok && r.firstBadSeq, !r.ok && r.reason], [false, 10, 'checkpoint_mac_invalid']);
  });

  test('a rewritten and re-hashed suffix passes the walk but not the checkpoint', () => {
    const { path, store } = ledger(12);
    store.close();
    // The attacker edits event 7 and recomputes every hash after it, so the chain is self-consistent.
    const db = new Database(path);
    db.prepare(`UPDATE events SET actor = 'mallory' WHERE seq = 7`).run();
    let prev = (db.prepare('SELECT hash FROM events WHERE seq = 6').get() as { hash: string }).hash;
    for (const row of db.prepare(`SELECT ${EVENT_COLUMNS} FROM events WHERE seq >= 7 ORDER BY seq`).all() as EventRow[]) {
      const hash = chainHash(prev, canonicalEvent(row));
      db.prepare('UPDATE events SET prev_hash = ?, hash = ? WHERE seq = ?').run(prev, hash, row.seq);
      prev = hash;
    }
    db.close();
    const r = verifyFile(path, KEY);
    assert.deepEqual([r.ok, !r.ok && r.firstBadSeq, !r.ok && r.reason, r.events], [false, 10, 'checkpoint_hash_mismatch', 12]);
    assert.match(!r.ok ? r.message : '', /after seq 5 up to 10/);
  });

  test('a broken walk below a checkpoint is reported at the lower seq', () => {
    const { path, store } = ledger(12);
    store.close();
    tamper(path, `UPDATE events SET actor = 'x' WHERE seq = 3; DELETE FROM events WHERE seq > 6;`);
    const r = verifyFile(path, KEY);
    assert.deepEqual([r.ok, !r.ok && r.firstBadSeq, !r.ok && r.reason], [false, 3, 'hash_mismatch']);
  });

  test('attach refuses an empty key or a bad interval', () => {
    const { store } = ledger(0);
    assert.throws(() => Checkpointer.attach(store, { key: '' }), /key/);
    assert.throws(() => Checkpointer.attach(store, { key: KEY, every: 0 }), /positive/);
  });
});
