// Everything that goes wrong becomes problem+json. A request refused by schema validation
// on a mutating route is audited as denied under the route's action (it changes nothing
// else); unexpected errors are logged and answered 500 without internals.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sendProblem } from './problem.js';
import { callerOf } from './caller.js';
import { deny } from '../services/pipeline/run.js';
import type { ProblemError } from './rate-limit.js';

export function registerErrorHandling(app: FastifyInstance) {
  app.setNotFoundHandler((req, reply) =>
    sendProblem(req, reply, { code: 'request.route_not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` }));

  app.setErrorHandler((error: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    const status = error.statusCode ?? 500;
    // A refusal a plugin raised with its own problem (the rate limiter's 429, rate-limit.ts).
    const own = (error as Partial<ProblemError>).problem;
    if (own && status < 500) return sendProblem(req, reply, own, status);
    if (status < 500) {
      const message = error.validation ? `${error.validationContext ?? 'request'}${error.message.replace(/^(body|querystring|params|headers)/, '')}` : error.message;
      const action = req.routeOptions.config?.action;
      if (action) {
        // Audited through the runner, like every refusal; the problem below is the reply.
        return deny(app.gmemd.ctx, callerOf(req), action, {}, { code: 'request.invalid', message, details: { params: req.params as Record<string, unknown> } })
          .then(() => sendProblem(req, reply, { code: 'request.invalid', message, details: error.code ? { fastifyCode: error.code } : undefined }, status));
      }
      return sendProblem(req, reply, { code: 'request.invalid', message, details: error.code ? { fastifyCode: error.code } : undefined }, status);
    }
    req.log.error({ err: error }, 'unhandled error');
    return sendProblem(req, reply, { code: 'internal.error', message: 'internal error; see the service log for this request id' });
  });
}
