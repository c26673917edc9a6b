// buildApp(deps) returns an un-listened Fastify instance: tests inject into it, the
// OpenAPI exporter reads its spec, and src/server.ts alone listens. Every route carries an
// operationId and TypeBox schemas that drive validation, types and the spec at once.
import Fastify, { type FastifyServerOptions } from 'fastify';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { ServerOptions as HttpsOptions } from 'node:https';
import type { AnySchema } from 'ajv';
import type { ServiceContext } from '../services/context.js';
import { Problem } from './schemas/common.js';
import { RESOURCE_SCHEMAS } from './schemas/resource-schemas.js';
import { HOST_SCHEMAS } from './schemas/host-schemas.js';
import { SHARING_SCHEMAS } from './schemas/sharing-schemas.js';
import { AUDIT_SCHEMAS } from './schemas/audit-schemas.js';
import { RECONCILE_SCHEMAS } from './schemas/reconcile-schemas.js';
import { TOKEN_SCHEMAS } from './schemas/token-schemas.js';
import { registerAuth } from './auth/authenticate.js';
import { IN_PROCESS_LIFECYCLE, type Lifecycle } from '../lifecycle/lifecycle.js';
import { closeDuringHandover, registerHandoverGate } from './handover-gate.js';
import { validatorCompiler } from './validation.js';
import { serializerCompiler } from './serialize.js';
import { LazyCompilers } from './lazy-compile.js';
import { registerIdempotency } from './idempotency.js';
import { registerErrorHandling } from './error-handling.js';
import { registerMetrics } from './metrics.js';
import { requestMetrics } from './request-metrics.js';
import { Registry } from 'prom-client';
import { registerDocs } from './docs.js';
import { registerRateLimit } from './rate-limit.js';
import { WIRE, type Limits } from '../domain/limits.js';
import { shapeDocument } from './openapi-shape.js';
import hostRoutes from './routes/host-routes.js';
import vmRoutes from './routes/vm-routes.js';
import inodeRoutes from './routes/inode-routes.js';
import fileRoutes from './routes/file-routes.js';
import bindingRoutes from './routes/binding-routes.js';
import sharingRoutes from './routes/sharing-routes.js';
import migrationRoutes from './routes/migration-routes.js';
import auditRoutes from './routes/audit-routes.js';
import reconcileRoutes from './routes/reconcile-routes.js';
import adminRoutes from './routes/admin-routes.js';
import tokenRoutes from './routes/token-routes.js';
import { clientErrorHandler } from './client-errors.js';
import { lazyChildLogger, logsRequests, RequestLogController } from './request-logging.js';
import type { WalStats } from '../store/wal-checkpointer.js';

/** `backendNote`: why this kernel backend (select-backend.ts's note), shown by GET /v1/host. */
export interface ServiceInfo { version: string; startedAt: number; dbPath: string; backendNote?: string }

export interface AppDeps {
  ctx: ServiceContext;
  logger?: FastifyServerOptions['logger'];
  service?: ServiceInfo;
  /** False while a handover is in progress or the service is closing: /readyz answers 503. */
  ready?: () => boolean;
  /** Start-up reconcile report, handover, test hooks: src/server.ts supplies them; in-process apps have none. */
  lifecycle?: Lifecycle;
  /** GMEMD_AUDIT_KEY: verify checks checkpoint MACs with it. */
  auditKey?: string | null;
  /** Rate limit and timeouts (GMEMD_*, src/server.ts); absent: those of ctx.limits. */
  http?: Pick<Limits, 'rateLimitPerMinute' | 'headersTimeoutMs' | 'requestTimeoutMs' | 'connectionTimeoutMs'>;
  /** TLS key and certificate (GMEMD_TLS_KEY, GMEMD_TLS_CERT): the server speaks HTTPS. */
  https?: Pick<HttpsOptions, 'key' | 'cert'> | null;
  /** The WAL checkpointer's counts, for /metrics; src/server.ts starts it. */
  wal?: Readonly<WalStats>;
}

export const NAMED_SCHEMAS = [Problem, ...RESOURCE_SCHEMAS, ...HOST_SCHEMAS, ...SHARING_SCHEMAS, ...AUDIT_SCHEMAS, ...RECONCILE_SCHEMAS, ...TOKEN_SCHEMAS];

