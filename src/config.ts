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
  };
}
