// What every use case receives: the ledger, the kernel port, the registry of kernel
// handles, a clock, and a crash-point hook for tests. The caller (actor and request id)
// comes with each call, so authentication can later supply a principal without touching
// the use cases.
import type { KvmHost } from '../kvm/kvm-host.js';
import type { Store } from '../store/store.js';
import { KernelRegistry } from './kernel-registry.js';
import { isCrashPoint, type CrashPoint } from './crash-points.js';
import { PipelineState } from './pipeline/state.js';
import type { Result } from '../domain/result.js';
import { resolveLimits, type Limits } from '../domain/limits.js';
import { hostFacts } from './host-facts.js';

export interface Caller {
  actor: string;
  requestId: string | null;
  /** Set by the HTTP layer for a request with an Idempotency-Key: the runner stores the reply
   *  in the same transaction as the change, and the route sends exactly what was stored. */
  reply?: ReplySlot;
}

export interface RenderedReply { status: number; body: string }

export interface ReplySlot {
  key: string;
  fingerprint: string;
  render(result: Result<unknown>): RenderedReply;
  rendered?: RenderedReply;
}

export const LOCAL_CALLER: Caller = { actor: 'local', requestId: null };

export interface ServiceContext {
  store: Store;
  kvm: KvmHost;
  registry: KernelRegistry;
  /** Key locks of in-flight commands, and whether writes are refused (services/pipeline). */
  pipeline: PipelineState;
  /** Quotas, rate limit, timeouts, expiries and deadlines in force (domain/limits.ts). */
  limits: Limits;
  now: () => number;
  /** Named step boundaries of multi-step operations; a test-only fault plan may crash there. */
  crashPoint: (name: CrashPoint) => void;
}

export function createContext(store: Store, kvm: KvmHost,
  opts: { crashAt?: string | null; limits?: Partial<Limits> } = {}): ServiceContext {
  const crashAt = opts.crashAt ?? null;
  // The defaults for this host with the GMEMD_* overrides (config.ts); out of bounds refuses to start.
  const limits = resolveLimits(opts.limits ?? {}, hostFacts(kvm));
  if (!limits.ok) throw new Error(limits.error.message);
  store.idempotency.expireAfter(limits.value.idempotencyTtlSeconds * 1000);
  store.idempotency.prune();
  // A misspelt point would never fire and the test would pass for the wrong reason.
  if (crashAt !== null && !isCrashPoint(crashAt)) throw new Error(`GMEMD_TEST_CRASH_AT names no crash point: ${crashAt}`);
  const pipeline = new PipelineState();
  store.uow.joining = () => pipeline.kernelInFlight;
  return {
    store, kvm, registry: new KernelRegistry(), pipeline, limits: limits.value, now: store.now,
    crashPoint: crashAt
      // SIGKILL, not an exception: the point is to die exactly as a crash would, with no
      // cleanup and no chance for a transaction to commit.
      ? (name) => { if (name === crashAt) process.kill(process.pid, 'SIGKILL'); }
      : () => {},
  };
}
