// limit/cursor handling shared by every list route.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { decodeCursor, DEFAULT_LIMIT } from '../../store/pagination.js';
import { sendProblem } from '../problem.js';

export function listArgs(req: FastifyRequest, reply: FastifyReply, q: { limit?: number; cursor?: string }):
  { after?: string; limit: number } | null {
  const after = decodeCursor(q.cursor);
  if (after === null) {
    sendProblem(req, reply, { code: 'request.invalid', message: 'cursor is not one this service issued' });
    return null;
  }
  return { after, limit: q.limit ?? DEFAULT_LIMIT };
}
