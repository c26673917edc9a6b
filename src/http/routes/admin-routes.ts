import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { example, problems, ref } from '../schemas/common.js';
import { Handover, HandoverRequest } from '../schemas/reconcile-schemas.js';
import { respond, sendProblem } from '../problem.js';
import { callerOf } from '../caller.js';

const adminRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx, lifecycle } = app.gmemd;

  app.post('/v1/admin/handover', {
    config: { action: 'handover.start' },
    schema: { operationId: 'startHandover', tags: ['admin'],
      summary: 'Hand guest memory to a successor process (the code on disk now) and exit once it serves; also on SIGUSR2',
      description: 'The successor inherits every shareable guest_memfd, creates a fresh kernel VM per ledger VM and re-creates each memslot as a view. '
        + 'Private inodes cannot survive it (KVM ties a VM to its process): refused while any exist, unless force. '
        + 'While it runs, mutating requests get 503 handover.in_progress (retryable).',
      body: example(ref(HandoverRequest), { force: false }), response: { 200: ref(Handover), ...problems(400, 409, 500, 503) } },
  }, async (req, reply) => {
    if (!lifecycle.handover) {
      return sendProblem(req, reply, { code: 'handover.unavailable', message: 'this gmemd was not started as a server process (src/server.ts): nothing to hand over to' });
    }
    return respond(req, reply, await lifecycle.handover.start(callerOf(req), { force: req.body.force ?? false }), (h) => h);
  });

  if (!lifecycle.testHooks) return;
  // Test-only (GMEMD_TEST_HOOKS=1, never by default, never in the spec): change kernel state
  // behind gmemd's back, bypassing ledger and registry, so tests of reconcile have drift to find.
  app.post('/_test/kernel/delete-memslot', {
    config: { access: 'admin' },
    schema: { hide: true, body: Type.Object({ vmId: Type.String(), slot: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }) },
  }, async (req, reply) => {
    const fd = ctx.registry.vmFd(req.body.vmId);
    if (fd === undefined) return sendProblem(req, reply, { code: 'vm.not_found', message: `no kernel VM for ${req.body.vmId}` });
    const r = ctx.kvm.setUserMemoryRegion2(fd, { slot: req.body.slot, flags: 0, guestPhysAddr: 0n, memorySize: 0n, userspaceAddr: 0n, guestMemfd: 0, guestMemfdOffset: 0n });
    return r.ok ? { deleted: true } : reply.code(422).send({ errno: r.error.errno });
  });
};

export default adminRoutes;
