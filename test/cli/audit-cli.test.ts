// The CLI as an operator runs it: a separate process on a ledger file.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { Store } from '../../src/store/store.js';
import { Checkpointer } from '../../src/store/audit/checkpoints.js';
import { tempDir } from '../support/tmp.js';
import { Clock, History } from '../support/ledger-history.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const KEY = 'cli-test-key-0123456789abcdef';

function cli(args: string[], env: Record<string, string> = {}, bin = false) {
  const cmd = bin ? [join(ROOT, 'dist/bin/gmemd.js'), ...args] : ['--import', 'tsx', join(ROOT, 'src/cli.ts'), ...args];
  const r = spawnSync(process.execPath, cmd, { cwd: ROOT, env: { PATH: process.env.PATH!, ...env }, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('gmemd audit verify (CLI)', () => {
  const tmp = tempDir();
  const base = join(tmp.dir, 'base.db');
  let n = 0;
  const copy = () => { const p = join(tmp.dir, `c${n++}.db`); copyFileSync(base, p); return p; };

  before(() => {
    const clock = new Clock();
    const store = Store.open(base, clock.now);
    const cp = Checkpointer.attach(store, { key: KEY, every: 4 });
    const h = new History(store);
    for (let i = 0; i < 10; i++) { clock.tick(); h.vm(`vm-${i}`); }
    cp.checkpointNow();
    store.close();
  });
  after(() => tmp.cleanup());

  test('an intact ledger: exit 0 and a JSON report', () => {
    const r = cli(['audit', 'verify', '--db', copy()], { GMEMD_AUDIT_KEY: KEY });
    assert.equal(r.code, 0, r.err);
    const report = JSON.parse(r.out);
    assert.equal(report.ok, true);
    assert.equal(report.events, 10);
    assert.deepEqual(report.checkpoints, { count: 3, latestSeq: 10, macsVerified: true });
  });

  test('a tampered ledger: exit 1 naming the first bad seq; GMEMD_DB is the default path', () => {
    const p = copy();
    const db = new Database(p);
    db.prepare(`UPDATE events SET actor = 'mallory' WHERE seq = 6`).run();
    db.close();
    const r = cli(['audit', 'verify'], { GMEMD_DB: p, GMEMD_AUDIT_KEY: KEY });
    assert.equal(r.code, 1);
    const report = JSON.parse(r.out);
    assert.deepEqual([report.ok, report.firstBadSeq, report.reason, report.db], [false, 6, 'hash_mismatch', p]);
  });

  test('a truncated tail is caught by the checkpoints, through the installed bin too', () => {
    const p = copy();
    const db = new Database(p);
    db.prepare('DELETE FROM events WHERE seq > 9').run();
    db.close();
    const r = cli(['audit', 'verify', `--db=${p}`], { GMEMD_AUDIT_KEY: KEY }, true);
    assert.equal(r.code, 1, r.err);
    assert.deepEqual([JSON.parse(r.out).firstBadSeq, JSON.parse(r.out).reason], [10, 'checkpoint_event_missing']);
  });

  test('a wrong key fails the checkpoint MACs; a missing file or bad usage exits 2', () => {
    const wrong = cli(['audit', 'verify', '--db', copy()], { GMEMD_AUDIT_KEY: 'not-the-key' });
    assert.deepEqual([wrong.code, JSON.parse(wrong.out).reason], [1, 'checkpoint_mac_invalid']);
    const missing = cli(['audit', 'verify', '--db', join(tmp.dir, 'nope.db')]);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /unable to open/);
    assert.equal(cli(['audit', 'frobnicate']).code, 2);
    assert.equal(cli(['audit', 'verify', '--bogus']).code, 2);
  });
});
