// While a handover runs, this process must not change ledger or kernel: its successor is
// taking both over (and both append to one audit chain). Mutating requests get a retryable
// 503 handover.in_progress with Retry-After; reads are still served. Every answer during a
// handover carries Connection: close, so clients reconnect and land on the successor.
import type { FastifyInstance } from 'fastify';
import { sendProblem } from './problem.js';

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function registerHandoverGate(app: FastifyInstance) {
  app.addHook('onRequest', async (req, reply) => {
    const handover = app.gmemd.lifecycle.handover;
    if (!handover?.inProgress()) return;
    reply.header('connection', 'close');
    if (READS.has(req.method)) return;
    return sendProblem(req, reply, { code: 'handover.in_progress', message: 'gmemd is handing guest memory to its successor; retry shortly' });
  });
}
