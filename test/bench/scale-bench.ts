// `npm run bench:scale` (also run by `npm run bench`): the compiled service as `npm start`
// runs it (its command in package.json, start-command.ts), at scale. Start to /readyz on an
// empty ledger beside a bare Fastify process's start to its first answer and a bare node
// process's start to listening (the baselines of the same run); then VMS VMs, INODES
// shareable inodes and as many bindings built through HTTP; resident memory (and JS heap)
// with all of them live; POST /v1/reconcile; GET /v1/host/scan; then SIGKILL and restarts
// that must mark them all lost (LOST_STARTS of them, each on its own copy of the crashed
// ledger; the median is reported). Each kind of start is repeated once, untimed, at log
// level info to print where its time went (the `startupMs` phases of the listening line:
// module loading, ledger open, start-up reconcile, app build). The timed starts log at warn:
// request logging would load the build. The empty start is timed once more first, with
// Node's compile cache off (src/start.ts): it compiles, as the first start after a build
// does, which also writes the cache. Env: BENCH_SCALE_VMS (10), BENCH_SCALE_INODES (10000),
// BENCH_SCALE_CLIENTS (16), BENCH_SCALE_LOST_STARTS (3), GMEMD_BACKEND (auto).
// Prints a table; JSON on the last line.
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCH_AUTH, BENCH_TOKEN } from './gmemd-scenarios.js';
import { warnOtherHolders } from './other-holders.js';
import { median } from './stats.js';
import { START_ENTRY, START_NODE_FLAGS } from './start-command.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SERVER = join(ROOT, START_ENTRY);
// As `npm start` runs it: the same node flags before the entry.
const GMEMD_ARGV = [...START_NODE_FLAGS, SERVER];
const num = (name: string, d: number) => Number(process.env[name] || d);
const VMS = num('BENCH_SCALE_VMS', 10), INODES = num('BENCH_SCALE_INODES', 10_000), CLIENTS = num('BENCH_SCALE_CLIENTS', 16);
const MiB = 1024 * 1024;
const LOST_STARTS = Math.max(1, num('BENCH_SCALE_LOST_STARTS', 3));
const TARGETS = { startEmptyMs: 1000, startLostMs: 1000, rssLiveMiB: 150, reconcileMs: 1000, scanMs: 500 };

if (!existsSync(SERVER)) throw new Error(`${SERVER} is missing: run npm run build (npm ci does)`);
// Before anything of this bench's own runs: what else on the host holds KVM objects.
const otherHolders = warnOtherHolders('scale bench, before it starts');
const dir = mkdtempSync(join(tmpdir(), 'gmemd-scale-'));
const socket = join(dir, 'gmemd.sock');
const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });

function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request({ socketPath: socket, method, path, agent, headers: { ...BENCH_AUTH, ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}) } }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { data += d; });
      res.on('end', () => resolve({ status: res.statusCode!, json: data ? JSON.parse(data) : undefined, ms: performance.now() - t0 }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}
async function must(method: string, path: string, body?: unknown) {
  const r = await call(method, path, body);
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.json)}`);
  return r;
}

const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

/** Spawns argv and polls until `ready` answers 200; the time runs from the spawn. */
async function startTimed(argv: string[], env: Record<string, string>, path: string): Promise<{ child: ChildProcess; ms: number }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, argv, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${argv.join(' ')} exited ${child.exitCode}`);
    const r = await call('GET', path).catch(() => null);
    if (r?.status === 200) return { child, ms: performance.now() - t0 };
    await new Promise((res) => setTimeout(res, 5));
  }
}
/** Where the starts keep compiled code (src/start.ts), from a start's log. */
let compileCache = 'unknown';
/** The `startupMs` phases a gmemd start logs with its listening line (level info). */
async function startPhases(db: string): Promise<Record<string, number>> {
  const child = spawn(process.execPath, GMEMD_ARGV, { cwd: ROOT, env: { ...process.env, ...env, GMEMD_DB: db, GMEMD_LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'inherit'] });
  let buf = '';
  const line = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      buf += d;
      const l = buf.split('\n').find((x) => x.includes('"gmemd listening"'));
      if (l) resolve(l);
    });
    child.once('exit', (code) => reject(new Error(`gmemd exited ${code} before listening`)));
  });
  await stop(child, 'SIGTERM');
  const starting = buf.split('\n').find((x) => x.includes('"gmemd starting"'));
  if (starting) compileCache = (JSON.parse(starting) as { compileCache?: string | null }).compileCache ?? 'off (this Node has none)';
  return (JSON.parse(line) as { startupMs: Record<string, number> }).startupMs;
}
const heapMiB = async () => Number(/^gmemd_nodejs_heap_size_used_bytes (\S+)$/m.exec((await callText('/metrics')))![1]) / MiB;
function callText(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    request({ socketPath: socket, path, agent, headers: BENCH_AUTH }, (res) => {
      let d = ''; res.setEncoding('utf8'); res.on('data', (c) => { d += c; }); res.on('end', () => resolve(d));
    }).on('error', reject).end();
  });
}

