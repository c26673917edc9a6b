// Everything that goes wrong becomes problem+json. A request refused by schema validation
// on a mutating route is audited as denied under the route's action (it changes nothing
// else); unexpected errors are logged and answered 500 without internals.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sendProblem } from './problem.js';
import { callerOf } from './caller.js';

export function registerErrorHandling(app: FastifyInstance) {
  app.setNotFoundHandler((req, reply) =>
    sendProblem(req, reply, { code: 'request.route_not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` }));

  app.setErrorHandler((error: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    const status = error.statusCode ?? 500;
    if (status < 500) {
      const message = error.validation ? `${error.validationContext ?? 'request'}${error.message.replace(/^(body|querystring|params|headers)/, '')}` : error.message;
      const action = req.routeOptions.config?.action;
      if (action) {
        const { store } = app.gmemd.ctx;
        const caller = callerOf(req);
        store.uow.run(() => store.chain.append({
          action, outcome: 'denied', actor: caller.actor, requestId: caller.requestId, errorCode: 'request.invalid',
          details: { message, params: req.params as Record<string, unknown> },
        }));
      }
      return sendProblem(req, reply, { code: 'request.invalid', message, details: error.code ? { fastifyCode: error.code } : undefined }, status);
    }
    req.log.error({ err: error }, 'unhandled error');
    return sendProblem(req, reply, { code: 'internal.error', message: 'internal error; see the service log for this request id' });
  });
}
