// The gmemd CLI against a real gmemd process (src/server.ts, simulated backend, TCP on
// loopback): each command as an operator runs it, through the installed bin for the exit
// codes, and in-process (the same main()) where only the output matters.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main, COMMANDS } from '../../src/cli.js';
import { createGmemdClient } from '../../src/cli/client.js';
import { startServer, type ServerProcess } from '../support/server-process.js';
import { tempDir } from '../support/tmp.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// The compiled bin, as npm installs it (npm test builds dist/ first).
const BIN = join(ROOT, 'dist/bin/gmemd.js');
const ADMIN = 'cli-test-admin-token-0123456789abcdef';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

/** The installed bin as a separate process (async: the server must keep answering meanwhile). */
function bin(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { PATH: process.env.PATH!, ...env } });
    let out = '', err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

let server: ServerProcess;
let url: string;
let env: Record<string, string>;
const tmp = tempDir();
const ids: Record<string, string> = {};

/** main() in this process with captured output. */
async function cli(args: string[], extraEnv: Record<string, string> = {}) {
  let out = '', err = '';
  const code = await main(args, { ...env, ...extraEnv }, { out: (s) => { out += s + '\n'; }, err: (s) => { err += s + '\n'; }, write: (s) => { out += s; } });
  return { code, out, err };
}

before(async () => {
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  server = await startServer({
    GMEMD_LISTEN: `127.0.0.1:${port}`, GMEMD_DB: join(tmp.dir, 'gmemd.db'), GMEMD_BACKEND: 'simulated',
    GMEMD_ADMIN_TOKEN: ADMIN, GMEMD_TEST_MODE: '1', GMEMD_TEST_HOOKS: '1',
  }, 60_000);
  env = { GMEMD_URL: url, GMEMD_TOKEN: ADMIN };
  const api = createGmemdClient({ url, token: ADMIN });
  for (const n of ['a', 'b']) ids[n] = (await api.POST('/v1/vms', { body: { name: `cli-${n}` } })).data!.id;
  const created = (await api.POST('/v1/inodes', { body: { ownerVmId: ids.a!, size: 2 * 1024 * 1024 } })).data!;
  ids.inode = created.inode.id;
  const share = (await api.POST('/v1/files/{fileId}/shares', { params: { path: { fileId: created.file.id } }, body: { vmId: ids.b!, permissions: ['read'] } })).data!;
  const slot = (await api.POST('/v1/files/{fileId}/bindings', { params: { path: { fileId: share.id } }, body: { gpa: 0x200000, offset: 0, size: 0x100000 } })).data!;
  ids.slot = String(slot.slot);
});
after(async () => {
  if (server && server.child.exitCode === null) { server.child.kill('SIGTERM'); await server.exited; }
  tmp.cleanup();
});

test('--help on every command, and the overview lists them all', async () => {
  const overview = await cli(['--help']);
  assert.equal(overview.code, 0);
  for (const c of COMMANDS) {
    assert.match(overview.out, new RegExp(`^  ${c.name} `, 'm'));
    const r = await cli([...c.name.split(' '), '--help']);
    assert.equal(r.code, 0, c.name);
    assert.match(r.out, new RegExp(`^usage: gmemd ${c.name}`), c.name);
    assert.match(r.out, /--json/);
  }
  for (const name of ['serve', 'status', 'vms list', 'inodes list', 'files list', 'bindings list', 'audit verify', 'audit export',
    'audit access', 'reconcile', 'token create', 'token list', 'token revoke', 'handover']) {
    assert.ok(COMMANDS.some((c) => c.name === name), `missing command ${name}`);
  }
});

test('status through the bin: exit 0, the backend and readiness; --json for scripts', async () => {
  const r = await bin(['status'], env);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /: ready\n/);
  assert.match(r.out, /^backend\s+simulated backend \(GMEMD_BACKEND=simulated\)$/m);
  const j = JSON.parse((await bin(['status', '--json', '--url', url, '--token', ADMIN], {})).out);
  assert.deepEqual([j.ready, j.backend, j.backendNote, j.ledger.vmsActive, j.ledger.inodesLive], [true, 'simulated', 'simulated backend (GMEMD_BACKEND=simulated)', 2, 1]);
});

