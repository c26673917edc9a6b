// The export's hand-written lines are byte for byte what JSON.stringify gives for the event
// object and for the HTTP wire form, on ordinary rows and on rows holding what their columns
// should not (as a tampered file may): then the slow path gives the same answer or the same
// exception.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { EVENT_COLUMNS, toAuditEvent } from '../../../src/store/audit/event-rows.js';
import { lineWriter } from '../../../src/store/audit/queries/event-line.js';
import { auditEventJson } from '../../../src/http/audit-wire.js';
import type { EventRow } from '../../../src/store/audit-chain.js';
import { buildScenario } from '../../support/audit-scenario.js';

const outcomeOf = (f: () => string): { text: string } | { threw: string } => {
  try { return { text: f() }; } catch (e) { return { threw: (e as Error).constructor.name }; }
};

test('every line equals JSON.stringify of the event and of its wire form, tampered rows included', () => {
  const s = buildScenario();
  try {
    const db = new Database(s.store.ledger.sqlite.name);
    // One oddity per row, each in a column the fast path must not write as it is.
    db.exec(`UPDATE events SET details = 'not json' WHERE seq = 2;
      UPDATE events SET details = '[1,2]' WHERE seq = 3;
      UPDATE events SET details = '{"b":1,"a":"x\\u2028y","10":2,"9":3}' WHERE seq = 4;
      UPDATE events SET actor = 42 WHERE seq = 5;
      UPDATE events SET vm_id = x'00ff' WHERE seq = 6;
      UPDATE events SET time = 1.5 WHERE seq = 7;
      UPDATE events SET errno = 'quote " back \\ nl
 tab	 ctl ' || char(1) WHERE seq = 8;
      UPDATE events SET details = 12 WHERE seq = 9;
      UPDATE events SET time = 9e999 WHERE seq = 11;
      UPDATE events SET operation = '\u00e9\ud83d\ude00' WHERE seq = 12;`);
    db.close();
    const stmt = s.store.ledger.sqlite.prepare(`SELECT ${EVENT_COLUMNS} FROM events ORDER BY seq`);
    const rows = stmt.all() as EventRow[];
    const raw = stmt.raw(true).all() as unknown[][];
    const names = stmt.columns().map((c) => c.name);
    const event = lineWriter(names, 'event'), wire = lineWriter(names, 'wire');
    assert.ok(rows.length >= 12);
    rows.forEach((row, i) => {
      assert.deepEqual(outcomeOf(() => event(raw[i]!)), outcomeOf(() => `${JSON.stringify(toAuditEvent(row))}\n`), `event ${row.seq}`);
      assert.deepEqual(outcomeOf(() => wire(raw[i]!)), outcomeOf(() => `${JSON.stringify(auditEventJson(toAuditEvent(row)))}\n`), `wire ${row.seq}`);
    });
  } finally { s.cleanup(); }
});
