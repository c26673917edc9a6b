// Isolation as an invariant (issue 8 §3): over random sequences of share, bind (sane and
// hostile numbers), unbind, narrow, revoke, donate, migration prepare/commit/abort and repair
// requests, with drift injected behind gmemd's back (a memslot deleted in the kernel, a
// binding's offset or size rewritten in the ledger), no memslot of any VM ever points outside
// the mapping of an inode that VM holds an open file on (memslot-invariant.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BACKENDS, call, makeApp, MiB, type TestApp } from '../support/app.js';
import { memslotViolations } from '../support/memslot-invariant.js';

const PERMS = ['read', 'write', 'share'] as const;
const perms = fc.subarray([...PERMS], { minLength: 1 });
const vmIx = fc.nat(2), inoIx = fc.nat(1);
// Offsets a hostile caller would send: negative, at and past the end, toward the other
// inode's mapping ('distance'), and past 2^53.
const hostileOffset = fc.constantFrom(-2 * MiB, -4096, 2 * MiB, 4 * MiB, 2 ** 40, 2 ** 53 - 4096, 'distance' as const);

const command = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('share' as const), from: vmIx, ino: inoIx, to: vmIx, perms }) },
  { weight: 5, arbitrary: fc.record({ op: fc.constant('bind' as const), vm: vmIx, ino: inoIx, gpa: fc.nat(15), off: fc.nat(16), pages: fc.integer({ min: 1, max: 16 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('bindHostile' as const), vm: vmIx, ino: inoIx, off: hostileOffset }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('unbind' as const), vm: vmIx, k: fc.nat(7) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('narrow' as const), k: fc.nat(7), drop: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('revoke' as const), k: fc.nat(7) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('donate' as const), ino: inoIx, to: vmIx }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('prepare' as const), from: vmIx, to: vmIx }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('finish' as const), commit: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('migrate' as const), from: vmIx, to: vmIx, commit: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('repair' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('kernelDelete' as const), k: fc.nat(15) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('tamper' as const), k: fc.nat(15), field: fc.constantFrom('offset', 'size'), value: hostileOffset }) },
);
type Command = typeof command extends fc.Arbitrary<infer C> ? C : never;

interface World { t: TestApp; vms: string[]; inodes: string[]; migration?: string }

let runNo = 0;
/** Three fresh VMs and two 2 MiB inodes (owned by the first two) in the shared app. */
async function setUp(t: TestApp): Promise<World> {
  const vms: string[] = [];
  runNo++;
  for (const n of ['p0', 'p1', 'p2']) vms.push((await call(t.app, 'POST', '/v1/vms', { name: `${n}-${runNo}` })).json.id);
  const inodes: string[] = [];
  for (const owner of [vms[0], vms[1]]) inodes.push((await call(t.app, 'POST', '/v1/inodes', { ownerVmId: owner, size: 2 * MiB })).json.inode.id);
  return { t, vms, inodes };
}

/** Destroys the sequence's VMs (aborting a prepared migration first): every memslot of theirs must be gone. */
async function tearDown(w: World): Promise<void> {
  // Injected tampering can leave a multi-step change whose undo the address guard refused (the
  // ledger row it would re-create from points outside the mapping): the service then refuses
  // writes with 503 until a reconcile with repair, as the write pipeline promises. Do that first.
  if (w.t.ctx.pipeline.degraded) {
    assert.equal((await call(w.t.app, 'POST', '/v1/reconcile', { repair: true })).status, 200);
    assert.equal(w.t.ctx.pipeline.degraded, null, 'a reconcile with repair lifts the write refusal');
  }
  for (const vmId of w.vms) {
    const mig = w.t.store.migrations.unfinishedFor(vmId);
    if (mig) assert.equal((await call(w.t.app, 'POST', `/v1/migrations/${mig.id}/abort`)).status, 200);
  }
  for (const vmId of w.vms) assert.equal((await call(w.t.app, 'DELETE', `/v1/vms/${vmId}`)).status, 200);
  for (const vmId of w.vms) assert.equal(w.t.ctx.registry.memslots.has(vmId), false, `VM ${vmId} destroyed with its memslots`);
}

