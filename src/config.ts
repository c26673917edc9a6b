// Configuration from the environment, parsed once by src/server.ts.
import { parseBackend, type BackendChoice } from './kvm/select-backend.js';
import { LIMIT_KNOBS, LIMIT_NAMES, type Limits } from './domain/limits.js';

export type Listen = { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string };

export interface Config {
  db: string;
  listen: Listen;
  backend: BackendChoice;
  auditKey: string | null;
  checkpointEvery: number;
  logLevel: string;
  /** Test-only fault injection: SIGKILL the process at this named step (see services/context.ts). */
  crashAt: string | null;
  /** Test-only routes that change kernel state behind gmemd's back (GMEMD_TEST_HOOKS=1; never by default). */
  testHooks: boolean;
  /** GMEMD_* overrides of the quotas and limits (domain/limits.ts); bounds are checked against the host at start. */
  limits: Partial<Limits>;
  /** GMEMD_ADMIN_TOKEN: this secret is the admin token `admin` (else one is issued into admin.token). */
  adminToken: string | null;
  /** GMEMD_TLS_CERT / GMEMD_TLS_KEY: PEM file paths; both or neither. */
  tls: { cert: string; key: string } | null;
  /** GMEMD_INSECURE=1: plain HTTP on a non-loopback address. */
  insecure: boolean;
  /** GMEMD_SOCKET_MODE (octal, default 0660): the Unix socket's mode. */
  socketMode: number;
}

/** Each limit variable that is set, as a non-negative integer; anything else refuses to start. */
export function parseLimits(env: NodeJS.ProcessEnv): Partial<Limits> {
  const out: Partial<Limits> = {};
  for (const k of LIMIT_NAMES) {
    const raw = env[LIMIT_KNOBS[k].env];
    if (raw === undefined || raw === '') continue;
    if (!/^\d{1,16}$/.test(raw.trim())) throw new Error(`${LIMIT_KNOBS[k].env} must be a non-negative integer, not "${raw}"`);
    out[k] = Number(raw.trim());
  }
  return out;
}

/** Settings that exist for tests only: refused at start unless GMEMD_TEST_MODE=1. */
export const TEST_ONLY_SETTINGS = ['GMEMD_TEST_HOOKS', 'GMEMD_TEST_CRASH_AT'] as const;

/** A configuration that must not start: one line saying why. */
export class ConfigError extends Error {}

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost)$/;
export const isLoopback = (host: string) => LOOPBACK.test(host);

function parseMode(value: string | undefined): number {
  if (!value) return 0o660;
  if (!/^0?[0-7]{3}$/.test(value)) throw new ConfigError(`GMEMD_SOCKET_MODE must be an octal mode such as 0660, not "${value}"`);
  return parseInt(value, 8);
}

export function parseListen(value: string): Listen {
  if (value.startsWith('unix:')) return { kind: 'unix', path: value.slice(5) };
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(value);
  if (!m) throw new Error(`GMEMD_LISTEN must be host:port or unix:/path, not "${value}"`);
  const port = Number(m[2]);
  if (port > 65535) throw new Error(`GMEMD_LISTEN port ${port} is out of range`);
  return { kind: 'tcp', host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return {
    db: env.GMEMD_DB || './data/gmemd.db',
    listen: parseListen(env.GMEMD_LISTEN || '127.0.0.1:7420'),
    backend: parseBackend(env.GMEMD_BACKEND),
    auditKey: env.GMEMD_AUDIT_KEY || null,
    checkpointEvery: Number(env.GMEMD_CHECKPOINT_EVERY || 1000),
    logLevel: env.GMEMD_LOG_LEVEL || 'info',
    crashAt: env.GMEMD_TEST_CRASH_AT || null,
    testHooks: env.GMEMD_TEST_HOOKS === '1',
    limits: parseLimits(env),
    adminToken: env.GMEMD_ADMIN_TOKEN || null,
    tls: env.GMEMD_TLS_CERT && env.GMEMD_TLS_KEY ? { cert: env.GMEMD_TLS_CERT, key: env.GMEMD_TLS_KEY } : null,
    insecure: env.GMEMD_INSECURE === '1',
    socketMode: parseMode(env.GMEMD_SOCKET_MODE),
  };
}

/**
 * What a production start must refuse, as one line each: test-only settings without
 * GMEMD_TEST_MODE=1, half a TLS configuration, plain HTTP off loopback without
 * GMEMD_INSECURE=1, an admin token too short to be a secret. Returns the warnings to log.
 */
export function checkConfig(config: Config, env: NodeJS.ProcessEnv = process.env): string[] {
  const testOnly = TEST_ONLY_SETTINGS.filter((k) => env[k]);
  if (testOnly.length > 0 && env.GMEMD_TEST_MODE !== '1') {
    throw new ConfigError(`${testOnly.join(', ')} ${testOnly.length > 1 ? 'are' : 'is'} test-only; refusing to start without GMEMD_TEST_MODE=1`);
  }
  if (!!env.GMEMD_TLS_CERT !== !!env.GMEMD_TLS_KEY) throw new ConfigError('GMEMD_TLS_CERT and GMEMD_TLS_KEY must be set together');
  if (config.adminToken !== null && config.adminToken.length < 32) {
    throw new ConfigError('GMEMD_ADMIN_TOKEN must be at least 32 characters (it is stored as a plain SHA-256: it must be a random secret)');
  }
  const warnings: string[] = [];
  if (config.listen.kind === 'tcp' && !isLoopback(config.listen.host) && !config.tls) {
    if (!config.insecure) {
      throw new ConfigError(`GMEMD_LISTEN ${config.listen.host} is not a loopback address: set GMEMD_TLS_CERT and GMEMD_TLS_KEY, or GMEMD_INSECURE=1 to serve bearer tokens in clear text`);
    }
    warnings.push(`INSECURE: serving plain HTTP on non-loopback ${config.listen.host}:${config.listen.port} (GMEMD_INSECURE=1); bearer tokens cross the network in clear text`);
  }
  if (testOnly.length > 0) warnings.push(`TEST MODE: ${testOnly.join(', ')} set; never run this in production`);
  return warnings;
}

/**
 * The environment of a handover successor: this one without the test-only settings (and
 * GMEMD_TEST_MODE), unless GMEMD_HANDOVER_TEST_MODE=1 asks for them to be passed on.
 */
export function successorEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (env.GMEMD_HANDOVER_TEST_MODE === '1') return { ...env };
  const out = { ...env };
  for (const k of [...TEST_ONLY_SETTINGS, 'GMEMD_TEST_MODE']) delete out[k];
  return out;
}
