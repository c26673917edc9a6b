// Per-token rate limit (@fastify/rate-limit, a fixed one-minute window in memory): each
// bearer token has its own budget, keyed by a hash of the Authorization header so no secret
// is kept; a request without one counts against its client address. Over the budget: 429
// problem+json `rate.limited` with Retry-After (seconds to the window's end). /livez and
// /readyz are never limited: supervisors poll them. GMEMD_RATE_LIMIT_PER_MINUTE=0 turns it off.
import rateLimit from '@fastify/rate-limit';
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { DomainError } from '../domain/result.js';

const EXEMPT = new Set(['/livez', '/readyz']);

export function rateLimitKey(req: FastifyRequest): string {
  const auth = req.headers.authorization;
  if (typeof auth === 'string' && auth.length > 0) return `token:${createHash('sha256').update(auth).digest('base64url').slice(0, 22)}`;
  // A Unix-socket client has no address: all of them share one budget.
  return `addr:${req.ip ?? 'unix'}`;
}

/** An error the error handler sends as this problem (error-handling.ts). */
export interface ProblemError extends Error { statusCode: number; problem: DomainError }

export async function registerRateLimit(app: FastifyInstance, perMinute: number): Promise<void> {
  if (perMinute === 0) return;
  await app.register(rateLimit, {
    global: true,
    max: perMinute,
    timeWindow: 60_000,
    keyGenerator: rateLimitKey,
    allowList: (req) => EXEMPT.has(req.routeOptions.url ?? ''),
    errorResponseBuilder: (_req, c): ProblemError => Object.assign(new Error(`rate limit exceeded: ${c.max} requests per minute; retry in ${c.after}`), {
      statusCode: c.statusCode,
      problem: { code: 'rate.limited' as const, message: `more than ${c.max} requests in a minute; retry in ${c.after}`,
        details: { limit: c.max, retryAfterSeconds: Math.ceil(c.ttl / 1000), retryable: true } },
    }),
  });
}