const openFile = (w: World, vm: number, ino: number) => w.t.store.files.liveFor(w.inodes[ino], w.vms[vm]);

async function run(w: World, c: Command): Promise<{ status: number; json: { code?: string } } | null> {
  const { t, vms, inodes } = w;
  const sql = t.store.ledger.sqlite;
  switch (c.op) {
    case 'share': {
      const f = openFile(w, c.from, c.ino);
      return f ? call(t.app, 'POST', `/v1/files/${f.id}/shares`, { vmId: vms[c.to], permissions: c.perms }) : null;
    }
    case 'bind': case 'bindHostile': {
      const f = openFile(w, c.vm, c.ino);
      if (!f) return null;
      const other = t.ctx.registry.gmem(inodes[1 - c.ino])?.mapping, mine = t.ctx.registry.gmem(inodes[c.ino])?.mapping;
      const body = c.op === 'bind' ? { gpa: c.gpa * 2 * MiB, offset: c.off * 64 * 1024, size: c.pages * 64 * 1024 }
        : { gpa: 0x40000000, size: 4096, offset: c.off === 'distance' ? Number((other?.addr ?? 0n) - (mine?.addr ?? 0n)) : c.off };
      return call(t.app, 'POST', `/v1/files/${f.id}/bindings`, body);
    }
    case 'unbind': {
      const mine = t.store.bindings.activeByVm(vms[c.vm]);
      const b = mine[c.k % Math.max(mine.length, 1)];
      return b ? call(t.app, 'DELETE', `/v1/bindings/${b.id}`) : null;
    }
    case 'narrow': case 'revoke': {
      const grants = inodes.flatMap((i) => t.store.files.byInode(i, ['open'])).filter((f) => f.role === 'grantee');
      const f = grants[c.k % Math.max(grants.length, 1)];
      if (!f) return null;
      if (c.op === 'revoke') return call(t.app, 'POST', `/v1/files/${f.id}/revoke`);
      // Drop one of the file's permissions: a real narrowing whenever the file is a grant with two or more.
      return call(t.app, 'PATCH', `/v1/files/${f.id}`, { permissions: f.permissions.filter((_, i) => i !== c.drop % f.permissions.length) });
    }
    case 'donate': {
      const owner = t.store.files.byInode(inodes[c.ino]).find((f) => f.role === 'owner' && f.state === 'open');
      return owner ? call(t.app, 'POST', `/v1/files/${owner.id}/donate`, { vmId: vms[c.to] }) : null;
    }
    case 'prepare': {
      const r = await call(t.app, 'POST', '/v1/migrations', { sourceVmId: vms[c.from], targetVmId: vms[c.to] });
      if (r.status === 201) w.migration = r.json.id;
      return r;
    }
    case 'migrate': {
      // Prepare and finish in one step, so that sequences reach commit and abort often.
      const p = await run(w, { op: 'prepare', from: c.from, to: c.to });
      return p?.status === 201 ? run(w, { op: 'finish', commit: c.commit }) : p;
    }
    case 'finish': {
      if (!w.migration) return null;
      const id = w.migration;
      w.migration = undefined;
      return call(t.app, 'POST', `/v1/migrations/${id}/${c.commit ? 'commit' : 'abort'}`);
    }
    case 'repair': return call(t.app, 'POST', '/v1/reconcile', { repair: true });
    case 'kernelDelete': {
      // The kernel loses a memslot behind gmemd's back; repair must re-create it, inside its mapping.
      const all = [...t.ctx.registry.memslots].flatMap(([vmId, slots]) => [...slots.values()].map((r) => ({ vmId, r })));
      const hit = all[c.k % Math.max(all.length, 1)];
      if (!hit) return null;
      const fd = t.ctx.registry.vmFd(hit.vmId)!;
      assert.ok(t.kvm.setUserMemoryRegion2(fd, { ...hit.r, flags: 0, memorySize: 0n, userspaceAddr: 0n, guestMemfd: 0, guestMemfdOffset: 0n }).ok);
      t.ctx.registry.untrackMemslot(hit.vmId, hit.r.slot);
      return { status: 0, json: { code: `deleted slot ${hit.r.slot} of ${hit.vmId}` } };
    }
    case 'tamper': {
      // A ledger row rewritten with a hostile number: whatever re-creates memslots from it must fail closed.
      const b = t.store.bindings.allActive()[c.k % Math.max(t.store.bindings.allActive().length, 1)];
      if (!b) return null;
      const other = t.ctx.registry.gmem(inodes.find((i) => i !== b.inodeId)!)?.mapping, mine = t.ctx.registry.gmem(b.inodeId)?.mapping;
      const v = c.value === 'distance' ? Number((other?.addr ?? 0n) - (mine?.addr ?? 0n)) : c.value;
      sql.prepare(`UPDATE bindings SET ${c.field === 'offset' ? 'offset' : 'size'} = ? WHERE id = ?`).run(v, b.id);
      return { status: 0, json: { code: `${b.id}.${c.field} = ${v}` } };
    }
  }
}

