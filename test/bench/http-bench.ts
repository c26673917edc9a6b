// Section 2: HTTP on loopback. Each scenario gets a fresh server child and a fresh temp dir:
// gmemd as `npm start` runs it (gmemd-process.ts), the baselines from test/bench/http-server.ts;
// autocannon drives them from this process. Baselines and the gmemd
// scenarios they are compared with run back to back so slow drift on a shared 2-core machine
// lands on both sides of a ratio: the reads (a),(d),(e) run interleaved in short rounds
// against two servers up at once, then (b),(c).
import { fork } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BaselineKind, ServerReady } from './http-server.js';
import { runLoad, type LoadOptions, type LoadResult } from './load.js';
import { BENCH_AUTH, bindCycleRequests, mixRequests, setupBindTarget, setupInodeTarget, setupListTarget, setupMixTarget, unbindAll } from './gmemd-scenarios.js';
import { startGmemdProcess } from './gmemd-process.js';
import { cpuMeter, type CpuUsage } from './cpu-usage.js';

const SERVER = fileURLToPath(new URL('./http-server.ts', import.meta.url));

export type ScenarioId = 'a' | 'b' | 'c' | 'd' | 'e' | 'f' | 'g';
export interface ScenarioResult {
  id: ScenarioId;
  name: string;
  /** What one counted op is. */
  op: string;
  opsPerSec: number;
  latencyMs: { p50: number; p99: number } | null;
  load: LoadResult;
  /** Cores busy during the measured run (the write scenarios, each against one server). */
  cpu?: CpuUsage;
}
export interface HttpReport {
  seconds: number;
  warmupSeconds: number;
  connections: number;
  gmemdBackend: { backend: string; note: string } | null;
  scenarios: ScenarioResult[];
}

type ServerKind = BaselineKind | 'gmemd';
/** `gmemd`: the backend gmemd chose and why (GET /v1/host), for the report. */
interface Server { base: string; pid: number; gmemd?: { backend: string; note: string }; stop: () => Promise<void> }

