// The caller of a request: `local` until authentication exists, then the token's principal.
import type { FastifyRequest } from 'fastify';
import type { Caller } from '../services/context.js';

export function callerOf(req: FastifyRequest): Caller {
  return { actor: 'local', requestId: req.id };
}
