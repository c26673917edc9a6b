// gmemd for the HTTP scenarios, as users run it: `npm start`'s command (package.json's node
// flags and the compiled bundle, start-command.ts) on a free loopback port, set up through
// its GMEMD_* variables alone. Not buildApp under tsx: tsx compiles the sources with
// esbuild's keepNames, so every closure the request path creates also calls `__name`
// (Object.defineProperty of its name), which the build does not; in a bind profile under
// tsx that was ~2.5% of the event loop. The figures are then those of the code `npm start` serves.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCH_AUTH, BENCH_TOKEN } from './gmemd-scenarios.js';
import { START_ENTRY, START_NODE_FLAGS } from './start-command.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ENTRY = join(ROOT, START_ENTRY);

export interface GmemdProcess { port: number; pid: number; backend: string; note: string; stop: () => Promise<void> }

const freePort = () => new Promise<number>((resolve, reject) => {
  const s = createServer().once('error', reject).listen(0, '127.0.0.1', () => {
    const { port } = s.address() as { port: number };
    s.close(() => resolve(port));
  });
});

/**
 * Starts gmemd on a ledger in `dir`; resolves once /readyz answers 200. `nodeFlags` go after
 * npm start's own (profile-http.ts adds --cpu-prof).
 */
export async function startGmemdProcess(dir: string, opts: { nodeFlags?: string[] } = {}): Promise<GmemdProcess> {
  if (!existsSync(ENTRY)) throw new Error(`${ENTRY} is missing: run npm run build (npm ci does)`);
  const port = await freePort();
  const env = {
    ...process.env,
    GMEMD_DB: join(dir, 'gmemd.db'), GMEMD_LISTEN: `127.0.0.1:${port}`, GMEMD_ADMIN_TOKEN: BENCH_TOKEN,
    // The bench loads the server far past any per-token budget and creates many objects: the
    // rate limiter is off and the VM, inode and memory quotas are raised, so it measures the
    // request path, not the limits.
    GMEMD_RATE_LIMIT_PER_MINUTE: '0', GMEMD_MAX_VMS: '1000000', GMEMD_MAX_INODES: '1000000', GMEMD_MEMORY_BUDGET_BYTES: String(2 ** 46),
    // Logging as a default start has it (pino at info, on stdout), so the requests pay for it as a real start's do.
    GMEMD_LOG_LEVEL: process.env.GMEMD_LOG_LEVEL || 'info', GMEMD_BACKEND: process.env.GMEMD_BACKEND || 'auto',
  };
  const child = spawn(process.execPath, [...START_NODE_FLAGS, ...(opts.nodeFlags ?? []), ENTRY], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`gmemd exited (${child.exitCode ?? child.signalCode}) before it was ready`);
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error('gmemd was not ready within 60 s'); }
    const r = await fetch(`${base}/readyz`).catch(() => null);
    if (r?.status === 200) break;
    await new Promise((res) => setTimeout(res, 20));
  }
  const host = await (await fetch(`${base}/v1/host`, { headers: BENCH_AUTH })).json() as { backend: string; backendNote: string };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM'); // graceful close, as a supervisor's stop
    await exited;
  };
  return { port, pid: child.pid!, backend: host.backend, note: host.backendNote, stop };
}
