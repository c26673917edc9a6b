// gmemd as a child process (the real src/server.ts) on a Unix socket, for tests that kill
// and restart it. Requests go over the socket with node:http. Start-up (tsx compiling the
// sources) takes 15-30 s on this shared 2-core machine under load: hence the generous timeout.
// The server runs with GMEMD_ADMIN_TOKEN = TEST_ADMIN_TOKEN unless the test sets its own, and
// httpJson sends that token unless the test passes an Authorization header. A test that uses a
// test-only setting (GMEMD_TEST_HOOKS, GMEMD_TEST_CRASH_AT) gets GMEMD_TEST_MODE=1 with it.
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { TEST_ONLY_SETTINGS } from '../../src/config.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The admin secret every server started here accepts (unless its env names another). */
export const TEST_ADMIN_TOKEN = 'gmemd_test_admin_token_0123456789abcdef';

export interface ServerProcess { child: ChildProcess; socket: string; output: () => string; exited: Promise<number | null> }

/** `entry`: the sources through tsx by default, or a compiled entry such as dist/server.js. */
export async function startServer(env: Record<string, string>, timeoutMs = 60_000, entry?: string): Promise<ServerProcess> {
  const socket = env.GMEMD_LISTEN!.replace(/^unix:/, '');
  const child = spawn(process.execPath, entry ? [entry] : ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT, env: { ...process.env, GMEMD_LOG_LEVEL: 'info', GMEMD_ADMIN_TOKEN: TEST_ADMIN_TOKEN, ...testMode(env), ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { out += d; });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + timeoutMs;
  while (!out.includes('gmemd listening')) {
    if (child.exitCode !== null) throw new Error(`gmemd exited early (${child.exitCode}):\n${out}`);
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error(`gmemd did not start:\n${out}`); }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, socket, output: () => out, exited };
}

const testMode = (env: Record<string, string>) => (TEST_ONLY_SETTINGS.some((k) => env[k]) ? { GMEMD_TEST_MODE: '1' } : {});

export function httpJson(socket: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}):
  Promise<{ status: number; json: any; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    // agent: false, a fresh connection per request, as a client arriving at any moment would
    // open; a kept-alive socket to a process being killed or replaced would muddle that.
    const req = request({ socketPath: socket, method, path, agent: false, headers: {
      authorization: `Bearer ${TEST_ADMIN_TOKEN}`,
      ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}), ...headers,
    } }, (res) => {
      let data = '';
      res.on('data', (d) => { data += d; });
      res.on('end', () => resolve({ status: res.statusCode!, json: data ? JSON.parse(data) : undefined, headers: res.headers }));
    });
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}
