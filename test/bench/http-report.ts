// The section 2 table and its ratios. The ratios are the result; the absolute rates beside
// them only say how loaded the machine was during this run.
import type { HttpReport, ScenarioId, ScenarioResult } from './http-bench.js';
import { describeCpu } from './cpu-usage.js';
import { fmtInt, fmtMs, fmtRatio, indent, table } from './stats.js';

export interface HttpRatios {
  /** gmemd read vs hello-world: req/s ratio (issue 11: at least 0.5). */
  readVsHello: number;
  /** gmemd list of 100 inodes vs hello-world: req/s ratio (issue 11: at least 0.2). */
  listVsHello: number;
  /** bind/unbind cycles/s vs baseline fsync'd inserts/s. */
  cycleVsInsert: number;
  /** gmemd requests/s inside the cycle (each one durable transaction) vs baseline inserts/s. */
  cycleRequestsVsInsert: number;
  /** (f) mix mutations/s vs baseline inserts/s. */
  mixVsInsert: number;
  /** (g) the bare POST with group commit vs (b): what group commit alone gives here. */
  groupedVsInsert: number;
}

const byId = (r: HttpReport, id: ScenarioId): ScenarioResult | undefined => r.scenarios.find((s) => s.id === id);

export function httpRatios(r: HttpReport): HttpRatios {
  const rate = (id: ScenarioId) => byId(r, id)?.opsPerSec ?? NaN;
  const c = byId(r, 'c');
  return {
    readVsHello: rate('d') / rate('a'),
    listVsHello: rate('e') / rate('a'),
    cycleVsInsert: rate('c') / rate('b'),
    cycleRequestsVsInsert: (c?.load.reqPerSec ?? NaN) / rate('b'),
    mixVsInsert: rate('f') / rate('b'),
    groupedVsInsert: rate('g') / rate('b'),
  };
}

export function printHttp(r: HttpReport): void {
  const b = r.gmemdBackend;
  console.log(`   gmemd backend: ${b ? `${b.backend} (${b.note})` : 'unknown'}`);
  const rows = ['a', 'd', 'e', 'b', 'g', 'c', 'f'].map((id) => byId(r, id as ScenarioId)).filter((s): s is ScenarioResult => !!s).map((s) => [
    `(${s.id}) ${s.name}`,
    s.id === 'c' ? 'cycle' : 'request',
    fmtInt(s.opsPerSec),
    fmtMs(s.latencyMs?.p50),
    fmtMs(s.latencyMs?.p99),
    `${s.load.non2xx}/${s.load.errors}`,
  ]);
  console.log(indent(table(['scenario', 'op', 'ops/s', 'p50 ms', 'p99 ms', 'non2xx/err'], rows)));
  const c = byId(r, 'c');
  if (c) {
    console.log(`   (c) one op = ${c.op}; its p50/p99 are per cycle.`);
    console.log(`       2xx requests/s inside it: ${fmtInt(c.load.reqPerSec)}`
      + ` (per request p50 ${fmtMs(c.load.latencyMs?.p50)} / p99 ${fmtMs(c.load.latencyMs?.p99)} ms).`);
  }
  for (const s of r.scenarios) if (s.cpu) console.log(`   (${s.id}) CPU: ${describeCpu(s.cpu)}`);
  console.log('   latency: p50/p99 from per-response hrtime samples (autocannon\'s own histogram is 1 ms-grained; both are in the JSON).');
  const x = httpRatios(r);
  console.log('   ratios (same run):');
  console.log(`     (d)/(a) gmemd GET inode vs hello-world GET, req/s:          ${fmtRatio(x.readVsHello)}  (target >= 0.50)`);
  console.log(`     (e)/(a) gmemd list of 100 inodes vs hello-world GET, req/s: ${fmtRatio(x.listVsHello)}  (target >= 0.20)`);
  console.log(`     (c)/(b) bind/unbind cycles/s vs fsync'd INSERT req/s:       ${fmtRatio(x.cycleVsInsert)}`);
  console.log(`             (c) requests/s vs (b) req/s (1 durable txn each):  ${fmtRatio(x.cycleRequestsVsInsert)}`);
  console.log(`     (f)/(b) create-VM/inode/share/bind mix mutations/s vs INSERT:  ${fmtRatio(x.mixVsInsert)}`);
  console.log(`     (g)/(b) the bare POST with group commit vs (b), req/s:      ${fmtRatio(x.groupedVsInsert)}  (the most batching gives a bare POST here)`);
  console.log('     a cycle is 2 requests, each committing one WAL transaction (state row + audit event) with an fsync;');
  console.log('     (b) commits one per request; gmemd batches concurrent requests into one commit (group commit),');
  console.log('     so its durable mutations/s can exceed (b): the target is >= 2.00 for (c) requests and (f), p99 <= 10 ms.');
  const bad = r.scenarios.filter((s) => s.load.non2xx > 0 || s.load.errors > 0);
  if (bad.length) console.log(`   WARNING: non-2xx or errors in ${bad.map((s) => `(${s.id})`).join(' ')}: those rates are suspect.`);
}