const stop = (child: ChildProcess, signal: NodeJS.Signals) => new Promise<void>((resolve) => {
  if (child.exitCode !== null || child.signalCode !== null) return resolve();
  child.once('exit', () => resolve());
  child.kill(signal); // this child only, by its handle
});

const BARE = `const app = require('fastify')(); app.get('/hello', async () => ({ hello: 'world' }));
app.listen({ path: process.env.SOCK }).catch((e) => { console.error(e); process.exit(1); });`;
const BARE_NODE = `require('node:http').createServer((q, s) => s.end('{}')).listen(process.env.SOCK);`;
const env = { GMEMD_DB: join(dir, 'ledger.db'), GMEMD_LISTEN: `unix:${socket}`, GMEMD_LOG_LEVEL: 'warn', GMEMD_BACKEND: process.env.GMEMD_BACKEND || 'auto', GMEMD_ADMIN_TOKEN: BENCH_TOKEN,
  // The bench measures throughput at scale, not the limits: no rate limit, and quotas that fit INODES inodes of 2 MiB.
  GMEMD_RATE_LIMIT_PER_MINUTE: '0', GMEMD_MAX_INODES: String(INODES + 1), GMEMD_MEMORY_BUDGET_BYTES: String((INODES + 1) * 2 * MiB) };
