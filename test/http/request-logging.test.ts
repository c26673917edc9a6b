// Request logging: Fastify's two lines per request only at debug and trace (at info they
// took a quarter of the read throughput), what goes wrong with a request at any level, and each
// request's own logger, made on first use, still binds its request id.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { buildApp } from '../../src/http/app.js';
import { RequestLogController } from '../../src/http/request-logging.js';
import { createContext } from '../../src/services/context.js';
import { createSimulatedHost } from '../../src/kvm/simulated/sim-host.js';
import { Store } from '../../src/store/store.js';
import { authOf } from '../support/app.js';
import { tempDir } from '../support/tmp.js';

async function linesAt(level: string, requests: (app: Awaited<ReturnType<typeof buildApp>>) => Promise<void>) {
  const tmp = tempDir();
  const store = Store.open(join(tmp.dir, 'gmemd.db'));
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({ write(chunk, _enc, cb) { for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l)); cb(); } });
  const app = await buildApp({ ctx: createContext(store, createSimulatedHost()), logger: { level, stream } });
  try {
    await requests(app);
  } finally {
    await app.close();
    store.close();
    tmp.cleanup();
  }
  return lines;
}

test('at info no line per request; at debug one as it arrives and one as it completes, with its request id', async () => {
  const send = async (app: Awaited<ReturnType<typeof buildApp>>) => {
    const r = await app.inject({ method: 'GET', url: '/v1/vms', headers: { ...authOf(app), 'x-request-id': 'req-logged-1' } });
    assert.equal(r.statusCode, 200);
  };
  const info = await linesAt('info', send);
  assert.deepEqual(info.filter((l) => l.reqId === 'req-logged-1'), []);
  const debug = await linesAt('debug', send);
  const mine = debug.filter((l) => l.reqId === 'req-logged-1').map((l) => l.msg);
  assert.deepEqual(mine, ['incoming request', 'request completed']);
});

test('a request\'s own log call goes out through its child logger, bound to its request id', async () => {
  const lines = await linesAt('info', async (app) => {
    // A ledger read that fails under the request: the error handler logs it through req.log.
    const { vms } = app.gmemd.ctx.store;
    const get = vms.get;
    vms.get = () => { throw new Error('disk I/O error (test)'); };
    try {
      const r = await app.inject({ method: 'GET', url: '/v1/vms/vm_none', headers: { ...authOf(app), 'x-request-id': 'req-logged-2' } });
      assert.equal(r.statusCode, 500);
    } finally {
      vms.get = get;
    }
  });
  const l = lines.find((x) => x.msg === 'unhandled error');
  assert.ok(l, `the error was logged: ${JSON.stringify(lines)}`);
  assert.deepEqual([l.reqId, l.level], ['req-logged-2', 50]);
});

test('below debug, a request that went wrong is still logged; the routine lines are not', () => {
  const logged = (perRequest: boolean) => {
    const lines: string[] = [];
    const log = Object.fromEntries(['fatal', 'error', 'warn', 'info', 'debug', 'trace'].map((l) => [l, (...a: unknown[]) => lines.push(`${l}: ${typeof a[0] === 'string' ? a[0] : a[1]}`)]));
    const request = { log, raw: { method: 'GET', url: '/x' } } as never;
    const reply = { log } as never;
    const c = new RequestLogController(perRequest);
    c.incomingRequest(request, reply);
    c.requestCompleted(null, request, reply);
    c.requestCompleted(new Error('socket hang up'), request, reply);
    c.routeNotFound(request, reply);
    c.serializerError(new Error('bad body'), request, reply, { statusCode: 500 });
    return lines;
  };
  assert.deepEqual(logged(false), ['error: request errored', 'error: The serializer for the given status code failed']);
  assert.deepEqual(logged(true), ['info: incoming request', 'info: request completed', 'error: request errored', 'info: Route GET:/x not found',
    'error: The serializer for the given status code failed']);
});
