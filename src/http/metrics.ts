// GET /metrics: Prometheus text from a registry owned by this app (tests build many apps in
// one process, so nothing goes to prom-client's global registry). What an operator graphs:
// VMs by state, live inodes and their bytes (shareable and private), bytes reachable by more
// than one VM, memslots by kind, kernel errors by operation and errno, audit events by
// outcome, commit batch sizes, the WAL and its checkpoints, request counts and durations by
// route and status (request-metrics.ts), process metrics. Ledger figures are read at scrape time (collect
// callbacks) through MetricsRepo.
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ServiceContext } from '../services/context.js';
import { METRIC_LABELS, MetricsRepo, observeCommitBatches } from '../store/metrics-repo.js';
import type { WalStats } from '../store/wal-checkpointer.js';

/** The app's registry: request metrics (request-metrics.ts) go in first, the rest here. */
export function registerMetrics(app: FastifyInstance, ctx: ServiceContext, register: Registry, wal?: Readonly<WalStats>) {
  const registers = [register];
  collectDefaultMetrics({ register, prefix: 'gmemd_' });
  const repo = new MetricsRepo(ctx.store.ledger.sqlite);
  const live = () => repo.open;

  new Gauge({ name: 'gmemd_vms', help: 'VMs in the ledger by state', labelNames: ['state'], registers, collect() {
    if (!live()) return;
    const by = new Map(repo.vms().map((r) => [r.state, r.n]));
    for (const state of METRIC_LABELS.vmStates) this.set({ state }, by.get(state) ?? 0);
  } });
  const inodeRows = () => {
    const by = new Map(repo.inodes().map((r) => [r.shareable, r]));
    return [true, false].map((shareable) => ({ shareable: String(shareable), n: by.get(shareable)?.n ?? 0, bytes: by.get(shareable)?.bytes ?? 0 }));
  };
  new Gauge({ name: 'gmemd_inodes_live', help: 'Live inodes (guest_memfds), shareable or private', labelNames: ['shareable'], registers, collect() {
    if (live()) for (const r of inodeRows()) this.set({ shareable: r.shareable }, r.n);
  } });
  new Gauge({ name: 'gmemd_inode_bytes_live', help: 'Bytes of guest memory in live inodes, shareable or private', labelNames: ['shareable'], registers, collect() {
    if (live()) for (const r of inodeRows()) this.set({ shareable: r.shareable }, r.bytes);
  } });
  new Gauge({ name: 'gmemd_inode_bytes_multi_vm', help: 'Bytes of live inodes that more than one VM has a file on', registers, collect() {
    if (live()) this.set(repo.multiVmBytes());
  } });
  new Gauge({ name: 'gmemd_bindings_active', help: 'Active memslots by kind (gmem: KVM_MEM_GUEST_MEMFD; view: over gmemd\'s mapping)', labelNames: ['kind'], registers, collect() {
    if (!live()) return;
    const by = new Map(repo.bindings().map((r) => [r.kind, r.n]));
    for (const kind of METRIC_LABELS.bindingKinds) this.set({ kind }, by.get(kind) ?? 0);
  } });
  new Gauge({ name: 'gmemd_audit_head_seq', help: 'Sequence number of the newest audit event', registers, collect() {
    if (live()) this.set(ctx.store.chain.getHead().seq);
  } });
  new Gauge({ name: 'gmemd_kernel_fds_held', help: 'VM and guest_memfd fds this process holds', registers, collect() {
    this.set(ctx.registry.vms.size + ctx.registry.gmems.size);
  } });

  if (wal) registerWalMetrics(registers, wal);

  // Both counters advance from the same incremental read of the ledger: every kernel refusal
  // is audited with its operation and errno, so the chain is the one source for both.
  // advance() runs in the first counter's collect: prom-client collects metrics in registration order.
  const auditEvents: Counter<'outcome'> = new Counter({ name: 'gmemd_audit_events_total', help: 'Audit events in the ledger by outcome',
    labelNames: ['outcome'], registers, collect: () => advance() });
  const kernelErrors = new Counter({ name: 'gmemd_kernel_errors_total', help: 'Kernel refusals recorded in the ledger, by operation and errno',
    labelNames: ['operation', 'errno'], registers });
  for (const outcome of METRIC_LABELS.outcomes) auditEvents.inc({ outcome }, 0);
  let seenSeq = 0;
  const advance = () => {
    if (!live()) return;
    const { head, counts } = repo.eventsSince(seenSeq);
    seenSeq = head;
    for (const c of counts) {
      auditEvents.inc({ outcome: c.outcome }, c.n);
      if (c.errno !== null) kernelErrors.inc({ operation: c.operation ?? 'unknown', errno: c.errno }, c.n);
    }
  };

  const batches = new Histogram({ name: 'gmemd_commit_batch_size', help: 'Units of work per committed SQLite transaction (one fsync)',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128], registers });
  const unobserve = observeCommitBatches(ctx.store.ledger.sqlite, (n) => batches.observe(n));
  app.addHook('onClose', async () => unobserve());

  app.get('/metrics', {
    schema: { operationId: 'getMetrics', tags: ['host'], summary: 'Prometheus metrics (text exposition format)',
      response: { 200: { description: 'Prometheus text', content: { 'text/plain': { schema: { type: 'string' } } } } } },
  }, async (_req, reply) => reply.type(register.contentType).send(await register.metrics()));
}

/** The WAL checkpointer's counts (src/store/wal-checkpointer.ts): that the WAL stays bounded is something to alert on. */
function registerWalMetrics(registers: Registry[], wal: Readonly<WalStats>) {
  new Gauge({ name: 'gmemd_wal_frames', help: 'Frames in the WAL at the checkpointer\'s last report (a frame is one page)', registers, collect() {
    this.set(wal.lastLogFrames);
  } });
  // prom-client counters only go up by inc(): each collect adds what the stats gained since the last.
  const counted = (name: string, help: string, read: () => number) => {
    let seen = 0;
    new Counter({ name, help, registers, collect() { const now = read(); this.inc(now - seen); seen = now; } });
  };
  counted('gmemd_wal_checkpoints_total', 'PASSIVE checkpoints run by the checkpointer thread', () => wal.checkpoints);
  counted('gmemd_wal_restarts_total', 'RESTART checkpoints run by the writer so that the WAL starts over', () => wal.restarts);
  counted('gmemd_wal_restarts_refused_total', 'RESTARTs the writer gave up because its connection was busy', () => wal.restartsRefused);
  counted('gmemd_wal_fallbacks_total', 'Times the writer\'s own checkpoints came back because the WAL backed up', () => wal.fallbacks);
}
