import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ok } from '../../domain/result.js';
import { runReconcile } from '../../reconcile/run.js';
import { hostScan } from '../../reconcile/host-scan.js';
import { example, problems, ref } from '../schemas/common.js';
import { HostScan, ReconcileReport, ReconcileRequest } from '../schemas/reconcile-schemas.js';
import { hostScanJson, reconcileJson } from '../reconcile-wire.js';
import { respond } from '../problem.js';
import { callerOf } from '../caller.js';

const reconcileRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx, lifecycle } = app.gmemd;

  app.post('/v1/reconcile', {
    config: { action: 'reconcile.drift' },
    schema: { operationId: 'reconcile', tags: ['reconcile'],
      summary: 'Compare every ledger VM, inode, file and memslot with the kernel; with repair, make them agree',
      description: 'Each difference is a reconcile.drift event, each repair a reconcile.repair event. Also returns the start-up reconcile report.',
      body: example(ref(ReconcileRequest), { repair: false }), response: { 200: ref(ReconcileReport), ...problems(400, 503) } },
  }, async (req, reply) => respond(req, reply, ok(await runReconcile(ctx, callerOf(req), req.body)), (r) => reconcileJson(r, lifecycle.startup)));

  app.get('/v1/host/scan', {
    schema: { operationId: 'scanHost', tags: ['reconcile'],
      summary: 'kvm-vm and kvm-gmem fds and guest_memfd mappings of every process, from /proc, marking those gmemd does not track',
      response: { 200: ref(HostScan), ...problems(503) } },
  }, async (req, reply) => respond(req, reply, ok(hostScan(ctx)), hostScanJson));
};

export default reconcileRoutes;
