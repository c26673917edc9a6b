// Limits over real HTTP, each test with its own ledger and limits: the rate limiter answers
// 429 with Retry-After, slow clients are cut off, idempotency records expire, and the host
// scan and the memslot sweep stop at their deadlines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type AddressInfo } from 'node:net';
import { describeBackends, call, insertToken } from '../support/app.js';
import { eventsAfter, head, q, rows, withApp } from '../support/limits.js';

/** Writes `text` on a new connection and collects everything the server sends until it closes. */
function rawExchange(port: number, text: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(text));
    let got = '';
    s.on('data', (d) => { got += d; });
    s.on('close', () => resolve(got));
    // The server may close while the rest of a refused request is still being written.
    s.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' || e.code === 'EPIPE' ? resolve(got) : reject(e)));
    // A guard against a hang, not a timing claim: the server must close it well before.
    setTimeout(() => { s.destroy(); resolve(`no answer; got ${JSON.stringify(got)}`); }, 20_000).unref();
  });
}

/** A raw HTTP answer's problem+json: its content type checked, and the members a client dispatches on. */
function problemIn(raw: string): { status: number; code: string; type: string } {
  const [head = '', body = ''] = raw.split('\r\n\r\n');
  assert.match(head, /\r\ncontent-type: application\/problem\+json\r\n/i);
  assert.match(head, /\r\nconnection: close(\r\n|$)/i);
  const p = JSON.parse(body) as { status: number; code: string; type: string };
  return { status: p.status, code: p.code, type: p.type };
}

