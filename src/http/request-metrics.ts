// Request counts and durations by route, method and status: gmemd_http_requests_total and
// gmemd_http_request_duration_seconds. They are kept here, in plain numbers per label set,
// and handed to prom-client's registry (which formats them with every other metric) when
// /metrics is scraped. Two measured costs decided this (test/bench/ab-read.ts, alternating
// rounds, GET /v1/inodes/{id} against a bare Fastify GET, Node 20):
// - prom-client hashes the label values into a string on every inc() and observe(), even
//   through a labels() child: the two calls took the read from 0.58x to 0.47x;
// - an onResponse hook makes Fastify put 'finish' and 'error' listeners on every response,
//   so the observation is made in the app's one onSend hook (app.ts), from a time stamped by
//   the first onRequest hook: a duration runs until the answer is handed to the socket.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Metric, Registry } from 'prom-client';

const REQUESTS = 'gmemd_http_requests_total';
const DURATION = 'gmemd_http_request_duration_seconds';
/** Upper bounds of the duration buckets, in seconds. */
export const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1] as const;

interface LabelSet { route: string; method: string; status: string }
class Tally {
  count = 0;
  sum = 0;
  /** Per bucket, not cumulative; a duration past the last bound is only in count (le="+Inf"). */
  readonly buckets = new Float64Array(DURATION_BUCKETS.length);
  constructor(readonly labels: LabelSet) {}
}

/** A metric prom-client's Registry can hold: it reads name, help and type, and calls get(). */
function metric(name: string, help: string, type: 'counter' | 'histogram', values: () => object[], reset: () => void): Metric {
  const m = { name, help, type, aggregator: 'sum' as const, reset,
    get: async () => ({ name: m.name, help, type, aggregator: m.aggregator, values: values() }) };
  return m as unknown as Metric;
}

/** Registers both metrics in `register` and returns the observation for the app's onSend hook. */
export function requestMetrics(app: FastifyInstance, register: Registry): (req: FastifyRequest, reply: FastifyReply) => void {
  const tallies = new Map<string, Tally>();
  const reset = () => tallies.clear();
  register.registerMetric(metric(REQUESTS, 'HTTP requests by route, method and status', 'counter',
    () => [...tallies.values()].map((t) => ({ labels: t.labels, value: t.count })), reset));
  register.registerMetric(metric(DURATION, 'HTTP request duration by route, method and status, until the answer is handed to the socket', 'histogram',
    () => [...tallies.values()].flatMap((t) => {
      let acc = 0;
      const bucket = (le: number | string, value: number) => ({ labels: { le }, sharedLabels: t.labels, value, metricName: `${DURATION}_bucket` });
      return [...DURATION_BUCKETS.map((le, i) => bucket(le, acc += t.buckets[i]!)), bucket('+Inf', t.count),
        { labels: t.labels, value: t.sum, metricName: `${DURATION}_sum` }, { labels: t.labels, value: t.count, metricName: `${DURATION}_count` }];
    }), reset));

  app.decorateRequest('receivedAt', 0);
  // Registered before every other hook, so a request refused by one (401, 429) is timed too.
  app.addHook('onRequest', (req, _reply, done) => {
    req.receivedAt = performance.now();
    done();
  });
  return (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    const key = `${req.method} ${route} ${reply.statusCode}`;
    let t = tallies.get(key);
    if (!t) tallies.set(key, t = new Tally({ route, method: req.method, status: String(reply.statusCode) }));
    // An answer sent before the onRequest hooks ran would have no stamp (none is known: Fastify's
    // own 400 for a malformed URL bypasses onSend too); it would count as 0 s, not as the uptime.
    const seconds = req.receivedAt > 0 ? (performance.now() - req.receivedAt) / 1000 : 0;
    t.count += 1;
    t.sum += seconds;
    let i = 0;
    while (i < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[i]!) i++;
    if (i < DURATION_BUCKETS.length) t.buckets[i]! += 1;
  };
}

declare module 'fastify' {
  interface FastifyRequest {
    /** performance.now() when the request's first onRequest hook ran (request-metrics.ts). */
    receivedAt: number;
  }
}
