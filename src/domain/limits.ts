// Every quota and limit gmemd enforces, with its default and the GMEMD_* variable that
// overrides it, in one table: config.ts parses the variables from it, GET /v1/host shows
// the values in force and their defaults, and README's configuration table documents it.
// Defaults that depend on the host (memory, memslots) are functions of what it reports.
// Lengths and page sizes on the wire are fixed constants (WIRE): they are part of the
// published contract (OpenAPI maxLength/pattern), the same for every gmemd.
import { err, ok, type Result } from './result.js';
import { MAX_INODE_SIZE } from './ranges.js';
import { NR_MEMSLOTS } from './slots.js';

export interface Limits {
  /** Sum of the sizes of all live inodes. */
  memoryBudgetBytes: number;
  maxVms: number;
  maxInodes: number;
  maxBindingsPerVm: number;
  /** Requests per minute per token (per client address without one); 0 turns the limiter off. */
  rateLimitPerMinute: number;
  /** Time to receive a request's headers (http.Server headersTimeout). */
  headersTimeoutMs: number;
  /** Time to receive a whole request, headers and body (requestTimeout). */
  requestTimeoutMs: number;
  /** An idle socket is closed after this (connectionTimeout). */
  connectionTimeoutMs: number;
  /** A stored Idempotency-Key reply is replayed for this long, then forgotten. */
  idempotencyTtlSeconds: number;
  /** GET /v1/host/scan stops reading /proc after this and reports truncated: true. */
  hostScanDeadlineMs: number;
  /** A reconcile's memslot sweep (sweepSlots) stops probing after this and reports truncated: true. */
  memslotSweepDeadlineMs: number;
}

/** What the host reports, for the defaults that depend on it. */
export interface HostFacts { totalMemBytes: number; nrMemslots: number }

/** The default memory budget: this share of the host's memory (os.totalmem()). */
export const MEMORY_BUDGET_SHARE = 0.5;
/** One memslot id of each VM is kept for the guest probe's temporary code page (slots.ts). */
const PROBE_SLOTS = 1;

interface Knob {
  env: string; min: number; max: (h: HostFacts) => number; default: (h: HostFacts) => number;
  /** The default in words (README, OpenAPI) and what the limit bounds. */
  doc: string; what: string;
}

const fixed = (n: number) => () => n;
const slotsFor = (h: HostFacts) => Math.max(1, (h.nrMemslots || NR_MEMSLOTS) - PROBE_SLOTS);
const ANY = fixed(Number.MAX_SAFE_INTEGER);
const DAY = 24 * 3600;

