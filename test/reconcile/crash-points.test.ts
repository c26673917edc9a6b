// Crash safety at every step: for each named crash point (one list, CRASH_POINTS), the real
// server runs with GMEMD_TEST_CRASH_AT set to it, performs the operation that reaches it, and
// dies by SIGKILL there. The next start on the same database must leave the ledger
// consistent (ledger-invariants.ts), with no intent open, exactly one reconcile.intent event
// per intent the crash left open and one reconcile.lost event per object it no longer holds,
// all listed in GET /v1/host. To keep the run short each restart is the next point's crash
// run: it is checked first, then drives its own scenario to its own crash.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CRASH_POINTS, type CrashOperation, type CrashPoint } from '../../src/services/crash-points.js';
import { httpJson, startServer, type ServerProcess } from '../support/server-process.js';
import { ledgerViolationsAt } from '../support/ledger-invariants.js';
import { tempDir } from '../support/tmp.js';

const MiB = 1024 * 1024;
const POINTS = Object.keys(CRASH_POINTS) as CrashPoint[];

/** The kind of intent a crash at each point leaves open (null: it falls outside any intent). */
const OPEN_INTENT: Record<CrashPoint, string | null> = {
  'binding.create:before_kernel': null, 'binding.create:kernel': null, 'binding.create:recorded': null, 'binding.delete:kernel': null,
  'file.share:before_commit': null,
  'file.narrow:intent': 'file.narrow', 'file.narrow:memslots_deleted': 'file.narrow',
  'file.revoke:intent': 'file.revoke', 'file.revoke:memslots_deleted': 'file.revoke', 'file.revoke:released': 'file.revoke',
  'file.donate:intent': 'file.donate', 'file.donate:memslots_deleted': 'file.donate',
  'migration.commit:intent': 'migration.commit', 'migration.commit:source_deleted': 'migration.commit', 'migration.commit:target_created': 'migration.commit',
  'vm.destroy:intent': 'vm.destroy', 'file.close:memslots_deleted': 'vm.destroy', 'file.close:released': 'vm.destroy',
  'vm.destroy:recorded': null,
  'handover.adopt:kernel': null, 'handover.adopt:recorded': null,
};

type Call = (method: string, path: string, body?: unknown) => Promise<{ status: number; json: any }>;

/** A call that must succeed; returns its JSON. */
const succeed = (call: Call) => async (method: string, path: string, body?: unknown) => {
  const r = await call(method, path, body);
  assert.ok(r.status < 300, `${method} ${path} -> ${r.status} ${JSON.stringify(r.json)}`);
  return r.json;
};

/**
 * Builds what the operation needs without passing its crash points, then performs it: the
 * last request is the one that dies. (A bind run binds nothing before its last request.)
 */
async function drive(op: Exclude<CrashOperation, 'handover'>, call: Call, tag: string): Promise<void> {
  const ok = succeed(call);
  const a = await ok('POST', '/v1/vms', { name: `${tag}-a` });
  const b = await ok('POST', '/v1/vms', { name: `${tag}-b` });
  const { file: owner } = await ok('POST', '/v1/inodes', { ownerVmId: a.id, size: 2 * MiB });
  const bound = op === 'bind' ? null : await ok('POST', `/v1/files/${owner.id}/bindings`, { gpa: 0, offset: 0, size: MiB });
  const grant = async (perms: string[]) => {
    const g = await ok('POST', `/v1/files/${owner.id}/shares`, { vmId: b.id, permissions: perms });
    await ok('POST', `/v1/files/${g.id}/bindings`, { gpa: 4 * MiB, offset: 0, size: MiB });
    return g;
  };
  const last: Record<Exclude<CrashOperation, 'handover'>, () => Promise<unknown>> = {
    bind: async () => {
      const g = await ok('POST', `/v1/files/${owner.id}/shares`, { vmId: b.id, permissions: ['read'] });
      return call('POST', `/v1/files/${g.id}/bindings`, { gpa: 4 * MiB, offset: 0, size: MiB });
    },
    unbind: async () => call('DELETE', `/v1/bindings/${bound!.id}`),
    share: async () => call('POST', `/v1/files/${owner.id}/shares`, { vmId: b.id, permissions: ['read'] }),
    narrow: async () => call('PATCH', `/v1/files/${(await grant(['read', 'write'])).id}`, { permissions: ['read'] }),
    revoke: async () => call('POST', `/v1/files/${(await grant(['read'])).id}/revoke`),
    donate: async () => call('POST', `/v1/files/${owner.id}/donate`, { vmId: b.id }),
    migrate: async () => {
      const c = await ok('POST', '/v1/vms', { name: `${tag}-c` });
      const mig = await ok('POST', '/v1/migrations', { sourceVmId: a.id, targetVmId: c.id });
      return call('POST', `/v1/migrations/${mig.id}/commit`);
    },
    destroy: async () => { await grant(['read']); return call('DELETE', `/v1/vms/${a.id}`); },
  };
  await assert.rejects(last[op](), 'the request that reaches the crash point gets no answer');
}

