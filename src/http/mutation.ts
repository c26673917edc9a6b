// A mutating route's one call: the use case runs with a caller whose reply slot (set when
// the request has an Idempotency-Key) lets the runner render and store the reply in the
// same transaction as the change; the route then sends exactly the stored bytes. So a crash
// after the commit and a replay with the key find the reply the first request would have had.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Result } from '../domain/result.js';
import type { Caller, RenderedReply, ReplySlot } from '../services/context.js';
import { callerOf } from './caller.js';
import { idempotencyOf, markStored } from './idempotency.js';
import { problemBody, respond } from './problem.js';
import { RETRYABLE, statusFor } from './error-registry.js';

function send(reply: FastifyReply, r: RenderedReply) {
  const type = r.status >= 400 ? 'application/problem+json' : 'application/json';
  return reply.code(r.status).type(type).serializer((p: unknown) => p as string).send(r.body);
}

export async function mutate<T, J>(req: FastifyRequest, reply: FastifyReply, use: (caller: Caller) => Promise<Result<T>>,
  map: (v: T) => J, status = 200) {
  const base = callerOf(req);
  const idem = idempotencyOf(req);
  const slot: ReplySlot | undefined = idem && {
    ...idem,
    // Runs inside the transaction: the same body the response schema's serializer would send.
    render: (r: Result<unknown>) => {
      const st = r.ok ? status : statusFor(r.error.code);
      const payload = r.ok ? map(r.value as T) : problemBody(req, r.error, st);
      reply.code(st);
      // A problem's response schema is registered under its content type, which reply.serialize
      // cannot pass (it found a map, not a function: a 500 for every refusal under a key).
      // Problem allows any member, so plain JSON is what its serializer would send.
      return { status: st, body: r.ok ? String(reply.serialize(payload)) : JSON.stringify(payload) };
    },
  };
  const caller: Caller = slot ? { ...base, reply: slot } : base;
  const r = await use(caller);
  if (slot?.rendered) {
    markStored(req);
    if (!r.ok && RETRYABLE.has(r.error.code)) reply.header('retry-after', '1');
    return send(reply, slot.rendered);
  }
  return respond(req, reply, r, map, status);
}
