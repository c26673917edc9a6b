// What every use case receives: the ledger, the kernel port, the registry of kernel
// handles, a clock, and a crash-point hook for tests. The caller (actor and request id)
// comes with each call, so authentication can later supply a principal without touching
// the use cases.
import type { KvmHost } from '../kvm/kvm-host.js';
import type { Store } from '../store/store.js';
import { KernelRegistry } from './kernel-registry.js';
import { isCrashPoint, type CrashPoint } from './crash-points.js';

export interface Caller {
  actor: string;
  requestId: string | null;
}

export const LOCAL_CALLER: Caller = { actor: 'local', requestId: null };

export interface ServiceContext {
  store: Store;
  kvm: KvmHost;
  registry: KernelRegistry;
  now: () => number;
  /** Named step boundaries of multi-step operations; a test-only fault plan may crash there. */
  crashPoint: (name: CrashPoint) => void;
}

export function createContext(store: Store, kvm: KvmHost, opts: { crashAt?: string | null } = {}): ServiceContext {
  const crashAt = opts.crashAt ?? null;
  // A misspelt point would never fire and the test would pass for the wrong reason.
  if (crashAt !== null && !isCrashPoint(crashAt)) throw new Error(`GMEMD_TEST_CRASH_AT names no crash point: ${crashAt}`);
  return {
    store, kvm, registry: new KernelRegistry(), now: store.now,
    crashPoint: crashAt
      // SIGKILL, not an exception: the point is to die exactly as a crash would, with no
      // cleanup and no chance for a transaction to commit.
      ? (name) => { if (name === crashAt) process.kill(process.pid, 'SIGKILL'); }
      : () => {},
  };
}
