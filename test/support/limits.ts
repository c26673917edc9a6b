// Helpers for the limits tests: an app with its own ledger and limits, and a check that a
// refused request answered its code, wrote exactly one denied event and created nothing, in
// the ledger or in the kernel.
import assert from 'node:assert/strict';
import { makeApp, type TestApp } from './app.js';
import type { Limits } from '../../src/domain/limits.js';

export type Opts = { limits?: Partial<Limits>; now?: () => number };

export async function withApp(kind: 'native' | 'simulated', opts: Opts, body: (t: TestApp) => Promise<void>) {
  const t = await makeApp(kind, opts);
  try { await body(t); } finally { await t.close(); }
}

export const q = (t: TestApp, sql: string) => (t.store.ledger.sqlite.prepare(sql).get() as { n: number }).n;
export const rows = (t: TestApp) => ({ vms: q(t, 'SELECT count(*) n FROM vms'), inodes: q(t, 'SELECT count(*) n FROM inodes'),
  files: q(t, 'SELECT count(*) n FROM files'), bindings: q(t, 'SELECT count(*) n FROM bindings') });
/** kvm-vm and kvm-gmem fds this process holds, as the kernel port reports them. */
export function kernelFds(t: TestApp) {
  const h = t.kvm.heldFds();
  assert.ok(h.ok);
  return { vm: h.value.filter((f) => f.kind === 'kvm-vm').length, gmem: h.value.filter((f) => f.kind === 'kvm-gmem').length };
}
export function eventsAfter(t: TestApp, seq: number) {
  return t.store.ledger.sqlite.prepare('SELECT action, outcome, error_code AS errorCode FROM events WHERE seq > ? ORDER BY seq').all(seq);
}
export const head = (t: TestApp) => t.store.chain.getHead().seq;

/** Runs `refused`, and checks it answered `status`/`code`, wrote one denied event and nothing else. */
export async function refusedAlone(t: TestApp, action: string, status: number, code: string, refused: () => Promise<{ status: number; json: any }>) {
  const before = { seq: head(t), rows: rows(t), fds: kernelFds(t), gmems: t.ctx.registry.gmems.size, vms: t.ctx.registry.vms.size };
  const r = await refused();
  assert.equal(r.status, status, JSON.stringify(r.json));
  assert.equal(r.json.code, code);
  assert.deepEqual(eventsAfter(t, before.seq), [{ action, outcome: 'denied', errorCode: code }]);
  assert.deepEqual(rows(t), before.rows);
  assert.deepEqual(kernelFds(t), before.fds);
  assert.deepEqual([t.ctx.registry.gmems.size, t.ctx.registry.vms.size], [before.gmems, before.vms]);
  return r.json;
}