/**
 * A handover whose successor dies at `point` (it inherits GMEMD_TEST_CRASH_AT): the request
 * fails with handover.failed and this process resumes, still serving its guest memory, its
 * ledger and kernel in agreement, even when the successor had recorded its adoption.
 */
async function handoverDies(point: CrashPoint, call: Call, tag: string, dbPath: string, pid: number): Promise<void> {
  const ok = succeed(call);
  const a = await ok('POST', '/v1/vms', { name: `${tag}-a` });
  const b = await ok('POST', '/v1/vms', { name: `${tag}-b` });
  const { file: owner } = await ok('POST', '/v1/inodes', { ownerVmId: a.id, size: 2 * MiB });
  await ok('POST', `/v1/files/${owner.id}/bindings`, { gpa: 0, offset: 0, size: MiB });
  const g = await ok('POST', `/v1/files/${owner.id}/shares`, { vmId: b.id, permissions: ['read'] });
  await ok('POST', `/v1/files/${g.id}/bindings`, { gpa: 4 * MiB, offset: 0, size: MiB });
  assert.equal((await ok('POST', `/v1/vms/${a.id}/probe`, { gpa: 0x10, write: 0x5a })).value, 0x5a);
  const r = await call('POST', '/v1/admin/handover', {});
  assert.deepEqual([r.status, r.json.code], [500, 'handover.failed'], JSON.stringify(r.json));
  assert.equal((await ok('GET', '/v1/host')).service.pid, pid, 'the old process still serves');
  assert.equal((await ok('POST', `/v1/vms/${b.id}/probe`, { gpa: 4 * MiB + 0x10 })).value, 0x5a);
  assert.equal((await ok('POST', `/v1/vms/${a.id}/probe`, { gpa: 0x11, write: 0x6b })).value, 0x6b, 'and accepts writes again');
  assert.deepEqual((await ok('POST', '/v1/reconcile', {})).drift, []);
  assert.deepEqual(ledgerViolationsAt(dbPath), []);
  const db = new Database(dbPath, { readonly: true });
  try {
    const failed = db.prepare("SELECT details FROM events WHERE action = 'handover.start' AND outcome = 'failed' ORDER BY seq DESC LIMIT 1").get() as { details: string };
    assert.equal(JSON.parse(failed.details).successorRecorded, point === 'handover.adopt:recorded');
  } finally { db.close(); }
}

interface Snapshot { openIntents: { id: string; kind: string }[]; held: Map<string, string> }

/** What the dead process's ledger claimed to hold, read before anything restarts. */
function snapshot(path: string): Snapshot {
  const db = new Database(path, { readonly: true });
  try {
    const openIntents = db.prepare("SELECT id, kind FROM intents WHERE state = 'open'").all() as { id: string; kind: string }[];
    const rows = db.prepare(`SELECT id, 'vm' o FROM vms WHERE state = 'active' UNION ALL SELECT id, 'inode' FROM inodes WHERE state = 'live'
      UNION ALL SELECT id, 'file' FROM files WHERE state IN ('open','pending') UNION ALL SELECT id, 'binding' FROM bindings WHERE state = 'active'`).all() as { id: string; o: string }[];
    return { openIntents, held: new Map(rows.map((r) => [r.id, r.o])) };
  } finally { db.close(); }
}