async function sequence(t: TestApp, cmds: Command[], stats: Record<string, number>): Promise<void> {
  const w = await setUp(t);
  try {
    const log: string[] = [];
    for (const c of cmds) {
      const r = await run(w, c);
      log.push(`${JSON.stringify(c)} -> ${r ? `${r.status} ${r.json?.code ?? ''}` : 'skipped'}`);
      if (r) {
        assert.notEqual(r.json?.code, 'internal.error', log.join('\n'));
        if (r.status >= 200 && r.status < 300) stats[c.op] = (stats[c.op] ?? 0) + 1;
      }
      const bad = memslotViolations(w.t);
      assert.deepEqual(bad, [], `after:\n${log.join('\n')}`);
      stats.memslotsChecked = (stats.memslotsChecked ?? 0) + [...w.t.ctx.registry.memslots.values()].reduce((n, s) => n + s.size, 0);
    }
  } finally {
    // Also after a failure, so that shrinking starts each re-run from a clean app.
    await tearDown(w);
  }
}

for (const { kind, options } of BACKENDS) {
  const runs = kind === 'simulated' ? 100 : 15;
  test(`property (${kind}, ${runs} sequences): no memslot points outside a mapping its VM holds open`, { ...options, timeout: 600_000 }, async (ctx) => {
    const stats: Record<string, number> = {};
    // One app (one database file) for all sequences: each sequence makes its own VMs and inodes
    // and destroys them at its end, so what one leaves cannot hide what the next does.
    const t = await makeApp(kind);
    try {
      await fc.assert(fc.asyncProperty(fc.array(command, { minLength: 10, maxLength: 30 }), (cmds) => sequence(t, cmds, stats)),
        { numRuns: runs, interruptAfterTimeLimit: 300_000, markInterruptAsFailure: true, ...(process.env.GMEMD_PROPERTY_SEED ? { seed: Number(process.env.GMEMD_PROPERTY_SEED) } : {}) });
    } finally {
      await t.close();
    }
    // Not vacuous: the sequences really bound, migrated and repaired, and memslots were checked.
    // Narrowing needs a grant with two permissions first: in 15 native sequences that may not
    // happen every time, in 100 simulated ones it always does (≈15 succeed).
    for (const op of ['share', 'bind', 'repair', ...(kind === 'simulated' ? ['narrow', 'donate'] as const : [])] as const) {
      assert.ok((stats[op] ?? 0) > 0, `some ${op} succeeded: ${JSON.stringify(stats)}`);
    }
    assert.ok((stats.migrate ?? 0) + (stats.finish ?? 0) > 0, `some migration was committed or aborted: ${JSON.stringify(stats)}`);
    assert.ok(stats.memslotsChecked > runs, JSON.stringify(stats));
    ctx.diagnostic(`successful requests and memslots checked: ${JSON.stringify(stats)}`);
    assert.equal(stats.bindHostile ?? 0, 0, 'no hostile binding was ever accepted');
  });
}
