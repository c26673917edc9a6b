// Child process for the benches' baselines (hello, insert, grouped): serves one scenario on
// 127.0.0.1 (an ephemeral port) so the load generator and the server never share an event
// loop. gmemd itself is served as `npm start` serves it (gmemd-process.ts). It reports
// { port } over the IPC channel and closes on SIGTERM or when the parent goes away.
//   node --import tsx test/bench/http-server.ts <hello|insert|grouped> <dir>
import Database from 'better-sqlite3';
import Fastify from 'fastify';
import { join } from 'node:path';

export type BaselineKind = 'hello' | 'insert' | 'grouped';
export interface ServerReady { port: number }

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

const [kind, dir] = process.argv.slice(2) as [BaselineKind, string];
const BASELINES: Record<BaselineKind, (dir: string) => Promise<{ app: ReturnType<typeof Fastify>; close: () => Promise<unknown> }>> = { hello, insert, grouped };
if (!Object.hasOwn(BASELINES, kind)) throw new Error(`no such baseline: ${kind} (hello, insert or grouped)`);
const made = await BASELINES[kind](dir);
await made.app.listen({ host: '127.0.0.1', port: 0 });
const addr = made.app.server.address();
if (!addr || typeof addr === 'string') throw new Error('no TCP address');

let closing = false;
async function shutdown() {
  if (closing) return;
  closing = true;
  await made.app.close();
  await made.close();
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('disconnect', shutdown);
const ready: ServerReady = { port: addr.port };
process.send?.(ready);