async function startServer(kind: ServerKind, tmpRoot: string): Promise<Server> {
  const dir = mkdtempSync(join(tmpRoot, `${kind}-`));
  if (kind === 'gmemd') {
    const g = await startGmemdProcess(dir);
    return { base: `http://127.0.0.1:${g.port}`, pid: g.pid, gmemd: { backend: g.backend, note: g.note }, stop: g.stop };
  }
  const child = fork(SERVER, [kind, dir], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = await new Promise<ServerReady>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${kind} server did not report a port within 60 s`)), 60_000);
    child.once('message', (m) => { clearTimeout(timer); resolve(m as ServerReady); });
    child.once('exit', (code, sig) => { clearTimeout(timer); reject(new Error(`${kind} server exited (${code ?? sig}) before listening`)); });
  });
  const stop = () => new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM'); // this child only, by its own handle
  });
  return { base: `http://127.0.0.1:${ready.port}`, pid: child.pid!, stop };
}

export async function benchHttp(o: { seconds: number; warmupSeconds: number; connections: number; tmpDir: string }):
  Promise<HttpReport> {
  const { seconds, warmupSeconds, connections } = o;
  const results: ScenarioResult[] = [];
  let gmemdBackend: HttpReport['gmemdBackend'] = null;
  /** A measured run against one server, with the cores it and this process used meanwhile. */
  const measured = async (pid: number, opts: LoadOptions) => {
    const stop = cpuMeter(pid);
    const r = await runLoad(opts);
    return Object.assign(r, { cpu: stop() });
  };
  const load = async (s: Server, url: string, extra: Partial<LoadOptions> = {}) => {
    // The warm-up (JIT, statement caches, page cache) is measured by nobody.
    if (warmupSeconds > 0) await runLoad({ url, seconds: warmupSeconds, connections, ...extra });
    return measured(s.pid, { url, seconds, connections, ...extra });
  };
  const withServer = async <T>(kind: ServerKind, body: (s: Server) => Promise<T>): Promise<T> => {
    const s = await startServer(kind, o.tmpDir);
    if (s.gmemd) gmemdBackend = s.gmemd;
    try { return await body(s); } finally { await s.stop(); }
  };
  const record = (id: ScenarioId, name: string, op: string, r: LoadResult & { cpu?: CpuUsage }, opsPerSec = r.reqPerSec,
    latencyMs = r.latencyMs) => {
    const { cpu, ...load } = r;
    results.push({ id, name, op, opsPerSec, latencyMs, load, ...(cpu ? { cpu } : {}) });
    console.log(`   done (${id}) ${name}`);
  };

  await withServer('hello', (h) => withServer('gmemd', async (g) => {
    const reads = [
      { id: 'a' as const, name: 'bare Fastify GET /hello', url: `${h.base}/hello` },
      { id: 'd' as const, name: 'gmemd GET /v1/inodes/{id}', url: `${g.base}/v1/inodes/${await setupInodeTarget(g.base)}` },
      { id: 'e' as const, name: 'gmemd GET /v1/inodes?limit=100', url: `${g.base}${await setupListTarget(g.base)}` },
    ];
    if (warmupSeconds > 0) for (const r of reads) await runLoad({ url: r.url, seconds: warmupSeconds, connections, headers: BENCH_AUTH });
    const rounds = Math.max(1, Math.round(seconds / 2));
    const runs = reads.map(() => [] as LoadResult[]);
    for (let i = 0; i < rounds; i++) {
      for (const [k, r] of reads.entries()) runs[k]!.push(await runLoad({ url: r.url, seconds: seconds / rounds, connections, headers: BENCH_AUTH }));
    }
    for (const [k, r] of reads.entries()) {
      const all = runs[k]!;
      const rate = all.reduce((n, x) => n + x.ok2xx, 0) / all.reduce((n, x) => n + x.seconds, 0);
      // Latency of the median round; the rounds' totals give the rate.
      const median = [...all].sort((x, y) => x.reqPerSec - y.reqPerSec)[Math.floor(all.length / 2)]!;
      record(r.id, r.name, '1 request', { ...median, non2xx: all.reduce((n, x) => n + x.non2xx, 0), errors: all.reduce((n, x) => n + x.errors, 0) }, rate);
    }
  }));
  await withServer('insert', async (s) => {
    const body = JSON.stringify({ name: 'widget', qty: 3 });
    record('b', 'bare Fastify POST, 1 INSERT (WAL, sync=FULL)', '1 request', await load(s, `${s.base}/items`, { method: 'POST', body }));
  });
  await withServer('grouped', async (s) => {
    const body = JSON.stringify({ name: 'widget', qty: 3 });
    record('g', 'bare Fastify POST, 1 INSERT, group commit', '1 request', await load(s, `${s.base}/items`, { method: 'POST', body }));
  });
  await withServer('gmemd', async (s) => {
    const fileId = await setupBindTarget(s.base);
    // A fresh lane pool per run; leftovers of the warm-up (a POST whose DELETE was cut off
    // when autocannon stopped) are deleted before the measured run.
    let cycle = bindCycleRequests(fileId);
    const url = s.base;
    if (warmupSeconds > 0) {
      await runLoad({ url, seconds: warmupSeconds, connections, requests: cycle.requests });
      await unbindAll(s.base, fileId);
      cycle = bindCycleRequests(fileId);
    }
    const r = await measured(s.pid, { url, seconds, connections, requests: cycle.requests });
    record('c', 'gmemd bind/unbind cycle', '1 cycle = POST /v1/files/{id}/bindings + DELETE /v1/bindings/{id}',
      r, cycle.count() / r.seconds, cycle.latency());
  });
  await withServer('gmemd', async (s) => {
    const grantee = await setupMixTarget(s.base);
    const mix = mixRequests(grantee);
    const url = s.base;
    if (warmupSeconds > 0) await runLoad({ url, seconds: warmupSeconds, connections, requests: mix.requests });
    const r = await measured(s.pid, { url, seconds, connections, requests: mix.requests });
    record('f', 'gmemd create-VM/create-inode/share/bind mix', '1 request = 1 durable mutation', r);
  });
  return { seconds, warmupSeconds, connections, gmemdBackend, scenarios: results };
}
