// The WAL is checkpointed by the worker, not by the writer's commits; it stays bounded when
// the worker cannot keep up, and when it can but the writes never pause; and stopping the
// worker gives the writer its own checkpoints back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as turn } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { Store } from '../../src/store/store.js';
import { fallbackSwitch, reportOf, startWalCheckpointer, type WalCheckpointer } from '../../src/store/wal-checkpointer.js';
import { tempDir } from '../support/tmp.js';

const autoPages = (s: Store) => s.ledger.sqlite.pragma('wal_autocheckpoint', { simple: true });
// `state`, if given, is printed with a timeout: what the checkpointer had seen by then.
const until = async (what: string, cond: () => boolean, state?: () => unknown) => {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(cond(), state ? `${what} (by then: ${JSON.stringify(state())})` : what);
};
function writeEvents(store: Store, n: number) {
  for (let i = 0; i < n; i++) {
    store.uow.run(() => store.chain.append({ action: 'vm.create', outcome: 'ok', actor: 'test', details: { i, pad: 'x'.repeat(2000) } }));
  }
}

/** A ledger with a checkpointer that restarts the WAL from `restartFrames`; stopped and removed after `body`. */
async function withRestarts(restartFrames: number, body: (c: { store: Store; path: string; cp: WalCheckpointer }) => Promise<void>) {
  const tmp = tempDir();
  const path = join(tmp.dir, 'c.db');
  const store = Store.open(path);
  const cp = startWalCheckpointer(store.ledger.sqlite, path, { everyMs: 5, restartFrames });
  try {
    await body({ store, path, cp });
  } finally {
    await cp.stop();
    store.close();
    tmp.cleanup();
  }
}