const out: Record<string, number> = {};
try {
  const bare = await startTimed(['-e', BARE], { SOCK: socket }, '/hello');
  out.bareStartMs = bare.ms;
  await stop(bare.child, 'SIGTERM');
  agent.destroy();
  rmSync(socket, { force: true });
  const node = await startTimed(['-e', BARE_NODE], { SOCK: socket }, '/');
  out.bareNodeStartMs = node.ms;
  await stop(node.child, 'SIGTERM');
  agent.destroy();
  rmSync(socket, { force: true });
  // Node's compile cache (src/start.ts) off: a start that compiles the bundle.
  const cold = await startTimed(GMEMD_ARGV, { ...env, GMEMD_DB: join(dir, 'cold.db'), NODE_DISABLE_COMPILE_CACHE: '1' }, '/readyz');
  out.startEmptyNoCompileCacheMs = cold.ms;
  await stop(cold.child, 'SIGTERM');
  agent.destroy();
  rmSync(socket, { force: true });
  const emptyPhases = await startPhases(join(dir, 'phases-empty.db'));
  rmSync(socket, { force: true });

  let g = await startTimed(GMEMD_ARGV, env, '/readyz');
  out.startEmptyMs = g.ms;
  out.rssEmptyMiB = rssMiB(g.child.pid!);
  out.heapEmptyMiB = await heapMiB();
  const host = (await must('GET', '/v1/host')).json;

  const t0 = performance.now();
  const vms: string[] = [];
  for (let v = 0; v < VMS; v++) vms.push((await must('POST', '/v1/vms', { name: `scale-${v}` })).json.id);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < INODES; i = next++) {
      const vm = vms[i % VMS]!;
      const c = (await must('POST', '/v1/inodes', { ownerVmId: vm, size: 2 * MiB, shareable: true })).json;
      await must('POST', `/v1/files/${c.file.id}/bindings`, { gpa: Math.floor(i / VMS) * 2 * MiB, offset: 0, size: 2 * MiB });
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, worker));
  out.buildSeconds = (performance.now() - t0) / 1000;
  out.mutationsPerSec = (2 * INODES + VMS) / out.buildSeconds;
  out.rssLiveMiB = rssMiB(g.child.pid!);
  out.heapLiveMiB = await heapMiB();
  out.readyzLiveMs = (await must('GET', '/readyz')).ms;
  // The least a scan of gmemd's fds can cost: listing them and reading each link, from here.
  const t1 = performance.now();
  const fds = readdirSync(`/proc/${g.child.pid}/fd`);
  for (const fd of fds) { try { readlinkSync(`/proc/${g.child.pid}/fd/${fd}`); } catch { /* closed meanwhile */ } }
  out.readlinkAllMs = performance.now() - t1;
  out.fdsLive = fds.length;
  out.reconcileMs = (await must('POST', '/v1/reconcile', {})).ms;
  const scan = await must('GET', '/v1/host/scan');
  out.scanMs = scan.ms;
  out.scanKiB = Buffer.byteLength(JSON.stringify(scan.json)) / 1024;

  await stop(g.child, 'SIGKILL');
  agent.destroy();
  // Copies of the crashed ledger: for the untimed restart that reports its phases, and for
  // the timed restarts after the first. Starts on copies of one crashed ledger ranged over
  // 500 ms on this 2-core machine, so the figure is the median of LOST_STARTS, with the range.
  const crashed = (name: string) => join(dir, `${name}.db`);
  const copies = ['phases-lost', ...Array.from({ length: LOST_STARTS - 1 }, (_, i) => `lost-${i + 1}`)];
  const copyLedger = (to: string) => { for (const f of ['', '-wal', '-shm']) if (existsSync(env.GMEMD_DB + f)) copyFileSync(env.GMEMD_DB + f, to + f); };
  for (const name of copies) copyLedger(crashed(name));
  // BENCH_SCALE_KEEP_CRASHED=path: a copy of the crashed ledger stays there, to profile its restart.
  if (process.env.BENCH_SCALE_KEEP_CRASHED) copyLedger(process.env.BENCH_SCALE_KEEP_CRASHED);
  const lostStarts: number[] = [];
  for (const db of [env.GMEMD_DB, ...copies.slice(1).map(crashed)]) {
    g = await startTimed(GMEMD_ARGV, { ...env, GMEMD_DB: db }, '/readyz');
    lostStarts.push(g.ms);
    const lost = (await must('GET', '/v1/host')).json.reconcile?.lost;
    if (db === env.GMEMD_DB) {
      out.rssAfterLostMiB = rssMiB(g.child.pid!);
      out.lostInodes = lost?.inodes?.length ?? NaN;
    } else if ((lost?.inodes?.length ?? NaN) !== out.lostInodes) throw new Error(`a restart on a copy marked ${lost?.inodes?.length} inodes lost, the first ${out.lostInodes}`);
    await stop(g.child, 'SIGTERM');
    agent.destroy();
    rmSync(socket, { force: true });
  }
  out.startLostMs = median(lostStarts);
  out.startLostMinMs = Math.min(...lostStarts);
  out.startLostMaxMs = Math.max(...lostStarts);
  const lostPhases = await startPhases(crashed('phases-lost'));

  const f = (n: number, d = 0) => n.toFixed(d);
  const row = (what: string, v: string, target: string) => console.log(`   ${what.padEnd(52)} ${v.padStart(10)}   ${target}`);
  console.log(`== scale: ${VMS} VMs, ${INODES} shareable inodes, ${INODES} bindings, ${CLIENTS} clients, backend ${host.backend}, node ${GMEMD_ARGV.map((a) => a.replace(ROOT, '')).join(' ')} ==`);
  if (otherHolders.length) console.log(`   WARNING: ${otherHolders.length} other process(es) held KVM objects when this bench started (listed above): the scan and restart figures include their fds and mappings`);
  const phases = (p: Record<string, number>) => `modules ${p.modules}, ledger +${p.ledger! - p.modules!}, reconcile +${p.reconcile! - p.ledger!}, app +${p.app! - p.reconcile!}, listening +${p.listening! - p.app!} ms`;
  row('(baseline) bare node process: start to listening', `${f(out.bareNodeStartMs)} ms`, '');
  row('(baseline) bare Fastify process: start to first answer', `${f(out.bareStartMs)} ms`, '');
  row('gmemd start to /readyz, empty ledger', `${f(out.startEmptyMs)} ms`, `target <= ${TARGETS.startEmptyMs} ms; ${f(out.startEmptyMs / out.bareStartMs, 2)}x baseline`);
  row('  where it went (untimed rerun, ms since process start)', '', phases(emptyPhases));
  row('  the same without the compile cache (NODE_DISABLE_COMPILE_CACHE=1)', `${f(out.startEmptyNoCompileCacheMs)} ms`, `compile cache: ${compileCache}`);
  row('RSS, empty', `${f(out.rssEmptyMiB)} MiB`, `JS heap used ${f(out.heapEmptyMiB)} MiB`);
  row(`build through HTTP (${2 * INODES + VMS} durable mutations)`, `${f(out.buildSeconds, 1)} s`, `${f(out.mutationsPerSec)} mutations/s`);
  row(`RSS with all ${INODES} live`, `${f(out.rssLiveMiB)} MiB`, `target <= ${TARGETS.rssLiveMiB} MiB; ${f(out.rssLiveMiB / out.rssEmptyMiB, 2)}x empty; JS heap used ${f(out.heapLiveMiB)} MiB`);
  row('(baseline) GET /readyz with all live', `${f(out.readyzLiveMs, 1)} ms`, '');
  row(`(baseline) readlink of gmemd's ${out.fdsLive} fds, from the bench`, `${f(out.readlinkAllMs)} ms`, '');
  row('POST /v1/reconcile', `${f(out.reconcileMs)} ms`, `target <= ${TARGETS.reconcileMs} ms; ${f(out.reconcileMs / out.readlinkAllMs, 1)}x the readlink baseline`);
  row('GET /v1/host/scan', `${f(out.scanMs)} ms`, `target <= ${TARGETS.scanMs} ms; ${f(out.scanMs / out.readlinkAllMs, 1)}x the readlink baseline (${f(out.scanKiB)} KiB)`);
  row(`restart after SIGKILL, ${out.lostInodes} inodes marked lost`, `${f(out.startLostMs)} ms`, `target <= ${TARGETS.startLostMs} ms; ${f(out.startLostMs / out.bareStartMs, 2)}x baseline; median of ${LOST_STARTS}, range ${f(out.startLostMinMs)}-${f(out.startLostMaxMs)} ms; RSS ${f(out.rssAfterLostMiB)} MiB`);
  row('  where it went (untimed rerun on a copy, ms)', '', phases(lostPhases));
  console.log(JSON.stringify({ scale: { vms: VMS, inodes: INODES, clients: CLIENTS, backend: host.backend, otherHolders, ...out, emptyPhases, lostPhases, targets: TARGETS } }));
} finally {
  agent.destroy();
  rmSync(dir, { recursive: true, force: true });
}
