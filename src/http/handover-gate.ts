// While a handover runs, this process must not change ledger or kernel: its successor is
// taking both over (and both append to one audit chain). Mutating requests get a retryable
// 503 handover.in_progress with Retry-After; reads are still served. Every answer during a
// handover carries Connection: close, so clients reconnect and land on the successor.
// The gate is checked twice: when the request arrives, and again once its body has been
// read (preValidation: a body refused by validation is audited, a ledger write too) and
// right before the handler (preHandler), so a write whose body trickles in while a handover
// starts cannot reach the ledger after the successor has begun adopting.
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { sendProblem } from './problem.js';

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function registerHandoverGate(app: FastifyInstance) {
  const { lifecycle } = app.gmemd;
  // Callback style: this runs on every request, and almost always has nothing to do.
  const gate = (req: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
    if (!lifecycle.handover?.inProgress()) return done();
    reply.header('connection', 'close');
    if (READS.has(req.method)) return done();
    sendProblem(req, reply, { code: 'handover.in_progress', message: 'gmemd is handing guest memory to its successor; retry shortly' });
  };
  app.addHook('onRequest', gate);
  app.addHook('preValidation', gate);
  app.addHook('preHandler', gate);
}
