// Every request gets a child logger bound to its request id. pino's child() serializes the
// bindings up front, and at the default level almost no request writes a line (requests are
// logged at debug: app.ts), so the child is made on the request's first log call instead.
import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions } from 'fastify/types/logger.js';

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
