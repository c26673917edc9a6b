// Idempotency-Key for mutating POSTs: a replay of the same request returns the first
// response; the same key on a different request is refused; a key whose first request is
// still being handled answers a retryable conflict.
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Store } from '../store/store.js';
import { sendProblem } from './problem.js';

const fingerprint = (req: FastifyRequest) =>
  createHash('sha256').update(req.method).update(req.routeOptions.url ?? req.url).update(req.url)
    .update(JSON.stringify(req.body ?? null)).digest('hex');

export function registerIdempotency(app: FastifyInstance, store: Store) {
  const inFlight = new Set<string>();
  const keyOf = (req: FastifyRequest) => {
    const k = req.headers['idempotency-key'];
    return req.method === 'POST' && typeof k === 'string' && k.length > 0 ? k : undefined;
  };

  app.addHook('preHandler', (req, reply, done) => {
    const key = keyOf(req);
    if (!key) return done();
    if (key.length > 255) {
      sendProblem(req, reply, { code: 'request.invalid', message: 'Idempotency-Key is longer than 255 characters' });
      return;
    }
    const stored = store.idempotency.get(key);
    if (stored) {
      if (stored.fingerprint !== fingerprint(req)) {
        sendProblem(req, reply, { code: 'request.idempotency_conflict', message: 'this Idempotency-Key was used for a different request' });
        return;
      }
      reply.header('idempotent-replayed', 'true');
      const type = stored.status >= 400 ? 'application/problem+json' : 'application/json';
      reply.code(stored.status).type(type).serializer((p: unknown) => p as string).send(stored.body);
      return;
    }
    if (inFlight.has(key)) {
      sendProblem(req, reply, { code: 'service.unavailable', message: 'a request with this Idempotency-Key is in progress' });
      return;
    }
    inFlight.add(key);
    done();
  });

  // Callback style: it runs on every response and almost always has nothing to do.
  app.addHook('onSend', (req, reply, payload, done) => {
    const key = keyOf(req);
    if (!key || !inFlight.has(key) || reply.getHeader('idempotent-replayed')) return done(null, payload);
    inFlight.delete(key);
    // Server errors are not stored: the client should be able to retry them.
    if (reply.statusCode < 500 && typeof payload === 'string') {
      store.idempotency.put(key, { fingerprint: fingerprint(req), status: reply.statusCode, body: payload });
    }
    done(null, payload);
  });
}
