// Audit ledger benchmark: builds a ledger of --events (default 1,000,000) events across
// ~--vms (default 2,000) VMs and inodes through the real chain, repositories and checkpoints
// (real hashes, real access intervals, big transactions), then times the auditor's
// queries (--runs each, random inputs), a full verify and the NDJSON export, beside
// baselines measured in the same run: a bare SELECT of every event column (one thread) and
// that SELECT plus one SHA-256 per row over its stored text. Targets at 1M events: every
// query p99 <= 10 ms, verify <= 5 s, export <= 5 s.
//   npm run bench:audit -- [--events N] [--vms N] [--runs N] [--keep PATH]
// --keep PATH keeps the ledger there; when PATH already holds a ledger it is measured as is
// (no build), so the queries can be re-timed on a quieter machine.
import { existsSync, statSync } from 'node:fs';
import { hash } from 'node:crypto';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Store } from '../../src/store/store.js';
import { Checkpointer } from '../../src/store/audit/checkpoints.js';
import { AuditQueries } from '../../src/store/audit/audit-queries.js';
import { verifyLedger } from '../../src/store/audit/verify.js';
import { verifyLedgerParallel } from '../../src/store/audit/verify-parallel.js';
import { EVENT_COLUMNS } from '../../src/store/audit/event-rows.js';
import { tempDir } from '../support/tmp.js';
import { Clock, History } from '../support/ledger-history.js';
import { buildLedger, type Built } from './audit-ledger-builder.js';

const { values: opt } = parseArgs({ options: {
  events: { type: 'string', default: '1000000' }, vms: { type: 'string', default: '2000' },
  runs: { type: 'string', default: '2000' }, keep: { type: 'string' }, seed: { type: 'string', default: '42' },
} });
const EVENTS = Number(opt.events);
const RUNS = Number(opt.runs);
const KEY = 'bench-audit-key-0123456789abcdef';

const tmp = opt.keep ? null : tempDir('gmemd-audit-bench-');
const path = opt.keep ?? join(tmp!.dir, 'ledger.db');
const reuse = opt.keep !== undefined && existsSync(path);
const clock = new Clock();
const store = Store.open(path, clock.now);
Checkpointer.attach(store, { key: KEY, every: 1000 });

const t0 = performance.now();
let built: Built;
if (reuse) {
  const span = store.ledger.sqlite.prepare('SELECT min(time) AS lo, max(time) AS hi FROM events').get() as { lo: number; hi: number };
  built = { startTime: span.lo, transactions: 0 };
  clock.t = span.hi;
} else {
  built = buildLedger(new History(store), clock, { events: EVENTS, vms: Number(opt.vms), seed: Number(opt.seed) },
    (n) => process.stderr.write(`\r  built ${n.toLocaleString()} events`));
  process.stderr.write('\n');
}
const buildMs = performance.now() - t0;
store.ledger.sqlite.pragma('wal_checkpoint(TRUNCATE)');

const sqlite = store.ledger.sqlite;
const count = (sql: string) => sqlite.prepare(sql).pluck().get() as number;
const q = new AuditQueries(sqlite, { key: KEY });

// A deterministic generator so runs are comparable across machines.
let s = Number(opt.seed) >>> 0;
const rnd = () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32; };
const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;
const inodes = sqlite.prepare('SELECT id FROM inodes').pluck().all() as string[];
const vms = sqlite.prepare('SELECT id FROM vms').pluck().all() as string[];
const headSeq = store.chain.getHead().seq;
const tStart = built.startTime, tEnd = clock.t;
const anyTime = () => Math.floor(tStart + rnd() * (tEnd - tStart));

function must<T>(r: { ok: true; value: T } | { ok: false; error: unknown }): T {
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  return r.value;
}

interface Row { name: string; runs: number; p50: number; p99: number; max: number; note: string }
const rows: Row[] = [];

function measure(name: string, fn: () => number | void, runs = RUNS): void {
  for (let i = 0; i < Math.min(200, runs); i++) fn(); // warm caches and statement cache
  const ms: number[] = [];
  let items = 0;
  for (let i = 0; i < runs; i++) {
    const a = process.hrtime.bigint();
    items += fn() ?? 0;
    ms.push(Number(process.hrtime.bigint() - a) / 1e6);
  }
  ms.sort((x, y) => x - y);
  const pct = (p: number) => ms[Math.min(ms.length - 1, Math.ceil((p / 100) * ms.length) - 1)]!;
  rows.push({ name, runs, p50: pct(50), p99: pct(99), max: ms[ms.length - 1]!, note: `avg ${(items / runs).toFixed(1)} items` });
}

// The first time-filtered query of a process checks, once, that event times never decrease
// along the chain (time-bounds.ts); later ones only check new events.
const c0 = performance.now();
must(q.events({ since: anyTime(), limit: 50 }));
const firstTimeQueryMs = performance.now() - c0;

