// Child process for test/bench/http-bench.ts's baselines (hello, insert, grouped) and, under
// tsx from the sources, for the gmemd of profile-http.ts and ab-read.ts (the bench itself runs
// gmemd as `npm start` does, gmemd-process.ts): serves one scenario on 127.0.0.1 (an ephemeral
// port) so the load generator and the server never share an event loop. It reports
// { port, backend?, note? } over the IPC channel and closes on SIGTERM or when the parent
// goes away.
//   node --import tsx test/bench/http-server.ts <hello|insert|grouped|gmemd> <dir>
import Database from 'better-sqlite3';
import Fastify, { type FastifyInstance } from 'fastify';
import { join } from 'node:path';
import { buildApp } from '../../src/http/app.js';
import { parseBackend, selectBackend } from '../../src/kvm/select-backend.js';
import { createContext } from '../../src/services/context.js';
import { Store } from '../../src/store/store.js';
import { startWalCheckpointer } from '../../src/store/wal-checkpointer.js';
import { ensureAdminToken } from '../../src/services/token-service.js';
import { SYSTEM_CALLER } from '../../src/reconcile/startup.js';
import { BENCH_TOKEN } from './gmemd-scenarios.js';

export type ServerKind = 'hello' | 'insert' | 'grouped' | 'gmemd';
export interface ServerReady { port: number; backend?: string; note?: string }

/** (a) the floor: Fastify's own cost for a tiny JSON GET. */
async function hello() {
  const app = Fastify({ logger: false });
  app.get('/hello', async () => ({ hello: 'world' }));
  return { app, close: async () => {} };
}

/** The baselines' table, configured like gmemd's ledger (WAL, synchronous=FULL: an fsync per commit). */
function baselineDb(dir: string) {
  const db = new Database(join(dir, 'baseline.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER NOT NULL)');
  const app = Fastify({ logger: false });
  return { db, app, stmt: db.prepare('INSERT INTO items (name, qty) VALUES (?, ?)'), close: async () => db.close() };
}

const ITEM_SCHEMA = { body: { type: 'object', required: ['name', 'qty'], additionalProperties: false,
  properties: { name: { type: 'string', maxLength: 128 }, qty: { type: 'integer' } } } } as const;
type Item = { name: string; qty: number };

/** (b) one durable write per request, through a cached prepared statement: the cheapest way to do it. */
async function insert(dir: string) {
  const { app, stmt, close } = baselineDb(dir);
  app.post<{ Body: Item }>('/items', { schema: ITEM_SCHEMA }, async (req, reply) => {
    const r = stmt.run(req.body.name, req.body.qty);
    return reply.code(201).send({ id: Number(r.lastInsertRowid) });
  });
  return { app, close };
}

/**
 * (g) (b)'s INSERT with group commit: the INSERTs of one turn of the event loop commit in one
 * transaction, one fsync, and each reply waits for its COMMIT. What group commit gives a bare
 * POST on this machine: the ceiling under which gmemd's (c) and (f) are measured.
 */
async function grouped(dir: string) {
  const { db, app, stmt, close } = baselineDb(dir);
  let queue: { item: Item; done: (id: number) => void }[] = [];
  const commit = db.transaction((batch: typeof queue) => batch.map((m) => Number(stmt.run(m.item.name, m.item.qty).lastInsertRowid)));
  const flush = () => {
    const batch = queue;
    queue = [];
    commit.immediate(batch).forEach((id, i) => batch[i]!.done(id));
  };
  app.post<{ Body: Item }>('/items', { schema: ITEM_SCHEMA }, async (req, reply) => {
    const id = await new Promise<number>((done) => { if (queue.push({ item: req.body, done }) === 1) setImmediate(flush); });
    return reply.code(201).send({ id });
  });
  return { app, close };
}

/** (c)/(d) the real thing: buildApp over a ledger file; the backend as gmemd picks it (GMEMD_BACKEND, default auto). */
async function gmemd(dir: string) {
  const { host, note } = selectBackend(parseBackend(process.env.GMEMD_BACKEND));
  const store = Store.open(join(dir, 'gmemd.db'));
  // The bench loads the server far past any per-token budget and creates many objects: the
  // rate limiter is off and the VM and inode quotas are raised (domain/limits.ts), so it
  // measures the request path, not the limits.
  const ctx = createContext(store, host, { limits: { rateLimitPerMinute: 0, maxVms: 1_000_000, maxInodes: 1_000_000, memoryBudgetBytes: 2 ** 46 } });
  // As GMEMD_ADMIN_TOKEN does on a real start: the bench's requests authenticate like any client's.
  const admin = ensureAdminToken(ctx, SYSTEM_CALLER, BENCH_TOKEN);
  if (!admin.ok) throw new Error(admin.error.message);
  // Logging as src/server.ts sets it up by default (pino at info, on stdout), so the requests pay for it as a real start's do.
  const app = await buildApp({ ctx, logger: { level: process.env.GMEMD_LOG_LEVEL || 'info' } });
  // As src/server.ts runs it: WAL checkpoints on a worker thread.
  const walCheckpoints = startWalCheckpointer(store.ledger.sqlite, join(dir, 'gmemd.db'));
  const close = async () => {
    await walCheckpoints.stop();
    // The same release order as the test helper: mappings and gmem fds, then VM fds.
    for (const gm of ctx.registry.gmems.values()) {
      if (gm.mapping) host.munmap(gm.mapping.addr, gm.mapping.length);
      host.close(gm.fd);
    }
    for (const fd of ctx.registry.vms.values()) host.close(fd);
    store.close();
  };
  return { app: app as unknown as FastifyInstance, close, backend: host.backend, note };
}

const [kind, dir] = process.argv.slice(2) as [ServerKind, string];
const made = kind === 'hello' ? await hello() : kind === 'insert' ? await insert(dir) : kind === 'grouped' ? await grouped(dir) : await gmemd(dir);
await made.app.listen({ host: '127.0.0.1', port: 0 });
const addr = made.app.server.address();
if (!addr || typeof addr === 'string') throw new Error('no TCP address');

// BENCH_CPU_PROFILE=file: a CPU profile of the serving only (start-up excluded), written at close.
const profile = process.env.BENCH_CPU_PROFILE ? await startProfile() : null;
async function startProfile() {
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  return async () => {
    const { profile: p } = await session.post('Profiler.stop');
    (await import('node:fs')).writeFileSync(process.env.BENCH_CPU_PROFILE!, JSON.stringify(p));
  };
}

let closing = false;
async function shutdown() {
  if (closing) return;
  closing = true;
  await profile?.();
  await made.app.close();
  await made.close();
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('disconnect', shutdown);
const ready: ServerReady = { port: addr.port, ...('backend' in made ? { backend: made.backend, note: made.note } : {}) };
process.send?.(ready);
