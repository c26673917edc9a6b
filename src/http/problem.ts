// RFC 9457 problem+json: every error leaves the API in this shape, with a stable `code`,
// plus `errno` and `operation` when the kernel refused.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { DomainError, Result } from '../domain/result.js';
import { RETRYABLE, statusFor } from './error-registry.js';

/** The problem for `e`; `where` is the request's URL and id, absent when there is no request yet (client-errors.ts). */
export function problemOf(e: DomainError, status = statusFor(e.code), where?: { instance: string; requestId: string }) {
  return {
    type: `urn:gmemd:problem:${e.code}`,
    title: e.code,
    status,
    detail: e.message,
    code: e.code,
    ...where,
    ...(RETRYABLE.has(e.code) ? { retryable: true } : {}),
    ...e.details,
  };
}

export function problemBody(req: FastifyRequest, e: DomainError, status = statusFor(e.code)) {
  return problemOf(e, status, { instance: req.url, requestId: req.id });
}

export function sendProblem(req: FastifyRequest, reply: FastifyReply, e: DomainError, status = statusFor(e.code)) {
  if (RETRYABLE.has(e.code)) reply.header('retry-after', '1');
  return reply.code(status).type('application/problem+json').send(problemBody(req, e, status));
}

/** Sends a use case's result: the mapped value with `status`, or its problem. */
export function respond<T, J>(req: FastifyRequest, reply: FastifyReply, r: Result<T>, map: (v: T) => J, status = 200) {
  if (!r.ok) return sendProblem(req, reply, r.error);
  return reply.code(status).send(map(r.value));
}
