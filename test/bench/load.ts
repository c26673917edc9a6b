// autocannon, run in this (the parent) process against a server child. autocannon's own
// latency histogram has 1 ms resolution (hdr-histogram, lowest value 1), which turns a
// hello-world p50 into "0", so the 'response' event's hrtime-based duration is also
// collected here and the percentiles are computed from those raw samples.
import autocannon from 'autocannon';
import { Samples } from './stats.js';

export interface LoadResult {
  /** Seconds autocannon ran (its own measure, 10 ms resolution). */
  seconds: number;
  ok2xx: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** 2xx responses per second. */
  reqPerSec: number;
  /** Per request, from the raw samples (ms, µs resolution). */
  latencyMs: { p50: number; p99: number } | null;
  /** autocannon's own figures (ms, 1 ms resolution), kept for comparison. */
  autocannonLatencyMs: { p50: number; p99: number };
}

export interface LoadOptions {
  url: string;
  seconds: number;
  connections: number;
  method?: 'GET' | 'POST';
  body?: string;
  requests?: autocannon.Request[];
  headers?: Record<string, string>;
}

export function runLoad(o: LoadOptions): Promise<LoadResult> {
  const samples = new Samples();
  return new Promise((resolve, reject) => {
    // Keys left undefined would override autocannon's defaults (method: undefined throws).
    const opts: autocannon.Options = { url: o.url, connections: o.connections, duration: o.seconds };
    if (o.method) opts.method = o.method;
    if (o.body) Object.assign(opts, { body: o.body, headers: { 'content-type': 'application/json' } });
    if (o.headers) opts.headers = { ...opts.headers, ...o.headers };
    if (o.requests) opts.requests = o.requests;
    const inst = autocannon(opts, (err, r) => {
      if (err) return reject(err);
      resolve({
        seconds: r.duration, ok2xx: r['2xx'], non2xx: r.non2xx, errors: r.errors, timeouts: r.timeouts,
        reqPerSec: r['2xx'] / r.duration,
        latencyMs: samples.percentiles(),
        autocannonLatencyMs: { p50: r.latency.p50, p99: r.latency.p99 },
      });
    });
    inst.on('response', (_client, status, _bytes, ms) => {
      if (status >= 200 && status < 300) samples.push(ms);
    });
  });
}
