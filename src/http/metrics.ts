// GET /metrics: Prometheus text from a registry owned by this app (tests build many apps in
// one process, so nothing goes to prom-client's global registry). Request counts and
// latencies by route, process metrics, and ledger gauges read at scrape time.
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ServiceContext } from '../services/context.js';

export function registerMetrics(app: FastifyInstance, ctx: ServiceContext) {
  const register = new Registry();
  collectDefaultMetrics({ register, prefix: 'gmemd_' });
  const requests = new Counter({ name: 'gmemd_http_requests_total', help: 'HTTP requests by route, method and status',
    labelNames: ['route', 'method', 'status'], registers: [register] });
  const latency = new Histogram({ name: 'gmemd_http_request_duration_seconds', help: 'HTTP request latency by route',
    labelNames: ['route', 'method'], buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers: [register] });
  const { sqlite } = ctx.store.ledger;
  const count = (sql: string) => sqlite.prepare(sql).pluck();
  const ledgerGauges: [string, string, () => number][] = [
    ['gmemd_vms_active', 'VMs in state active', () => count("SELECT count(*) FROM vms WHERE state = 'active'").get() as number],
    ['gmemd_inodes_live', 'Inodes in state live', () => count("SELECT count(*) FROM inodes WHERE state = 'live'").get() as number],
    ['gmemd_inode_bytes_live', 'Bytes of guest memory in live inodes', () => ctx.store.inodes.liveBytes()],
    ['gmemd_bindings_active', 'Active memslots', () => count("SELECT count(*) FROM bindings WHERE state = 'active'").get() as number],
    ['gmemd_audit_head_seq', 'Sequence number of the newest audit event', () => ctx.store.chain.getHead().seq],
    ['gmemd_kernel_fds_held', 'VM and guest_memfd fds this process holds', () => ctx.registry.vms.size + ctx.registry.gmems.size],
  ];
  for (const [name, help, read] of ledgerGauges) {
    new Gauge({ name, help, registers: [register], collect() { if (sqlite.open) this.set(read()); } });
  }

  // Label children cached per (route, method[, status]): prom-client hashes a label object
  // on every inc/observe otherwise. Callback style: no promise per request.
  const counters = new Map<string, { inc(): void }>();
  const timers = new Map<string, { observe(v: number): void }>();
  app.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url ?? 'unmatched';
    const rm = `${req.method} ${route}`;
    const rms = `${rm} ${reply.statusCode}`;
    let c = counters.get(rms);
    if (!c) counters.set(rms, c = requests.labels({ route, method: req.method, status: String(reply.statusCode) }));
    let h = timers.get(rm);
    if (!h) timers.set(rm, h = latency.labels({ route, method: req.method }));
    c.inc();
    h.observe(reply.elapsedTime / 1000);
    done();
  });

  app.get('/metrics', {
    schema: { operationId: 'getMetrics', tags: ['host'], summary: 'Prometheus metrics (text exposition format)',
      response: { 200: { description: 'Prometheus text', content: { 'text/plain': { schema: { type: 'string' } } } } } },
  }, async (_req, reply) => reply.type(register.contentType).send(await register.metrics()));
}
