// The files gmemd makes, on the compiled server: the ledger directory 0700, the database and
// its -wal/-shm and .lock 0600, admin.token 0600 (and its secret works), the Unix socket 0660 or
// GMEMD_SOCKET_MODE. A start with a test-only setting and no GMEMD_TEST_MODE=1, or plain
// HTTP off loopback, exits 2 with one line; TLS and GMEMD_INSECURE=1 start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openNativeHost } from '../../src/kvm/native/native-host.js';
import { httpJson, startServer } from '../support/server-process.js';
import { tempDir } from '../support/tmp.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SERVER = join(ROOT, 'dist/server.js');
const mode = (p: string) => (statSync(p).mode & 0o777).toString(8).padStart(4, '0');

const freePort = () => new Promise<number>((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => { const { port } = s.address() as { port: number }; s.close(() => resolve(port)); });
});

test('ledger 0700/0600, admin.token 0600 and usable, socket 0660 then GMEMD_SOCKET_MODE', async () => {
  assert.ok(existsSync(SERVER), 'npm run build first');
  const tmp = tempDir();
  try {
    const dir = join(tmp.dir, 'ledger');
    const socket = join(tmp.dir, 'gmemd.sock');
    // No GMEMD_ADMIN_TOKEN: the first start issues one into admin.token.
    const env = { GMEMD_DB: join(dir, 'gmemd.db'), GMEMD_LISTEN: `unix:${socket}`, GMEMD_BACKEND: 'simulated', GMEMD_ADMIN_TOKEN: '' };
    const s = await startServer(env, 60_000, SERVER);
    try {
      assert.match(s.output(), /issued an admin token/);
      const tokenFile = join(dir, 'admin.token');
      assert.ok(s.output().includes(tokenFile), 'the log names the file');
      const secret = readFileSync(tokenFile, 'utf8').trim();
      assert.ok(!s.output().includes(secret), 'the log does not show the secret');
      const vm = await httpJson(socket, 'POST', '/v1/vms', { name: 'modes' }, { authorization: `Bearer ${secret}` });
      assert.equal(vm.status, 201);
      assert.deepEqual({ dir: mode(dir), db: mode(env.GMEMD_DB), wal: mode(`${env.GMEMD_DB}-wal`), shm: mode(`${env.GMEMD_DB}-shm`),
        lock: mode(`${env.GMEMD_DB}.lock`), token: mode(tokenFile), socket: mode(socket) },
        { dir: '0700', db: '0600', wal: '0600', shm: '0600', lock: '0600', token: '0600', socket: '0660' });
    } finally { s.child.kill('SIGTERM'); await s.exited; }
    const again = await startServer({ ...env, GMEMD_SOCKET_MODE: '0600' }, 60_000, SERVER);
    try {
      assert.doesNotMatch(again.output(), /issued an admin token/, 'a live admin token exists: none issued');
      assert.equal(mode(socket), '0600');
    } finally { again.child.kill('SIGTERM'); await again.exited; }
  } finally { tmp.cleanup(); }
});

test('refused starts exit 2 with one line', () => {
  const tmp = tempDir();
  try {
    const base = { ...process.env, GMEMD_DB: join(tmp.dir, 'l.db'), GMEMD_BACKEND: 'simulated', GMEMD_TEST_MODE: '' };
    const cases: [Record<string, string>, RegExp][] = [
      [{ GMEMD_TEST_HOOKS: '1', GMEMD_LISTEN: `unix:${join(tmp.dir, 's')}` }, /GMEMD_TEST_HOOKS is test-only; refusing to start without GMEMD_TEST_MODE=1/],
      [{ GMEMD_TEST_CRASH_AT: 'vm.destroy:intent', GMEMD_LISTEN: `unix:${join(tmp.dir, 's')}` }, /GMEMD_TEST_CRASH_AT is test-only/],
      [{ GMEMD_LISTEN: '0.0.0.0:1' }, /not a loopback address: set GMEMD_TLS_CERT and GMEMD_TLS_KEY, or GMEMD_INSECURE=1/],
    ];
    // Only a host whose /dev/kvm cannot serve gmemd can show this refusal through the server
    // (it has no setting for another device); test/kvm/simulated-host.test.ts shows the
    // refusal itself on any host.
    const native = openNativeHost();
    if (native.ok) native.host.close(native.host.kvmFd);
    else cases.push([{ GMEMD_BACKEND: 'native', GMEMD_LISTEN: `unix:${join(tmp.dir, 's')}` }, /^gmemd: GMEMD_BACKEND=native but \/dev\/kvm is unusable: /]);
    for (const [extra, why] of cases) {
      const r = spawnSync(process.execPath, [SERVER], { env: { ...base, ...extra }, encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, why);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
    assert.ok(!existsSync(join(tmp.dir, 'l.db')), 'a refused start touches no ledger');
  } finally { tmp.cleanup(); }
});

test('off loopback: HTTPS with GMEMD_TLS_CERT/KEY; plain HTTP only with GMEMD_INSECURE=1, warned', async () => {
  const tmp = tempDir();
  try {
    const key = join(tmp.dir, 'key.pem'), cert = join(tmp.dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert,
      '-days', '1', '-subj', '/CN=gmemd-test'], { stdio: 'ignore' });
    const port = await freePort();
    const env = { GMEMD_DB: join(tmp.dir, 'l.db'), GMEMD_BACKEND: 'simulated', GMEMD_LISTEN: `0.0.0.0:${port}`, GMEMD_TLS_CERT: cert, GMEMD_TLS_KEY: key };
    const s = await startServer(env, 60_000, SERVER);
    try {
      const status = await new Promise<number>((resolve, reject) => {
        request({ host: '127.0.0.1', port, path: '/livez', ca: readFileSync(cert), checkServerIdentity: () => undefined }, (res) => { res.resume(); resolve(res.statusCode!); })
          .on('error', reject).end();
      });
      assert.equal(status, 200, 'served over TLS');
    } finally { s.child.kill('SIGTERM'); await s.exited; }
    const insecure = await startServer({ ...env, GMEMD_TLS_CERT: '', GMEMD_TLS_KEY: '', GMEMD_INSECURE: '1' }, 60_000, SERVER);
    try {
      assert.match(insecure.output(), /INSECURE: serving plain HTTP on non-loopback 0\.0\.0\.0/);
      const r = await fetch(`http://127.0.0.1:${port}/livez`);
      assert.equal(r.status, 200);
    } finally { insecure.child.kill('SIGTERM'); await insecure.exited; }
  } finally { tmp.cleanup(); }
});