test('lists: text tables, JSON, pages and --all', async () => {
  const vms = await cli(['vms', 'list']);
  assert.equal(vms.code, 0, vms.err);
  assert.match(vms.out, /^ID\s+NAME\s+STATE\s+CREATED$/m);
  assert.match(vms.out, new RegExp(`^${ids.a}\\s+cli-a\\s+active\\s`, 'm'));
  const page = await cli(['vms', 'list', '--limit', '1']);
  assert.match(page.out, /^next: \S+$/m);
  const all = JSON.parse((await cli(['vms', 'list', '--limit', '1', '--all', '--json'])).out);
  assert.deepEqual(all.items.map((v: { name: string }) => v.name), ['cli-a', 'cli-b']);
  assert.equal(all.nextCursor, null);
  const inodes = JSON.parse((await cli(['inodes', 'list', '--owner', ids.a!, '--json'])).out);
  assert.deepEqual(inodes.items.map((i: { id: string }) => i.id), [ids.inode]);
  const files = JSON.parse((await cli(['files', 'list', '--inode', ids.inode!, '--state', 'open', '--json'])).out);
  assert.deepEqual(files.items.map((f: { role: string }) => f.role).sort(), ['grantee', 'owner']);
  const slots = await cli(['bindings', 'list', '--vm', ids.b!]);
  assert.match(slots.out, /\bview\s+0x200000\s+1048576\s+true\s+active$/m);
});

test('audit verify, export and access', async () => {
  const verify = await bin(['audit', 'verify'], env);
  assert.equal(verify.code, 0, verify.err);
  assert.equal(JSON.parse(verify.out).ok, true);
  const exp = await cli(['audit', 'export', '--from-seq', '1', '--to-seq', '3']);
  assert.equal(exp.code, 0, exp.err);
  const lines = exp.out.trimEnd().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((e) => e.seq), [1, 2, 3]);
  const access = JSON.parse((await cli(['audit', 'access', '--inode', ids.inode!, '--json'])).out);
  assert.deepEqual(access.items.map((h: { vmId: string; role: string }) => `${h.vmId === ids.a ? 'a' : 'b'}:${h.role}`).sort(), ['a:owner', 'b:grantee']);
});

test('reconcile: 0 when ledger and kernel agree, 1 on drift, --repair makes them agree', async () => {
  assert.equal((await cli(['reconcile'])).code, 0);
  // Delete b's memslot behind gmemd's back (a test hook), so the ledger and the kernel differ.
  const api = createGmemdClient({ url, token: ADMIN });
  const hook = await fetch(`${url}/_test/kernel/delete-memslot`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` }, body: JSON.stringify({ vmId: ids.b, slot: Number(ids.slot) }) });
  assert.equal(hook.status, 200);
  const drift = await bin(['reconcile'], env);
  assert.equal(drift.code, 1, drift.out + drift.err);
  assert.match(drift.out, /^drift: [1-9]/m);
  const repaired = await cli(['reconcile', '--repair', '--json']);
  assert.equal(repaired.code, 0, repaired.out);
  assert.deepEqual(JSON.parse(repaired.out).remaining, []);
  assert.equal((await cli(['reconcile'])).code, 0);
  assert.ok((await api.GET('/v1/audit/events', { params: { query: { action: 'reconcile.repair' } } })).data!.items.length > 0);
});

test('exit codes: a refusal is 1 with the problem on stderr; usage and connection errors are 2', async () => {
  const refused = await bin(['audit', 'access', '--inode', 'ino_00000000000000000000000000'], env);
  assert.equal(refused.code, 1);
  assert.equal(JSON.parse(refused.err).status, 404);
  assert.equal((await bin(['vms', 'list', '--state', 'bogus'], env)).code, 2);
  assert.equal((await cli(['frobnicate'])).code, 2);
  assert.equal((await cli(['vms', 'list', 'extra'])).code, 2);
  assert.equal((await cli(['audit', 'access'])).code, 2, '--inode is required');
  const down = await bin(['status', '--url', `http://127.0.0.1:${await freePort()}`], {});
  assert.equal(down.code, 2);
  assert.match(down.err, /cannot reach gmemd: ECONNREFUSED/);
});

test('token create, list and revoke: the new secret works until it is revoked', async () => {
  const made = await cli(['token', 'create', '--name', 'cli-operator', '--role', 'operator', '--json']);
  assert.equal(made.code, 0, made.err);
  const tok = JSON.parse(made.out) as { id: string; name: string; role: string; token: string };
  assert.deepEqual([tok.name, tok.role], ['cli-operator', 'operator']);
  const listed = await cli(['token', 'list']);
  assert.match(listed.out, new RegExp(`^${tok.id}\\s+cli-operator\\s+operator\\s`, 'm'));
  assert.ok(!listed.out.includes(tok.token), 'a list never shows a secret');
  // The operator may read, and may not manage tokens.
  assert.equal((await cli(['vms', 'list'], { GMEMD_TOKEN: tok.token })).code, 0);
  const forbidden = await cli(['token', 'list'], { GMEMD_TOKEN: tok.token });
  assert.equal(forbidden.code, 1);
  assert.equal(JSON.parse(forbidden.err).status, 403);
  assert.equal((await cli(['token', 'revoke', tok.id])).code, 0);
  const after = await cli(['vms', 'list'], { GMEMD_TOKEN: tok.token });
  assert.equal(after.code, 1);
  assert.equal(JSON.parse(after.err).status, 401);
  assert.equal((await cli(['token', 'create', '--name', 'x', '--role', 'root'])).code, 2, 'an unknown role is a usage error');
});