export async function buildApp(deps: AppDeps) {
  const http = deps.http ?? deps.ctx.limits;
  const app = Fastify({
    logger: deps.logger ?? false,
    // The two routine lines per request only at debug and trace (request-logging.ts).
    logController: new RequestLogController(logsRequests(deps.logger)),
    childLoggerFactory: lazyChildLogger,
    ...(deps.https ? { https: deps.https } : {}),
    // A client's X-Request-Id is kept only when it is short and of a safe alphabet: it goes
    // into every event, log line and reply of the request.
    requestIdHeader: false,
    genReqId: requestIdOf,
    bodyLimit: WIRE.bodyLimitBytes,
    // A request that arrives while the server closes is still routed: after a handover the
    // gate answers it (reads served, writes a retryable problem+json), not a bare 503.
    return503OnClosing: false,
    // A client that is slow to send its request (slowloris) or idles on a connection is cut off.
    requestTimeout: http.requestTimeoutMs,
    connectionTimeout: http.connectionTimeoutMs,
    // Their 408, and the 400 and 431 of unparsable requests, in problem+json like every error.
    clientErrorHandler,
    // Node looks for expired header and request timers only this often (30 s by default),
    // which would let a 10 s headers timeout run to 40 s.
    http: { connectionsCheckingInterval: Math.min(5000, http.headersTimeoutMs) },
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.server.headersTimeout = http.headersTimeoutMs;

  const service = deps.service ?? { version: '0.1.0', startedAt: Date.now(), dbPath: deps.ctx.store.ledger.path };
  // Validators and serializers compile on first use (lazy-compile.ts); compileSchemas() builds the rest now.
  const lazy = new LazyCompilers();
  app.decorate('gmemd', { ctx: deps.ctx, service, ready: deps.ready ?? (() => true), lifecycle: deps.lifecycle ?? IN_PROCESS_LIFECYCLE,
    compileSchemas: () => lazy.compileAll() });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'gmemd', version: service.version,
        description: 'Host agent for KVM guest memory: guest_memfd inodes, per-VM files and memslots, and the audit ledger.',
      },
      tags: [
        { name: 'host' }, { name: 'vms' }, { name: 'inodes' }, { name: 'files' }, { name: 'bindings' },
        { name: 'migrations' }, { name: 'audit' }, { name: 'reconcile' }, { name: 'admin' }, { name: 'tokens' },
      ],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A token from POST /v1/tokens, or admin.token beside the ledger' } } },
      // Every operation needs a token unless it says `security: []` (health, the contract).
      security: [{ bearer: [] }],
    },
    // Schemas registered with addSchema become components named by their $id.
    transformObject: shapeDocument,
    refResolver: { buildLocalReference: (json, _base, _frag, i) => (json.$id as string) || `def-${i}` },
  });
  for (const s of NAMED_SCHEMAS) app.addSchema(s);
  let validators: ReturnType<typeof validatorCompiler> | undefined;
  app.setValidatorCompiler(lazy.validator<AnySchema>((route) => (validators ??= validatorCompiler(NAMED_SCHEMAS))(route)));
  app.setSerializerCompiler(lazy.serializer(serializerCompiler(NAMED_SCHEMAS)));

  // Callback-style hooks: an async one costs a promise and a microtask hop on every request.
  // One onSend for every answer: each hook Fastify runs per request costs.
  // Tests build many apps in one process: each has its own registry, none uses prom-client's global one.
  const metricsRegistry = new Registry();
  const observe = requestMetrics(app, metricsRegistry);
  const closing = closeDuringHandover(app);
  app.addHook('onSend', (req, reply, payload, done) => {
    reply.header('x-request-id', req.id);
    closing(reply);
    observe(req, reply);
    done(null, payload);
  });
  // Before any route is added: it classifies each route as it is registered.
  registerAuth(app);
  registerErrorHandling(app);
  // Before every route is added: the limiter hooks each route as it is registered.
  await registerRateLimit(app, http.rateLimitPerMinute);
  registerHandoverGate(app);
  registerIdempotency(app, deps.ctx.store);
  registerMetrics(app, deps.ctx, metricsRegistry, deps.wal);
  await registerDocs(app);

  await app.register(hostRoutes);
  await app.register(vmRoutes);
  await app.register(inodeRoutes);
  await app.register(fileRoutes);
  await app.register(bindingRoutes);
  await app.register(sharingRoutes);
  await app.register(migrationRoutes);
  await app.register(auditRoutes, { auditKey: deps.auditKey ?? null });
  await app.register(reconcileRoutes);
  await app.register(adminRoutes);
  await app.register(tokenRoutes);
  return app;
}

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && SAFE_REQUEST_ID.test(given) ? given : randomUUID();
}

export type App = Awaited<ReturnType<typeof buildApp>>;

declare module 'fastify' {
  interface FastifyInstance {
    gmemd: { ctx: ServiceContext; service: ServiceInfo; ready: () => boolean; lifecycle: Lifecycle; compileSchemas: () => number };
  }
  interface FastifyContextConfig {
    /** The audit action of a mutating route: a request refused by validation is audited under it. */
    action?: import('../domain/actions.js').Action;
    /** false: the reply is not stored for Idempotency-Key replays (it carries a secret). */
    replay?: boolean;
  }
}
