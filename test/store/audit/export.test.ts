import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import canonicalize from 'canonicalize';
import { AuditQueries } from '../../../src/store/audit/audit-queries.js';
import type { AuditEvent } from '../../../src/store/audit/event-rows.js';
import type { ExportRange } from '../../../src/store/audit/queries/export.js';
import { canonicalEvent, chainHash, GENESIS_HASH } from '../../../src/store/audit-chain.js';
import { buildScenario, type Scenario } from '../../support/audit-scenario.js';

describe('audit NDJSON export', () => {
  let s: Scenario;
  let q: AuditQueries;
  before(() => { s = buildScenario(); q = new AuditQueries(s.store.ledger.sqlite); });
  after(() => s.cleanup());

  const collect = async (range: ExportRange): Promise<AuditEvent[]> => {
    const out: AuditEvent[] = [];
    for await (const line of q.exportLines(range)) {
      assert.ok(line.endsWith('\n') && !line.slice(0, -1).includes('\n'));
      out.push(JSON.parse(line) as AuditEvent);
    }
    return out;
  };

  test('the whole chain, re-verifiable from the export alone', async () => {
    const events = await collect({ chunk: 4 });
    assert.deepEqual(events.map((e) => e.seq), Array.from({ length: 19 }, (_, i) => i + 1));
    let prev = GENESIS_HASH;
    for (const e of events) {
      assert.equal(e.prevHash, prev);
      assert.equal(chainHash(prev, canonicalEvent({ ...e, details: canonicalize(e.details)! })), e.hash);
      prev = e.hash;
    }
  });

  test('seq and time ranges (seq inclusive; since inclusive, until exclusive)', async () => {
    assert.deepEqual((await collect({ fromSeq: 5, toSeq: 8, chunk: 2 })).map((e) => e.seq), [5, 6, 7, 8]);
    assert.deepEqual((await collect({ since: s.t.revokeB, until: s.t.migrateE, chunk: 1 })).map((e) => e.seq), [12, 13, 14]);
    assert.deepEqual((await collect({ since: s.clock.t + 1 })).length, 0);
    assert.deepEqual((await collect({ fromSeq: 18, toSeq: 1000 })).map((e) => e.seq), [18, 19]);
  });

  test('the stream form yields the same bytes', async () => {
    let text = '';
    for await (const chunk of q.exportStream({ chunk: 3 })) text += chunk.toString();
    let expected = '';
    for await (const line of q.exportLines({})) expected += line;
    assert.equal(text, expected);
  });

  test('writes go through while an export is paused mid-way, and the export stops at the head it started with', async () => {
    const it = q.exportLines({ chunk: 2 });
    const first = await it.next();
    assert.equal(JSON.parse(first.value as string).seq, 1);
    const vm = s.h.vm('written-during-export'); // would throw "connection is busy" if a statement were open
    let n = 1;
    for await (const line of { [Symbol.asyncIterator]: () => it }) { n++; void line; }
    assert.equal(n, 19);
    assert.ok(s.store.vms.get(vm.id));
  });

  test('worker threads give the same bytes, for whole, seq and time ranges, and stop when the reader stops', async () => {
    const bytes = async (it: AsyncIterable<Buffer>) => { const parts: Buffer[] = []; for await (const b of it) parts.push(b); return Buffer.concat(parts).toString(); };
    for (const range of [{}, { fromSeq: 3, toSeq: 17 }, { since: s.t.revokeB, until: s.t.migrateE }]) {
      // Slices of 2 seqs over 3 workers: every worker writes several, out of order with the reader.
      const viaWorkers = await bytes(q.exportChunks({ ...range, chunk: 2 }, 'wire', { threads: 3, workersFrom: 0 }));
      const here = await bytes(q.exportChunks(range, 'wire', { threads: 0 }));
      assert.equal(viaWorkers, here, JSON.stringify(range));
      assert.ok(here.length > 0);
    }
    let first = '';
    for await (const b of q.exportChunks({ chunk: 1 }, 'event', { threads: 2, workersFrom: 0 })) { first = b.toString(); break; }
    assert.equal(JSON.parse(first).seq, 1);
  });
});