export const LIMIT_KNOBS: Record<keyof Limits, Knob> = {
  memoryBudgetBytes: { env: 'GMEMD_MEMORY_BUDGET_BYTES', min: 4096, max: ANY,
    default: (h) => Math.floor((h.totalMemBytes * MEMORY_BUDGET_SHARE) / 4096) * 4096,
    doc: `${MEMORY_BUDGET_SHARE * 100}% of the host's memory`, what: 'Bytes of all live inodes together (409 quota.memory)' },
  maxVms: { env: 'GMEMD_MAX_VMS', min: 1, max: ANY, default: fixed(1024), doc: '1024', what: 'Active VMs (409 quota.vms)' },
  maxInodes: { env: 'GMEMD_MAX_INODES', min: 1, max: ANY, default: fixed(4096), doc: '4096', what: 'Live inodes (409 quota.inodes)' },
  maxBindingsPerVm: { env: 'GMEMD_MAX_BINDINGS_PER_VM', min: 1, max: slotsFor, default: slotsFor,
    doc: 'KVM_CAP_NR_MEMSLOTS - 1 (one slot is the probe\'s); also the maximum', what: 'Active bindings of one VM (409 quota.bindings)' },
  rateLimitPerMinute: { env: 'GMEMD_RATE_LIMIT_PER_MINUTE', min: 0, max: ANY, default: fixed(6000), doc: '6000',
    what: 'Requests per minute per token, or per client address without one (429 rate.limited with Retry-After); 0: off' },
  headersTimeoutMs: { env: 'GMEMD_HEADERS_TIMEOUT_MS', min: 1, max: ANY, default: fixed(10_000), doc: '10000 (10 s)',
    what: 'Time to receive a request\'s headers' },
  requestTimeoutMs: { env: 'GMEMD_REQUEST_TIMEOUT_MS', min: 1, max: ANY, default: fixed(30_000), doc: '30000 (30 s)',
    what: 'Time to receive a whole request, headers and body (408 after it)' },
  connectionTimeoutMs: { env: 'GMEMD_CONNECTION_TIMEOUT_MS', min: 1, max: ANY, default: fixed(300_000), doc: '300000 (5 min)',
    what: 'An idle connection is closed after this' },
  idempotencyTtlSeconds: { env: 'GMEMD_IDEMPOTENCY_TTL_SECONDS', min: 1, max: ANY, default: fixed(DAY), doc: '86400 (24 h)',
    what: 'An Idempotency-Key reply is replayed for this long, then forgotten' },
  hostScanDeadlineMs: { env: 'GMEMD_HOST_SCAN_DEADLINE_MS', min: 1, max: ANY, default: fixed(5_000), doc: '5000 (5 s)',
    what: 'GET /v1/host/scan, and the start-up search for other holders of lost inodes, stop reading /proc after this' },
  memslotSweepDeadlineMs: { env: 'GMEMD_SWEEP_DEADLINE_MS', min: 1, max: ANY, default: fixed(10_000), doc: '10000 (10 s)',
    what: 'A reconcile\'s memslot sweep (sweepSlots) stops probing after this (sweepTruncated: true)' },
};

export const LIMIT_NAMES = Object.keys(LIMIT_KNOBS) as (keyof Limits)[];

export function defaultLimits(h: HostFacts): Limits {
  return Object.fromEntries(LIMIT_NAMES.map((k) => [k, LIMIT_KNOBS[k].default(h)])) as unknown as Limits;
}

/** The limits in force: the defaults for this host with the overrides applied, each within its bounds. */
export function resolveLimits(overrides: Partial<Limits>, h: HostFacts): Result<Limits> {
  const out = defaultLimits(h);
  for (const k of LIMIT_NAMES) {
    const v = overrides[k];
    if (v === undefined) continue;
    const { env, min, max } = LIMIT_KNOBS[k];
    if (!Number.isSafeInteger(v) || v < min || v > max(h)) {
      return err('request.invalid', `${env} must be an integer in [${min}, ${max(h)}], not ${v}`, { field: env, value: String(v) });
    }
    out[k] = v;
  }
  // Node refuses a headers timeout longer than the request timeout that contains it.
  if (out.headersTimeoutMs > out.requestTimeoutMs) {
    return err('request.invalid', `GMEMD_HEADERS_TIMEOUT_MS (${out.headersTimeoutMs}) exceeds GMEMD_REQUEST_TIMEOUT_MS (${out.requestTimeoutMs})`);
  }
  return ok(out);
}

/** The largest inode gmemd creates now: the fixed mapping bound (ranges.ts) or the whole budget, whichever is less. */
export const maxInodeSize = (l: Pick<Limits, 'memoryBudgetBytes'>) => Math.min(MAX_INODE_SIZE, l.memoryBudgetBytes);

/** Lengths and sizes on the wire (the HTTP schemas use them; GET /v1/host shows them). */
export const WIRE = {
  /** Ids in paths, queries and bodies: gmemd's own are 30 characters (prefix, ULID). */
  idMaxLength: 64,
  idPattern: '^[A-Za-z0-9_-]+$',
  nameMaxLength: 128,
  labelsMax: 32,
  labelKeyMaxLength: 63,
  labelValueMaxLength: 255,
  pageLimitMax: 1000,
  pageLimitDefault: 100,
  bodyLimitBytes: 64 * 1024,
  idempotencyKeyMaxLength: 255,
} as const;
