// A write whose body is still arriving when a handover starts must not reach the ledger:
// the gate is checked again once the body has been read. The request is sent over a real
// socket with its body in two parts; the handover "starts" between them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { buildApp } from '../../src/http/app.js';
import { err } from '../../src/domain/result.js';
import { authOf, bearer, insertToken, makeApp } from '../support/app.js';

/** POST /v1/vms with the body split in two; `between` runs after the first part has been received. */
function slowPost(port: number, headers: Record<string, string>, body: string, between: () => Promise<void>) {
  return new Promise<{ status: number; json: any }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/vms', headers: {
      ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)),
    } }, (res) => {
      let data = '';
      res.on('data', (d) => { data += d; });
      res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(data) }));
    });
    req.on('error', reject);
    const half = Math.floor(body.length / 2);
    req.write(body.slice(0, half));
    void between().then(() => req.end(body.slice(half)), reject);
  });
}

test('a slow body cannot slip a write past the handover gate', async () => {
  const t = await makeApp('simulated');
  let handingOver = false;
  // 'arrived' answers false once (the request's first check), then true: a handover that
  // began while the request was being served.
  let mode: 'flag' | 'arrived' = 'flag';
  let asked = 0;
  const inProgress = () => (mode === 'arrived' ? asked++ > 0 : handingOver);
  const app = await buildApp({ ctx: t.ctx, lifecycle: { startup: null, testHooks: false,
    handover: { inProgress, start: async () => err('handover.unavailable', 'not in this test') } } });
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as { port: number };
    const headers = authOf(app);
    // The request's head has passed the first check (no handover yet) when the handover starts.
    const wait = () => new Promise<void>((r) => setTimeout(r, 200));
    const events = () => (t.store.ledger.sqlite.prepare('SELECT count(*) n FROM events').get() as { n: number }).n;
    const before = events();
    const slow = await slowPost(port, headers, JSON.stringify({ name: 'slipped' }), async () => { await wait(); handingOver = true; });
    assert.deepEqual([slow.status, slow.json.code], [503, 'handover.in_progress']);
    assert.equal(t.store.vms.findActiveByName('slipped'), undefined, 'no VM was created');
    assert.equal(events(), before, 'nothing was recorded during the handover');
    // The same slow body with a malformed name: no validation refusal is audited either.
    const bad = await slowPost(port, headers, JSON.stringify({ name: 7 }), async () => { await wait(); });
    assert.equal(bad.status, 503);
    assert.equal(events(), before);

    // A forbidden request during the handover is refused, and only logged: the successor owns the ledger.
    const auditor = bearer(insertToken(t.store, 'gate-auditor', 'auditor'));
    const forbidden = await app.inject({ method: 'GET', url: '/v1/tokens', headers: auditor });
    assert.deepEqual([forbidden.statusCode, forbidden.json().code], [403, 'auth.forbidden']);
    assert.equal(events(), before);

    // Reads are served, and tell their client to reconnect: the successor answers next.
    const read = await app.inject({ method: 'GET', url: '/v1/vms', headers });
    assert.deepEqual([read.statusCode, read.headers.connection], [200, 'close']);

    handingOver = false;
    // A read that arrived before the handover began and is answered after: Connection: close too.
    mode = 'arrived';
    const during = await app.inject({ method: 'GET', url: '/v1/vms', headers });
    assert.deepEqual([during.statusCode, during.headers.connection, asked > 1], [200, 'close', true]);
    mode = 'flag';
    const after = await app.inject({ method: 'GET', url: '/v1/vms', headers });
    assert.deepEqual([after.statusCode, after.headers.connection], [200, 'keep-alive'], 'no handover: the connection is kept');
    const control = await slowPost(port, headers, JSON.stringify({ name: 'after' }), wait);
    assert.equal(control.status, 201, 'without a handover the same request goes through');
  } finally {
    await app.close();
    await t.close();
  }
});
