// Every request but a public one carries `Authorization: Bearer <secret>`. An onRequest
// hook (callback style: it runs on every request) resolves the secret to a live token with
// one indexed lookup, and checks the route's access class against the token's role.
// Missing or unknown token: 401 with WWW-Authenticate. Wrong role: 403, audited as denied
// under the route's action (a read: access.denied) with the token as actor.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { mayCall, type AccessClass, type Role } from '../../domain/roles.js';
import type { DomainError } from '../../domain/result.js';
import { hashSecret, sameHash } from '../../services/token-secrets.js';
import { deny } from '../../services/pipeline/run.js';
import { sendProblem } from '../problem.js';
import { callerOf } from '../caller.js';
import { accessOf } from './route-access.js';

export interface Principal { tokenId: string; name: string; role: Role }

/** Longer than any secret gmemd issues or accepts; a longer header is not looked up at all. */
const MAX_SECRET = 512;

function unauthorized(req: FastifyRequest, reply: FastifyReply, e: DomainError) {
  reply.header('www-authenticate', e.code === 'auth.invalid' ? 'Bearer error="invalid_token"' : 'Bearer');
  sendProblem(req, reply, e);
}

function bearerSecret(header: string): string | null {
  if (header.length < 8 || header.slice(0, 7).toLowerCase() !== 'bearer ') return null;
  const secret = header.slice(7).trim();
  return secret.length > 0 && secret.length <= MAX_SECRET ? secret : null;
}

export function registerAuth(app: FastifyInstance) {
  const { ctx, lifecycle } = app.gmemd;
  app.decorateRequest('principal', null);
  app.decorateRequest('ledgerVersion', null);

  // Every route gets its class when it is registered; an unclassified route is a bug found at start.
  app.addHook('onRoute', (route) => {
    const access = accessOf(route as Parameters<typeof accessOf>[0]);
    if (!access) throw new Error(`route ${String(route.method)} ${route.url} has no access class: add its operationId to src/http/auth/route-access.ts`);
    route.config = { ...route.config, access };
    // The document says so too: a public operation needs no credentials (the global security is bearer).
    // @fastify/swagger reads route schemas when the document is built, after every route is registered.
    if (access === 'public' && route.schema) (route.schema as { security?: unknown[] }).security ??= [];
  });

  app.addHook('onRequest', (req, reply, done) => {
    // Unmatched routes (404) need a token as reads do: no probing of the route table without one.
    const access: AccessClass = req.routeOptions.config?.access ?? 'read';
    if (access === 'public') return done();
    const header = req.headers.authorization;
    if (header === undefined) {
      return unauthorized(req, reply, { code: 'auth.required', message: 'this operation needs Authorization: Bearer <token>' });
    }
    const secret = bearerSecret(header);
    const hash = secret === null ? null : hashSecret(secret);
    // One read of the ledger's version per request: the token lookup and the read cache
    // (read-cache.ts) both answer as of it, the moment the request arrived.
    req.ledgerVersion = ctx.store.dataVersion();
    const token = hash === null ? undefined : ctx.store.tokens.live(hash, req.ledgerVersion);
    if (!token || !sameHash(token.secretHash, hash!)) {
      return unauthorized(req, reply, { code: 'auth.invalid', message: 'the bearer token is unknown, revoked or malformed' });
    }
    req.principal = { tokenId: token.id, name: token.name, role: token.role };
    if (mayCall(token.role, access)) return done();
    forbid(req, reply, access);
  });

  function forbid(req: FastifyRequest, reply: FastifyReply, access: AccessClass) {
    const p = req.principal!;
    const operation = (req.routeOptions.schema as { operationId?: string } | undefined)?.operationId ?? null;
    const e: DomainError = {
      code: 'auth.forbidden',
      message: `a token with role ${p.role} may not call ${operation ?? req.routeOptions.url}; it needs ${access} access`,
      details: { role: p.role, access, operation },
    };
    const send = () => { sendProblem(req, reply, e); };
    // During a handover the successor owns the ledger: the refusal is logged, not recorded.
    if (lifecycle.handover?.inProgress()) {
      req.log.warn({ token: p.name, operation }, 'forbidden during handover (not recorded)');
      return send();
    }
    const action = req.routeOptions.config?.action ?? 'access.denied';
    // The template, not the raw URL: the event says what was attempted, bounded in size.
    const details = { ...e.details, method: req.method, route: req.routeOptions.url ?? null };
    deny(ctx, callerOf(req), action, {}, { ...e, details }).then(send, (err: unknown) => {
      req.log.error({ err }, 'could not record a forbidden request');
      send();
    });
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The token that authenticated this request; null on public routes. */
    principal: Principal | null;
    /** Store#dataVersion when the request was authenticated (null on public routes). */
    ledgerVersion: string | null;
  }
  interface FastifyContextConfig {
    /** Who may call the route (src/domain/roles.ts); set for every route at registration. */
    access?: AccessClass;
  }
}
