// While a handover runs, this process must not change ledger or kernel: its successor is
// taking both over (and both append to one audit chain). Mutating requests get a retryable
// 503 handover.in_progress with Retry-After; reads are still served. Every answer during a
// handover carries Connection: close, so clients reconnect and land on the successor.
// The gate is checked when the request arrives, and on every route that is not a read again
// once its body has been read (preValidation: a body refused by validation is audited, a
// ledger write too) and right before the handler (preHandler), so a write whose body
// trickles in while a handover starts cannot reach the ledger after the successor has begun
// adopting.
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { sendProblem } from './problem.js';
import { hooksOf } from './route-hooks.js';

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function registerHandoverGate(app: FastifyInstance) {
  const { lifecycle } = app.gmemd;
  // Callback style: this runs on every request, and almost always has nothing to do.
  const gate = (req: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
    // Connection: close is set on every answer sent during a handover (closeDuringHandover).
    if (!lifecycle.handover?.inProgress() || READS.has(req.method)) return done();
    sendProblem(req, reply, { code: 'handover.in_progress', message: 'gmemd is handing guest memory to its successor; retry shortly' });
  };
  app.addHook('onRequest', gate);
  // The checks after the body is read only where a body can change something: the routes
  // that are not reads, first among their hooks. A read is served during a handover anyway,
  // and its answer's Connection: close is set when it is sent (closeDuringHandover, in the
  // app's onSend), so one whose handover began after it arrived still tells its client.
  app.addHook('onRoute', (route) => {
    if ([route.method].flat().every((m) => READS.has(m))) return;
    route.preValidation = [gate, ...hooksOf(route.preValidation)] as typeof route.preValidation;
    route.preHandler = [gate, ...hooksOf(route.preHandler)] as typeof route.preHandler;
  });
}

/** Sets Connection: close on an answer sent while a handover runs (the app's onSend hook). */
export function closeDuringHandover(app: FastifyInstance): (reply: FastifyReply) => void {
  const { lifecycle } = app.gmemd;
  return (reply) => { if (lifecycle.handover?.inProgress()) reply.header('connection', 'close'); };
}
