// How requests show in the log. Fastify writes two info lines per request ("incoming
// request", "request completed"): at npm start's default GMEMD_LOG_LEVEL=info, logging to
// /dev/null, they took GET /v1/inodes/{id} from 0.48x to 0.36x a bare Fastify GET
// (test/bench/ab-read.ts). So those lines, and "Route ... not found", are written only at
// debug and trace; what goes wrong with a request (an error during the response, a failing
// serializer, a stream cut short) is logged at any level, and every mutation is in the ledger
// with its request id whatever the level.
import { LogController, type FastifyBaseLogger, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Bindings, ChildLoggerOptions } from 'fastify/types/logger.js';

/** Whether a logger's level is debug or trace, the levels that log every request. */
export function logsRequests(logger: unknown): boolean {
  const level = typeof logger === 'object' && logger !== null && 'level' in logger ? logger.level : 'info';
  return level === 'debug' || level === 'trace';
}

/** Fastify's logController: the routine lines per request only when `perRequest`. */
export class RequestLogController extends LogController {
  constructor(private readonly perRequest: boolean) { super(); }
  override incomingRequest(request: FastifyRequest, reply: FastifyReply, metadata?: Record<string, unknown>): void {
    if (this.perRequest) super.incomingRequest(request, reply, metadata);
  }
  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply, metadata?: Record<string, unknown>): void {
    if (this.perRequest || error) super.requestCompleted(error, request, reply, metadata);
  }
  override routeNotFound(request: FastifyRequest, reply: FastifyReply, metadata?: Record<string, unknown>): void {
    if (this.perRequest) super.routeNotFound(request, reply, metadata);
  }
}

// Every request gets a child logger bound to its request id. pino's child() serializes the
// bindings up front, and at the default level almost no request writes a line, so the child
// is made on the request's first log call instead (38.9k against 41-43k req/s in ab-read).
type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
type LogArgs = Parameters<FastifyBaseLogger['info']>;

class LazyChild {
  private made: FastifyBaseLogger | undefined;
  constructor(private readonly parent: FastifyBaseLogger, private readonly bindings: Bindings, private readonly opts: ChildLoggerOptions) {}
  private get real(): FastifyBaseLogger { return (this.made ??= this.parent.child(this.bindings, this.opts)); }
  get level(): string { return this.real.level; }
  set level(l: string) { this.real.level = l; }
  private log(level: Level, args: LogArgs): void { (this.real[level] as (...a: LogArgs) => void)(...args); }
  fatal(...a: LogArgs) { this.log('fatal', a); }
  error(...a: LogArgs) { this.log('error', a); }
  warn(...a: LogArgs) { this.log('warn', a); }
  info(...a: LogArgs) { this.log('info', a); }
  debug(...a: LogArgs) { this.log('debug', a); }
  trace(...a: LogArgs) { this.log('trace', a); }
  silent(...a: LogArgs) { this.log('silent', a); }
  child(bindings: Bindings, opts?: ChildLoggerOptions): FastifyBaseLogger { return this.real.child(bindings, opts); }
}

/** Fastify's childLoggerFactory: the request's logger, made when it is first used. */
export function lazyChildLogger(logger: FastifyBaseLogger, bindings: Bindings, opts: ChildLoggerOptions): FastifyBaseLogger {
  return new LazyChild(logger, bindings, opts) as unknown as FastifyBaseLogger;
}