describe('crash at every step, then restart', () => {
  const tmp = tempDir();
  const env = { GMEMD_DB: join(tmp.dir, 'ledger.db'), GMEMD_LISTEN: `unix:${join(tmp.dir, 'gmemd.sock')}` };
  const started: ServerProcess[] = [];
  let previous: { point: CrashPoint; snap: Snapshot } | null = null;
  /** A fresh server; any earlier one still running (a failed step) is killed first. */
  const start = async (extra: Record<string, string> = {}) => {
    for (const s of started) if (s.child.exitCode === null && s.child.signalCode === null) { s.child.kill('SIGKILL'); await s.exited; }
    // A handover's successor must die at the point too: test-only settings reach it only when asked.
    const s = await startServer({ ...env, GMEMD_HANDOVER_TEST_MODE: '1', ...extra });
    started.push(s);
    return s;
  };
  after(async () => {
    for (const s of started) if (s.child.exitCode === null && s.child.signalCode === null) { s.child.kill('SIGKILL'); await s.exited; }
    tmp.cleanup();
  });

  test('every crash point has an expected outcome here', () => {
    assert.deepEqual(Object.keys(OPEN_INTENT).sort(), [...POINTS].sort());
  });

  /** Checks the restart after `previous`'s crash, on the server now running. */
  async function checkRestart(s: ServerProcess): Promise<void> {
    const { point, snap } = previous!;
    assert.deepEqual(ledgerViolationsAt(env.GMEMD_DB), [], `after ${point}`);
    const db = new Database(env.GMEMD_DB, { readonly: true });
    try {
      const host = await httpJson(s.socket, 'GET', '/v1/host');
      const report = host.json.reconcile;
      assert.ok(report?.events, `start-up reconcile after ${point} recorded events`);
      const events = db.prepare('SELECT action, vm_id, inode_id, file_id, binding_id, details FROM events WHERE seq BETWEEN ? AND ?')
        .all(report.events.from, report.events.to) as { action: string; vm_id: string; inode_id: string; file_id: string; binding_id: string; details: string }[];
      const intentEvents = events.filter((e) => e.action === 'reconcile.intent').map((e) => JSON.parse(e.details).intentId as string);
      assert.deepEqual(intentEvents.sort(), snap.openIntents.map((i) => i.id).sort(), 'one reconcile.intent per open intent');
      assert.deepEqual(report.intents.map((i: { intentId: string }) => i.intentId).sort(), intentEvents.sort());
      const lost = events.filter((e) => e.action === 'reconcile.lost').map((e) => {
        const d = JSON.parse(e.details);
        return d.object === 'vm' ? e.vm_id : d.object === 'inode' ? e.inode_id : d.object === 'file' ? e.file_id : d.object === 'binding' ? e.binding_id : `migration`;
      }).filter((id) => id !== 'migration');
      assert.equal(new Set(lost).size, lost.length, 'at most one reconcile.lost per object');
      assert.deepEqual(lost.sort(), [...snap.held.keys()].sort(), 'every object the dead process held is lost, and nothing else');
      const listed = [...report.lost.vms, ...report.lost.inodes, ...report.lost.files, ...report.lost.bindings];
      assert.deepEqual(listed.sort(), lost.sort(), 'GET /v1/host lists them');
      const alive = db.prepare(`SELECT (SELECT count(*) FROM vms WHERE state = 'active') + (SELECT count(*) FROM inodes WHERE state = 'live')
        + (SELECT count(*) FROM files WHERE state IN ('open','pending')) + (SELECT count(*) FROM bindings WHERE state = 'active') n`).get() as { n: number };
      assert.equal(alive.n, 0, 'a restarted gmemd holds nothing, and the ledger says so');
    } finally { db.close(); }
  }

  for (const [i, point] of POINTS.entries()) {
    test(`${point} (${CRASH_POINTS[point]})`, async () => {
      const s = await start({ GMEMD_TEST_CRASH_AT: point });
      if (previous) await checkRestart(s);
      const exit = new Promise<string | null>((resolve) => s.child.once('exit', (_code, signal) => resolve(signal)));
      const call: Call = (m, p, b) => httpJson(s.socket, m, p, b);
      const op = CRASH_POINTS[point];
      if (op === 'handover') {
        await handoverDies(point, call, `p${i}`, env.GMEMD_DB, s.child.pid!);
        s.child.kill('SIGKILL'); // then crash it like the others, for the next start to check
      } else {
        await drive(op, call, `p${i}`);
      }
      assert.equal(await exit, 'SIGKILL', `gmemd died by SIGKILL at ${point}:\n${s.output().slice(-2000)}`);
      const snap = snapshot(env.GMEMD_DB);
      const expected = OPEN_INTENT[point];
      assert.deepEqual(snap.openIntents.map((x) => x.kind), expected ? [expected] : [], `open intents after a crash at ${point}`);
      previous = { point, snap };
    });
  }

  test('the last crash is reconciled by a plain restart', async () => {
    const s = await start();
    await checkRestart(s);
    const again = await httpJson(s.socket, 'POST', '/v1/reconcile', {});
    assert.deepEqual(again.json.drift, [], 'on-demand reconcile finds nothing more');
    s.child.kill('SIGTERM');
    await s.exited;
  });
});
