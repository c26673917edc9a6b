// The audit queries must stay index range scans as the ledger grows (the benchmark holds
// them to p99 < 10 ms at 1M events). This asks SQLite for the plan of each statement the
// queries actually run, with the parameters they pass.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type Database from 'better-sqlite3';
import { AuditQueries } from '../../../src/store/audit/audit-queries.js';
import { sliceStatement } from '../../../src/store/audit/queries/export-slices.js';
import { buildScenario, type Scenario } from '../../support/audit-scenario.js';

interface Run { sql: string; params: unknown[] }

/** A connection whose statements record each run's SQL and parameters. */
function recording(db: Database.Database): { db: Database.Database; runs: Run[] } {
  const runs: Run[] = [];
  const wrap = (stmt: Database.Statement, sql: string) => new Proxy(stmt, {
    get(target, key) {
      const v = Reflect.get(target, key) as unknown;
      if (typeof v !== 'function') return v;
      if (key === 'all' || key === 'get' || key === 'iterate') {
        return (...params: unknown[]) => { runs.push({ sql, params }); return (v as (...a: unknown[]) => unknown).apply(target, params); };
      }
      return (v as (...a: unknown[]) => unknown).bind(target);
    },
  });
  const proxied = new Proxy(db, {
    get(target, key) {
      if (key === 'prepare') return (sql: string) => wrap(target.prepare(sql), sql);
      const v = Reflect.get(target, key) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { db: proxied, runs };
}

describe('audit query plans', () => {
  let s: Scenario;
  let q: AuditQueries;
  let runs: Run[];
  let sqlite: Database.Database;
  before(() => {
    s = buildScenario();
    sqlite = s.store.ledger.sqlite;
    const r = recording(sqlite);
    runs = r.runs;
    q = new AuditQueries(r.db);
  });
  after(() => s.cleanup());

  /** The plan of the last statement the call ran. */
  const planOf = (call: () => unknown): string => {
    call();
    const last = runs[runs.length - 1]!;
    const rows = sqlite.prepare(`EXPLAIN QUERY PLAN ${last.sql}`).all(...(last.params as [])) as Array<{ detail: string }>;
    return rows.map((r) => r.detail).join(' | ');
  };

  test('events: each filter uses its (column, seq) index, never a scan of the chain', () => {
    const cases: Array<[Parameters<AuditQueries['events']>[0], string]> = [
      [{ vmId: s.vms.a.id, limit: 50 }, 'events_vm_idx'],
      [{ vmId: s.vms.a.id, cursor: Buffer.from('3').toString('base64url') }, 'events_vm_idx'],
      [{ inodeId: s.ino1.id, order: 'desc' }, 'events_inode_idx'],
      [{ fileId: s.files.fa.id }, 'events_file_idx'],
      [{ action: 'file.share' }, 'events_action_idx'],
      [{ outcome: 'denied' }, 'events_outcome_idx'],
    ];
    for (const [filter, index] of cases) {
      const plan = planOf(() => q.events(filter));
      assert.match(plan, new RegExp(`SEARCH events USING (COVERING )?INDEX ${index}`), `${JSON.stringify(filter)}: ${plan}`);
      assert.doesNotMatch(plan, /SCAN events|TEMP B-TREE/, plan);
    }
  });

  test('events: a time filter is a seq range on the primary key (or on a filter\'s index), not a scan or a sort', () => {
    for (const filter of [{ since: s.t.create! }, { since: s.t.create!, until: s.t.donateC!, order: 'desc' as const }]) {
      const plan = planOf(() => q.events(filter));
      assert.match(plan, /SEARCH events USING INTEGER PRIMARY KEY \(rowid>\? AND rowid<\?\)/, plan);
    }
    const plan = planOf(() => q.events({ vmId: s.vms.b.id, since: s.t.create! }));
    assert.match(plan, /SEARCH events USING INDEX events_vm_idx \(vm_id=\? AND seq>\? AND seq<\?\)/, plan);
  });

  test('access: the (inode_id, from_time) index', () => {
    const plan = planOf(() => q.access({ inodeId: s.ino1.id, at: s.t.create! }));
    assert.match(plan, /SEARCH access_intervals USING INDEX access_inode_time_idx/);
  });

  test('lineage: by inode and by its files, not by action across the ledger', () => {
    const plan = planOf(() => q.lineage(s.ino1.id));
    assert.match(plan, /events_inode_idx/);
    assert.match(plan, /events_file_idx/);
    assert.doesNotMatch(plan, /events_action_idx|SCAN events/);
  });

  test('exposure: live inodes in id order, their live files only', () => {
    const plan = planOf(() => q.exposure());
    assert.match(plan, /inodes_state_idx/);
    assert.match(plan, /SEARCH f USING INDEX files_one_live_per_vm_uq/);
    assert.doesNotMatch(plan, /SCAN (f|files)\b/);
  });

  test('export slices (worker threads) are a seq range on the primary key, with or without a time filter', () => {
    const sql = sliceStatement(sqlite).source;
    for (const [since, until] of [[Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER], [s.t.create!, s.t.donateC!]]) {
      const plan = (sqlite.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(0, 1000, since, until) as Array<{ detail: string }>).map((r) => r.detail).join(' | ');
      assert.match(plan, /^SEARCH events USING INTEGER PRIMARY KEY \(rowid>\? AND rowid<\?\)$/, plan);
    }
  });
});
