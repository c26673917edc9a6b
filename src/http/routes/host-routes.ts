import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { hostInfo } from '../../services/host-service.js';
import { problems, ref } from '../schemas/common.js';
import { Health, Host } from '../schemas/host-schemas.js';
import { respond, sendProblem } from '../problem.js';
import { startupJson } from '../reconcile-wire.js';

const hostRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx, service, ready, lifecycle } = app.gmemd;

  app.get('/v1/host', {
    schema: { operationId: 'getHost', tags: ['host'], summary: 'Backend, kernel capabilities, limits and service info',
      response: { 200: ref(Host), ...problems(503) } },
  }, async (req, reply) => respond(req, reply, hostInfo(ctx), (h) => ({
    // A host that fell back to the simulator holds no guest memory: the operator must see why.
    ...h, backendNote: service.backendNote ?? `${h.backend} backend`,
    service: { version: service.version, pid: process.pid, startedAt: new Date(service.startedAt).toISOString(), db: service.dbPath },
    ...(lifecycle.startup ? { reconcile: startupJson(lifecycle.startup) } : {}),
  })));

  app.get('/livez', {
    schema: { operationId: 'getLivez', tags: ['host'], summary: 'The process is up', response: { 200: ref(Health) } },
  }, async () => ({ status: 'ok' }));

  app.get('/readyz', {
    schema: { operationId: 'getReadyz', tags: ['host'], summary: 'Ready for requests: ledger open, not handing over',
      response: { 200: ref(Health), ...problems(503) } },
  }, async (req, reply) => {
    if (!ready() || !ctx.store.ledger.sqlite.open) {
      return sendProblem(req, reply, { code: 'service.unavailable', message: 'gmemd is not ready (starting, handing over or closing)' });
    }
    return { status: 'ready' };
  });
};

export default hostRoutes;
