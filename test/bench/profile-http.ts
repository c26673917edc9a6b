// Where a request's time goes: runs gmemd as `npm start` does (gmemd-process.ts; run
// `npm run build` first) under node's --cpu-prof, drives one scenario with autocannon, and
// prints the heaviest functions. The profile covers the whole process, start-up included
// (~0.3 s, against the scenario's seconds); the names are the bundle's (dist/).
//   node --import tsx test/bench/profile-http.ts [inode|list|bind|mix] [seconds] [connections]
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLoad } from './load.js';
import { BENCH_AUTH, bindCycleRequests, mixRequests, setupBindTarget, setupInodeTarget, setupListTarget, setupMixTarget } from './gmemd-scenarios.js';
import { startGmemdProcess } from './gmemd-process.js';

const [what = 'inode', secs = '5', conns = '10'] = process.argv.slice(2);
const connections = Number(conns);
const dir = mkdtempSync(join(tmpdir(), 'gmemd-prof-'));
const served = await startGmemdProcess(dir, {
  nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-name=serve.cpuprofile', '--cpu-prof-interval=200'],
});
const base = `http://127.0.0.1:${served.port}`;
if (what === 'mix') {
  const r = await runLoad({ url: base, seconds: Number(secs), connections, requests: mixRequests(await setupMixTarget(base)).requests });
  console.log(`mix: ${Math.round(r.reqPerSec)} req/s, p50 ${r.latencyMs?.p50.toFixed(1)} p99 ${r.latencyMs?.p99.toFixed(1)} ms, non2xx ${r.non2xx}`);
} else if (what === 'bind') {
  // Lanes are returned by each cycle's DELETE; one pool serves the whole (single) run.
  const cycle = bindCycleRequests(await setupBindTarget(base));
  const r = await runLoad({ url: base, seconds: Number(secs), connections, requests: cycle.requests });
  const l = cycle.latency();
  console.log(`bind/unbind: ${Math.round(r.reqPerSec)} req/s, ${Math.round(cycle.count() / r.seconds)} cycles/s, cycle p50 ${l?.p50.toFixed(1)} p99 ${l?.p99.toFixed(1)} ms`);
} else {
  const path = what === 'list' ? await setupListTarget(base) : `/v1/inodes/${await setupInodeTarget(base)}`;
  await runLoad({ url: `${base}${path}`, seconds: 1, connections, headers: BENCH_AUTH });
  const r = await runLoad({ url: `${base}${path}`, seconds: Number(secs), connections, headers: BENCH_AUTH });
  console.log(`${path}: ${Math.round(r.reqPerSec)} req/s`);
}
await served.stop(); // a graceful exit, at which node writes the profile

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount: number; children?: number[] }
const prof = JSON.parse(readFileSync(join(dir, 'serve.cpuprofile'), 'utf8')) as { nodes: Node[] };
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const total = prof.nodes.reduce((s, n) => s + n.hitCount, 0);
const self = new Map<string, number>(), incl = new Map<string, number>();
const key = (n: Node) => `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.replace(/^.*node_modules\//, '').replace(/^.*\/(src|dist)\//, '$1/')}:${n.callFrame.lineNumber + 1}`;
for (const n of prof.nodes) {
  if (!n.hitCount) continue;
  self.set(key(n), (self.get(key(n)) ?? 0) + n.hitCount);
  const seen = new Set<string>();
  for (let id: number | undefined = n.id; id !== undefined; id = parent.get(id)) {
    const k = key(byId.get(id)!);
    if (!seen.has(k)) { seen.add(k); incl.set(k, (incl.get(k) ?? 0) + n.hitCount); }
  }
}
const top = (m: Map<string, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n)
  .map(([k, v]) => `${(100 * v / total).toFixed(1).padStart(5)}%  ${k}`).join('\n');
// Self time by module: which package or source file the time is spent in.
const byModule = new Map<string, number>();
for (const n of prof.nodes) {
  if (!n.hitCount) continue;
  const m = n.callFrame.url.replace(/^.*node_modules\/((@[^/]+\/)?[^/]+).*$/, '$1').replace(/^.*\/(src|dist)\//, '$1/') || `(native) ${n.callFrame.functionName}`;
  byModule.set(m, (byModule.get(m) ?? 0) + n.hitCount);
}
console.log(`self:\n${top(self, 30)}\n\nself by module:\n${top(byModule, 25)}\n\ninclusive:\n${top(incl, 60)}`);