test('the worker checkpoints what the writer commits; the writer does not', async () => {
  const tmp = tempDir();
  const path = join(tmp.dir, 'c.db');
  const store = Store.open(path);
  const cp = startWalCheckpointer(store.ledger.sqlite, path, { everyMs: 20 });
  try {
    assert.equal(autoPages(store), 0, 'the writer no longer checkpoints in its commits');
    writeEvents(store, 300);
    await until('a checkpoint after the writes reported frames', () => cp.stats.checkpoints > 0 && cp.stats.lastLogFrames > 0);
    // Another connection sees every committed event (the WAL and the file agree on content).
    const other = new Database(path, { readonly: true });
    assert.equal((other.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n, 300);
    other.close();
  } finally {
    await cp.stop();
    assert.equal(autoPages(store), 1000, 'stopped: the writer checkpoints for itself again');
    store.close();
    tmp.cleanup();
  }
});

/** A ledger whose WAL a reader's snapshot pins (no checkpoint can pass its frames), with a
 *  checkpointer whose fallback falls due past 50 frames. */
async function withPinnedWal(everyMs: number, body: (c: { store: Store; reader: Database.Database; cp: WalCheckpointer }) => Promise<void>) {
  const tmp = tempDir();
  const path = join(tmp.dir, 'c.db');
  const store = Store.open(path);
  const reader = new Database(path, { readonly: true });
  reader.exec('BEGIN');
  reader.prepare('SELECT count(*) FROM events').get();
  const cp = startWalCheckpointer(store.ledger.sqlite, path, { everyMs, maxFrames: 50 });
  try {
    await body({ store, reader, cp });
  } finally {
    reader.close();
    await cp.stop();
    store.close();
    tmp.cleanup();
  }
}

test('a WAL the worker cannot shrink gives the writer its checkpoints back', () => withPinnedWal(20, async ({ store, reader, cp }) => {
  writeEvents(store, 100);
  await until('the fallback switched on', () => cp.stats.fallbacks === 1, () => ({ ...cp.stats, autoPages: autoPages(store) }));
  assert.equal(autoPages(store), 1000);
  reader.exec('COMMIT');
  writeEvents(store, 1);
  await until('the WAL shrank and the worker took over again', () => autoPages(store) === 0);
}));

const RESTART_AT = 200;
test('under writes that never pause, the WAL starts over instead of growing', () => withRestarts(RESTART_AT, async ({ store, path, cp }) => {
  const page = store.ledger.sqlite.pragma('page_size', { simple: true }) as number;
  // 1,000 commits, one per turn of the event loop: a commit always lands while the worker
  // copies, so SQLite alone never writes from the start of the WAL again; without the
  // writer's RESTART the file grew by ~39 KB a commit (72 MB after 1,867 of them).
  const commits = 1000;
  let largest = 0;
  for (let i = 0; i < commits; i++) {
    writeEvents(store, 1);
    largest = Math.max(largest, statSync(`${path}-wal`).size);
    await turn();
  }
  // Well above the restart threshold, the backlog a restart may copy (256 frames) and what
  // commits while one is due or refused; a third of what the commits wrote without restarts.
  const bound = 12 * 2 ** 20;
  assert.ok(cp.stats.restarts > 0, `the writer restarted the WAL (${cp.stats.checkpoints} checkpoints)`);
  assert.ok(largest <= bound, `the WAL stayed within ${bound} bytes: largest ${largest}, after ${commits} commits (restart at ${RESTART_AT} frames of ${page} bytes)`);
  const other = new Database(path, { readonly: true });
  assert.equal((other.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n, commits, 'every commit is there');
  other.close();
}));

test('a restart due while the writer connection iterates a statement gives up, and comes back', () => withRestarts(50, async ({ store, cp }) => {
  writeEvents(store, 100);
  // An unfinished iterator keeps the connection busy: better-sqlite3 refuses every other
  // statement on it, the checkpoint included (an uncaught throw would end this process).
  const open = store.ledger.sqlite.prepare('SELECT seq FROM events').iterate();
  open.next();
  await until('a restart fell due and was refused', () => cp.stats.restartsRefused > 0);
  open.return?.();
  await until('the next report restarted the WAL', () => cp.stats.restarts > 0);
  assert.equal(store.ledger.sqlite.pragma('busy_timeout', { simple: true }), 5000, 'busy_timeout is back to the ledger\'s');
}));

test('an idle WAL is restarted once, not on every report', () => withRestarts(50, async ({ store, cp }) => {
  writeEvents(store, 100);
  await until('the WAL was restarted', () => cp.stats.restarts > 0);
  const { restarts, checkpoints } = cp.stats;
  // No writes: the WAL keeps its frames (it starts over at the next write), and twenty more
  // reports say so; each would have been another RESTART and its two fsyncs.
  await until('twenty more reports', () => cp.stats.checkpoints >= checkpoints + 20);
  assert.equal(cp.stats.restarts, restarts);
  // The next writes start the WAL over and grow it again: restarted again once it is due.
  writeEvents(store, 100);
  await until('restarted after the WAL grew again', () => cp.stats.restarts > restarts);
}));

test('a fallback due while the writer connection iterates a statement waits for the next report', () => withPinnedWal(5, async ({ store, cp }) => {
  writeEvents(store, 100);
  // Reports arrive while the connection is busy: the pragma is refused there (an uncaught
  // throw would end this process), and no fallback is counted that did not happen.
  const open = store.ledger.sqlite.prepare('SELECT seq FROM events').iterate();
  open.next();
  const seen = cp.stats.checkpoints;
  await until('reports while busy', () => cp.stats.checkpoints >= seen + 5);
  assert.equal(cp.stats.fallbacks, 0);
  open.return?.();
  await until('the fallback switched on at a later report', () => cp.stats.fallbacks === 1, () => ({ ...cp.stats, autoPages: autoPages(store) }));
  assert.equal(autoPages(store), 1000);
}));

// A second stop(), withRestarts' own, finds the worker gone and returns.
test('a worker that exits while the writer connection iterates a statement still gives the writer its checkpoints back', () => withRestarts(4000, async ({ store, cp }) => {
  writeEvents(store, 20);
  // Busy when the worker's exit is handled: the switch back is refused there.
  const open = store.ledger.sqlite.prepare('SELECT seq FROM events').iterate();
  open.next();
  await cp.stop();
  open.return?.();
  await until('the writer checkpoints for itself again', () => autoPages(store) === 1000);
}));

test("a checkpoint that could not run (log and checkpointed -1) is no report: it neither switches the fallback off nor on", () => {
  const behind = { log: 120, checkpointed: 10 }, busy = { log: -1, checkpointed: -1 }, caughtUp = { log: 120, checkpointed: 120 };
  assert.equal(reportOf(busy), null, 'a busy checkpoint is not a backlog of 0');
  assert.equal(reportOf({}), null, 'an error carries no counts');
  assert.deepEqual(reportOf(behind), { log: 120, backlog: 110 });
  assert.deepEqual(reportOf(caughtUp), { log: 120, backlog: 0 });
  assert.equal(fallbackSwitch(false, 110, 50), 'on');
  assert.equal(fallbackSwitch(true, 110, 50), null);
  assert.equal(fallbackSwitch(true, 0, 50), 'off');
  assert.equal(fallbackSwitch(false, 50, 50), null, 'at the limit, not past it');
  // Reports as they may queue up while the writer commits: the fallback comes on once and stays.
  let fallback = false, ons = 0;
  for (const m of [behind, busy, behind, busy, busy, behind]) {
    const r = reportOf(m);
    const step = r && fallbackSwitch(fallback, r.backlog, 50);
    if (step === 'on') { fallback = true; ons++; } else if (step === 'off') fallback = false;
  }
  assert.deepEqual({ fallback, ons }, { fallback: true, ons: 1 });
});