measure('access(inodeId, at)', () => must(q.access({ inodeId: pick(inodes), at: anyTime() })).items.length);
measure('access(inodeId, atSeq)', () => must(q.access({ inodeId: pick(inodes), atSeq: 1 + Math.floor(rnd() * headSeq) })).items.length);
measure('lineage(inodeId)', () => must(q.lineage(pick(inodes))).items.length);
measure('events vmId, limit 50', () => must(q.events({ vmId: pick(vms), limit: 50 })).items.length);
measure('events vmId, pages 1+2 of 50', () => {
  const vmId = pick(vms);
  const first = must(q.events({ vmId, limit: 50 }));
  return first.items.length + (first.nextCursor ? must(q.events({ vmId, limit: 50, cursor: first.nextCursor })).items.length : 0);
});
measure('events vmId, newest 50', () => must(q.events({ vmId: pick(vms), limit: 50, order: 'desc' })).items.length);
measure('events inodeId+action, limit 50', () => must(q.events({ inodeId: pick(inodes), action: 'binding.create', limit: 50 })).items.length);
measure('events outcome=denied, limit 50', () => must(q.events({ outcome: 'denied', limit: 50, cursor: Buffer.from(String(Math.floor(rnd() * headSeq))).toString('base64url') })).items.length);
measure('events action, limit 50', () => must(q.events({ action: 'file.share', limit: 50, cursor: Buffer.from(String(Math.floor(rnd() * headSeq))).toString('base64url') })).items.length);
measure('events 1-min window, limit 50', () => { const a = anyTime(); return must(q.events({ since: a, until: a + 60_000, limit: 50 })).items.length; });
measure('events since (open-ended), limit 50', () => must(q.events({ since: anyTime(), limit: 50 })).items.length);
measure('exposure, limit 50', () => must(q.exposure({ limit: 50 })).items.length, Math.min(RUNS, 200));

const load0 = loadavg()[0]!;
const secs = (fn: () => unknown): number => { const t = performance.now(); fn(); return (performance.now() - t) / 1000; };
const bareSelect = sqlite.prepare(`SELECT ${EVENT_COLUMNS} FROM events ORDER BY seq`).raw(true);
let bareRows = 0;
const selectS = secs(() => { for (const _ of bareSelect.iterate()) bareRows++; });
const shaS = secs(() => {
  for (const r of bareSelect.iterate() as Iterable<unknown[]>) {
    let text = '';
    for (const v of r) text += v === null ? '' : String(v);
    hash('sha256', text, 'hex');
  }
});
const v0 = performance.now();
const verified = await verifyLedgerParallel(sqlite, { key: KEY });
const verifyMs = performance.now() - v0;
let reference: ReturnType<typeof verifyLedger> | undefined;
const singleS = secs(() => { reference = verifyLedger(sqlite, { key: KEY }); });
const same = JSON.stringify(reference) === JSON.stringify(verified);
const e0 = performance.now();
let exported = 0, bytes = 0;
for await (const buf of q.exportChunks({}, 'wire')) {
  bytes += buf.length;
  for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) exported++;
}
const exportMs = performance.now() - e0;
const load1 = loadavg()[0]!;

const f = (n: number) => n.toFixed(3).padStart(9);
console.log(`\nledger: ${headSeq.toLocaleString()} events, ${count('SELECT count(*) FROM vms').toLocaleString()} VMs, ` +
  `${count('SELECT count(*) FROM inodes').toLocaleString()} inodes (${count(`SELECT count(*) FROM inodes WHERE state = 'live'`).toLocaleString()} live), ` +
  `${count('SELECT count(*) FROM files').toLocaleString()} files, ${count('SELECT count(*) FROM access_intervals').toLocaleString()} access intervals, ` +
  `${count('SELECT count(*) FROM checkpoints').toLocaleString()} checkpoints; db ${(statSync(path).size / 2 ** 20).toFixed(0)} MiB`);
console.log(reuse ? `build: reused the ledger at ${path}\n`
  : `build: ${(buildMs / 1000).toFixed(1)} s (${Math.round(headSeq / (buildMs / 1000)).toLocaleString()} events/s, ${built.transactions} transactions)\n`);
console.log('| query | runs | p50 ms | p99 ms | max ms | |');
console.log('|---|---:|---:|---:|---:|---|');
for (const r of rows) console.log(`| ${r.name} | ${r.runs} | ${f(r.p50)} | ${f(r.p99)} | ${f(r.max)} | ${r.note}${r.p99 >= 10 ? ' **p99 ≥ 10 ms**' : ''} |`);
console.log(`\nfirst time-filtered query of the process (one pass checking times are monotone): ${firstTimeQueryMs.toFixed(1)} ms`);
const ratio = (x: number) => `${(x / selectS).toFixed(2)}x the bare SELECT`;
console.log(`\nbaselines, same run, one thread: bare SELECT of every event column ${selectS.toFixed(2)} s (${bareRows.toLocaleString()} rows); ` +
  `SELECT + one SHA-256 per row over its stored text ${shaS.toFixed(2)} s (${ratio(shaS)})`);
console.log(`verify (whole chain + ${verified.checkpoints.count} checkpoint MACs, ${availableParallelism()} worker threads, as the CLI and the route run it): ` +
  `${(verifyMs / 1000).toFixed(2)} s = ${ratio(verifyMs / 1000)}, ${Math.round(verified.events / (verifyMs / 1000)).toLocaleString()} events/s, ok=${verified.ok}`);
console.log(`verify on one thread (verifyLedger, the reference): ${singleS.toFixed(2)} s = ${ratio(singleS)}; same result: ${same}`);
console.log(`export (NDJSON, wire form, whole chain, the bytes the HTTP route streams, ${availableParallelism()} worker threads): ${(exportMs / 1000).toFixed(2)} s = ${ratio(exportMs / 1000)}, ${exported.toLocaleString()} lines, ${(bytes / 2 ** 20).toFixed(0)} MiB`);
console.log(`machine: ${availableParallelism()} cores, load average ${load0.toFixed(1)} before the verify, ${load1.toFixed(1)} after the export`);

store.close();
tmp?.cleanup();
if (!verified.ok || !same) process.exitCode = 1;
