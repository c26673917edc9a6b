// The caller of a request: the token that authenticated it (`token:<name>`), with the
// request id. Public routes change nothing, so an unauthenticated caller records nothing.
import type { FastifyRequest } from 'fastify';
import type { Caller } from '../services/context.js';

export const actorOf = (tokenName: string) => `token:${tokenName}`;

export function callerOf(req: FastifyRequest): Caller {
  return { actor: req.principal ? actorOf(req.principal.name) : 'anonymous', requestId: req.id };
}
