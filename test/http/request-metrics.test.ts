// gmemd_http_requests_total and gmemd_http_request_duration_seconds, kept by gmemd and
// formatted by prom-client's registry: the exposition a Prometheus server parses, with the
// counts the requests imply, cumulative buckets, and requests refused by a hook counted too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Histogram, Registry } from 'prom-client';
import { DURATION_BUCKETS } from '../../src/http/request-metrics.js';
import { makeApp } from '../support/app.js';

const SERIES = 'route="/v1/vms",method="POST",status="201"';

/** Every sample of `name` (name, name_bucket, ...) whose labels include `labels`, in order. */
function samples(text: string, name: string, labels: string) {
  return text.split('\n').filter((l) => l.startsWith(name) && l.includes(labels)).map((l) => {
    const m = /^([a-z_]+)\{(.*)\} (\S+)$/.exec(l);
    assert.ok(m, `not a sample line: ${l}`);
    return { name: m[1]!, labels: m[2]!, value: Number(m[3]) };
  });
}

test('counts and durations by route, method and status, in the exposition format prom-client writes', async () => {
  const t = await makeApp('simulated');
  try {
    const t0 = performance.now();
    for (let i = 0; i < 3; i++) assert.equal((await t.app.inject({ method: 'POST', url: '/v1/vms', headers: t.headers, payload: { name: `rm-${i}` } })).statusCode, 201);
    const elapsed = (performance.now() - t0) / 1000;
    assert.equal((await t.app.inject({ method: 'GET', url: '/v1/vms' })).statusCode, 401, 'no token');
    const text = (await t.app.inject({ method: 'GET', url: '/metrics', headers: t.headers })).body;

    assert.match(text, /^# TYPE gmemd_http_requests_total counter$/m);
    assert.match(text, /^# TYPE gmemd_http_request_duration_seconds histogram$/m);
    assert.deepEqual(samples(text, 'gmemd_http_requests_total', SERIES).map((s) => s.value), [3]);
    const h = samples(text, 'gmemd_http_request_duration_seconds', SERIES);
    const buckets = h.filter((s) => s.name.endsWith('_bucket'));
    assert.deepEqual(buckets.map((s) => s.labels), [...DURATION_BUCKETS, '+Inf'].map((le) => `le="${le}",${SERIES}`));
    for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i]!.value >= buckets[i - 1]!.value, 'cumulative');
    assert.equal(buckets.at(-1)!.value, 3);
    const sum = h.find((s) => s.name.endsWith('_sum'))!.value;
    assert.ok(sum > 0 && sum <= elapsed, `sum ${sum} s within the ${elapsed} s the three took`);
    assert.equal(h.find((s) => s.name.endsWith('_count'))!.value, 3);
    // Refused by the auth hook, after the stamp: counted under its route with its status.
    assert.deepEqual(samples(text, 'gmemd_http_requests_total', 'route="/v1/vms",method="GET",status="401"').map((s) => s.value), [1]);

    // The same layout as prom-client's own Histogram for the same label set.
    const ref = new Registry();
    new Histogram({ name: 'gmemd_http_request_duration_seconds', help: 'x', labelNames: ['route', 'method', 'status'], buckets: [...DURATION_BUCKETS], registers: [ref] })
      .observe({ route: '/v1/vms', method: 'POST', status: '201' }, 0.002);
    const refLines = samples(await ref.metrics(), 'gmemd_http_request_duration_seconds', SERIES);
    assert.deepEqual(h.map((s) => [s.name, s.labels]), refLines.map((s) => [s.name, s.labels]));
  } finally {
    await t.close();
  }
});
