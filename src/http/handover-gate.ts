// While a handover runs, this process must not change ledger or kernel: its successor is
// taking both over (and both append to one audit chain). Mutating requests get a retryable
// 503 handover.in_progress with Retry-After; reads are still served. Every answer during a
// handover carries Connection: close, so clients reconnect and land on the successor.
import type { FastifyInstance } from 'fastify';
import { sendProblem } from './problem.js';

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function registerHandoverGate(app: FastifyInstance) {
  const { lifecycle } = app.gmemd;
  // Callback style: this runs on every request, and almost always has nothing to do.
  app.addHook('onRequest', (req, reply, done) => {
    if (!lifecycle.handover?.inProgress()) return done();
    reply.header('connection', 'close');
    if (READS.has(req.method)) return done();
    sendProblem(req, reply, { code: 'handover.in_progress', message: 'gmemd is handing guest memory to its successor; retry shortly' });
  });
}