describeBackends('rate limit, idempotency expiry and deadlines', (kind) => {
  test('past the per-minute budget: 429 problem+json rate.limited with Retry-After; probes and other tokens unaffected', async () => {
    await withApp(kind, { limits: { rateLimitPerMinute: 3 } }, async (t) => {
      for (let i = 0; i < 3; i++) assert.equal((await call(t.app, 'GET', '/v1/vms')).status, 200);
      const r = await call(t.app, 'GET', '/v1/vms');
      assert.equal(r.status, 429);
      assert.equal(r.headers['content-type'], 'application/problem+json; charset=utf-8');
      assert.equal(r.json.code, 'rate.limited');
      assert.equal(r.json.status, 429);
      const after = Number(r.headers['retry-after']);
      assert.ok(Number.isInteger(after) && after >= 1 && after <= 60, `Retry-After: ${r.headers['retry-after']}`);
      assert.equal(r.json.retryAfterSeconds, after);
      // A refused write is refused before it is read: nothing recorded.
      const seq = head(t);
      assert.equal((await call(t.app, 'POST', '/v1/vms', { name: 'late' })).status, 429);
      assert.equal(head(t), seq);
      assert.equal(rows(t).vms, 0);
      for (let i = 0; i < 5; i++) {
        assert.equal((await call(t.app, 'GET', '/livez')).status, 200);
        assert.equal((await call(t.app, 'GET', '/readyz')).status, 200);
      }
      // Each token has its own budget: keyed by a hash of the Authorization header.
      const other = { authorization: `Bearer ${insertToken(t.store, 'other', 'operator')}` };
      for (let i = 0; i < 3; i++) assert.equal((await call(t.app, 'GET', '/v1/vms', undefined, other)).status, 200);
      assert.equal((await call(t.app, 'GET', '/v1/vms', undefined, other)).status, 429);
    });
  });

  test('timeouts reach the HTTP server; a limit of 0 turns the rate limiter off', async () => {
    await withApp(kind, { limits: { rateLimitPerMinute: 0, headersTimeoutMs: 1234, requestTimeoutMs: 5678, connectionTimeoutMs: 9012 } }, async (t) => {
      assert.deepEqual([t.app.server.headersTimeout, t.app.server.requestTimeout, t.app.server.timeout], [1234, 5678, 9012]);
      for (let i = 0; i < 50; i++) assert.equal((await call(t.app, 'GET', '/v1/vms')).status, 200);
    });
  });

  test('a client that never finishes its headers, or its body, is answered 408 and cut off; no VM is created', async () => {
    await withApp(kind, { limits: { headersTimeoutMs: 200, requestTimeoutMs: 400 } }, async (t) => {
      await t.app.listen({ host: '127.0.0.1', port: 0 });
      const { port } = t.app.server.address() as AddressInfo;
      const seq = head(t);
      const slow = (text: string) => rawExchange(port, text);
      // Authenticated, so that only the timeout can end them (without a token the POST is a 401 before its body).
      const auth = `Authorization: Bearer ${t.token}\r\n`;
      for (const text of [`GET /v1/vms HTTP/1.1\r\nHost: x\r\n${auth}`,
        `POST /v1/vms HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"name":`]) {
        const got = await slow(text);
        assert.match(got, /^HTTP\/1\.1 408 /);
        assert.deepEqual(problemIn(got), { status: 408, code: 'request.timeout', type: 'urn:gmemd:problem:request.timeout' });
      }
      // The body that never came is refused like a malformed one: a denied event, no VM.
      assert.deepEqual(eventsAfter(t, seq), [{ action: 'vm.create', outcome: 'denied', errorCode: 'request.invalid' }]);
      assert.equal(rows(t).vms, 0);
    });
  });

  test('bytes that are not HTTP, and headers past the limit: 400 and 431 problem+json, the connection closed; nothing recorded', async () => {
    await withApp(kind, {}, async (t) => {
      await t.app.listen({ host: '127.0.0.1', port: 0 });
      const { port } = t.app.server.address() as AddressInfo;
      const seq = head(t);
      const exchange = (text: string) => rawExchange(port, text);
      const garbage = await exchange('HELLO THERE\r\n\r\n');
      assert.match(garbage, /^HTTP\/1\.1 400 /);
      assert.deepEqual(problemIn(garbage), { status: 400, code: 'request.invalid', type: 'urn:gmemd:problem:request.invalid' });
      // Node's parser allows 16 KiB of headers.
      const big = await exchange(`GET /v1/vms HTTP/1.1\r\nHost: x\r\nX-Pad: ${'a'.repeat(20_000)}\r\n\r\n`);
      assert.match(big, /^HTTP\/1\.1 431 /);
      assert.deepEqual(problemIn(big), { status: 431, code: 'request.headers_too_large', type: 'urn:gmemd:problem:request.headers_too_large' });
      assert.deepEqual(eventsAfter(t, seq), []);
    });
  });

  test('an Idempotency-Key reply is replayed until its TTL, then the key is a new request; prune deletes expired records', async () => {
    let now = Date.parse('2026-12-01T00:00:00Z');
    await withApp(kind, { now: () => now, limits: { idempotencyTtlSeconds: 3600 } }, async (t) => {
      const k = { 'idempotency-key': 'expiring-1' };
      const first = await call(t.app, 'POST', '/v1/vms', { name: 'idem' }, k);
      assert.equal(first.status, 201);
      now += 3599_000;
      const replay = await call(t.app, 'POST', '/v1/vms', { name: 'idem' }, k);
      assert.equal(replay.headers['idempotent-replayed'], 'true');
      assert.deepEqual(replay.json, first.json);
      now += 2000; // past the hour
      const fresh = await call(t.app, 'POST', '/v1/vms', { name: 'idem' }, k);
      assert.equal(fresh.headers['idempotent-replayed'], undefined);
      assert.equal(fresh.status, 409, 'decided anew: the VM of the first request holds the name');
      assert.equal(fresh.json.code, 'vm.name_taken');
      // The new reply replaced the expired one under the key.
      assert.equal((await call(t.app, 'POST', '/v1/vms', { name: 'idem' }, k)).headers['idempotent-replayed'], 'true');
      await call(t.app, 'POST', '/v1/vms', { name: 'idem-2' }, { 'idempotency-key': 'expiring-2' });
      const count = () => q(t, 'SELECT count(*) n FROM idempotency');
      assert.equal(count(), 2);
      assert.equal(t.store.idempotency.prune(), 0, 'nothing has expired yet');
      now += 3601_000;
      assert.equal(t.store.idempotency.prune(), 2);
      assert.equal(count(), 0);
    });
  });

  test('the host scan stops at its deadline and says so; without one it reads every process', async () => {
    // A clock that moves 1 s on every reading: the scan's deadline passes after two processes.
    let now = Date.parse('2026-12-01T00:00:00Z');
    const tick = () => (now += 1000);
    await withApp(kind, { now: tick, limits: { hostScanDeadlineMs: 2500 } }, async (t) => {
      const r = await call(t.app, 'GET', '/v1/host/scan');
      assert.equal(r.status, 200);
      assert.equal(r.json.truncated, true);
      assert.equal(r.json.deadlineMs, 2500);
      assert.equal(r.json.scanned + r.json.unreadable, 2);
      assert.ok(r.json.skipped > 0);
    });
    await withApp(kind, {}, async (t) => {
      const r = await call(t.app, 'GET', '/v1/host/scan');
      assert.equal(r.json.truncated, false);
      assert.equal(r.json.skipped, 0);
      assert.ok(r.json.scanned > 2);
    });
  });

  test('the memslot sweep stops at its deadline and the reconcile report says so', async () => {
    let now = Date.parse('2026-12-01T00:00:00Z');
    let step = 0;
    await withApp(kind, { now: () => (now += step), limits: { memslotSweepDeadlineMs: 1500 } }, async (t) => {
      assert.equal((await call(t.app, 'POST', '/v1/vms', { name: 'swept' })).status, 201);
      const plain = await call(t.app, 'POST', '/v1/reconcile', { sweepSlots: true });
      assert.equal(plain.status, 200);
      assert.equal(plain.json.sweepTruncated, false, 'a still clock: the sweep finishes');
      step = 1000; // each look at the clock: 1 s later
      const cut = await call(t.app, 'POST', '/v1/reconcile', { sweepSlots: true });
      assert.equal(cut.status, 200);
      assert.equal(cut.json.sweepTruncated, true);
      const without = await call(t.app, 'POST', '/v1/reconcile', {});
      assert.equal(without.json.sweepTruncated, false);
    });
  });
});
