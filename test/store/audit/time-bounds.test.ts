// Time filters become seq ranges only while event times never decrease along seq. The chain
// clamps new event times so they never do; a ledger written before that (or edited) can
// still hold a step back, and then the answers must stay exact (the filter falls back to
// time itself). Such step backs are written here with SQL, as append no longer makes them.
import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Store } from '../../../src/store/store.js';
import { AuditQueries } from '../../../src/store/audit/audit-queries.js';
import { TimeBounds } from '../../../src/store/audit/queries/time-bounds.js';
import type { EventFilter } from '../../../src/store/audit/queries/events.js';
import { tempDir } from '../../support/tmp.js';
import { Clock, History } from '../../support/ledger-history.js';

describe('time filters as seq ranges', () => {
  let store: Store, clock: Clock, h: History, q: AuditQueries, cleanup: () => void;
  beforeEach(() => {
    const tmp = tempDir();
    clock = new Clock(1000);
    store = Store.open(join(tmp.dir, 'ledger.db'), clock.now);
    h = new History(store);
    q = new AuditQueries(store.ledger.sqlite);
    cleanup = () => { store.close(); tmp.cleanup(); };
  });
  afterEach(() => cleanup());

  /** Appends one event at each time given. */
  const at = (...times: number[]) => { for (const t of times) { clock.t = t; h.event({ action: 'vm.probe', outcome: 'ok', details: { t } }); } };
  /** Rewrites one event's time, as an older (unclamped) ledger could hold it. */
  const setTime = (seq: number, time: number) => store.ledger.sqlite.prepare('UPDATE events SET time = ? WHERE seq = ?').run(time, seq);
  const seqs = (f: EventFilter) => { const r = q.events({ limit: 1000, ...f }); assert.ok(r.ok); return r.value.items.map((e) => e.seq); };
  /** The answer by definition: every event whose time is in [since, until). */
  const truth = (since = -Infinity, until = Infinity) => (store.ledger.sqlite.prepare('SELECT seq, time FROM events ORDER BY seq').all() as { seq: number; time: number }[])
    .filter((e) => e.time >= since && e.time < until).map((e) => e.seq);
  const exported = async (since?: number, until?: number) => {
    const out: number[] = [];
    for await (const line of q.exportLines({ ...(since !== undefined ? { since } : {}), ...(until !== undefined ? { until } : {}) })) out.push(JSON.parse(line).seq);
    return out;
  };

  test('monotone times (ties included): exact seq bounds, found by index', () => {
    at(100, 100, 200, 300, 300, 300, 400);
    const b = new TimeBounds(store.ledger.sqlite);
    assert.deepEqual(b.seqRange(300, undefined), { lo: 4, hi: 8 });
    assert.deepEqual(b.seqRange(150, 300), { lo: 3, hi: 4 });
    assert.deepEqual(b.seqRange(500, undefined), { lo: 8, hi: 8 });
    for (const [since, until] of [[100, 300], [101, 401], [0, 100], [300, 300], [400, 10_000]] as const) {
      assert.deepEqual(seqs({ since, until }), truth(since, until), `[${since}, ${until})`);
      assert.deepEqual(seqs({ since, until, order: 'desc' }), truth(since, until).reverse());
    }
    assert.deepEqual(seqs({ since: 300 }), truth(300));
    assert.deepEqual(seqs({ until: 300 }), truth(undefined, 300));
  });

  test('a clock step back: answers stay exact, by time', async () => {
    at(100, 200, 200, 300);
    setTime(3, 150);
    assert.equal(new TimeBounds(store.ledger.sqlite).seqRange(150, undefined), null);
    assert.deepEqual(seqs({ since: 150 }), [2, 3, 4]);
    assert.deepEqual(seqs({ since: 150, until: 250 }), [2, 3]);
    assert.deepEqual(await exported(150), [2, 3, 4]);
    assert.deepEqual(await exported(150, 250), [2, 3]);
  });

  test('monotonicity is re-checked over new events only, and a later step back is seen', async () => {
    at(100, 200, 300);
    assert.deepEqual(seqs({ since: 200 }), [2, 3]);
    at(400, 400);
    setTime(5, 250);
    assert.deepEqual(seqs({ since: 260 }), truth(260));
    assert.deepEqual(seqs({ since: 260 }), [3, 4]);
    assert.deepEqual(await exported(200, 300), [2, 5]);
  });

  test('an empty chain has an empty range', () => {
    assert.deepEqual(new TimeBounds(store.ledger.sqlite).seqRange(1, 2), { lo: 1, hi: 1 });
    assert.deepEqual(seqs({ since: 1 }), []);
  });
});
