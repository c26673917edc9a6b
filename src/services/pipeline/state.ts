// The runner's process-wide state: the key locks of in-flight commands, and whether writes
// are refused because a kernel change could neither be recorded nor undone (the kernel may
// differ from the ledger until a reconcile with repair has run), and the quota in-flight
// creates hold, and how many kernel calls are in flight (the writers group commit waits for).
import { KeyLocks } from './locks.js';
import { PendingQuota } from '../pending-quota.js';

export interface Degraded { since: number; reason: string; action: string; requestId: string | null }

export class PipelineState {
  readonly locks = new KeyLocks();
  /** Quota reserved by creates whose record is not yet written (pending-quota.ts). */
  readonly pending = new PendingQuota();
  degraded: Degraded | null = null;
  /** Commands whose kernel step runs off the event loop right now; each writes once it lands. */
  kernelInFlight = 0;

  degrade(d: Degraded): void { this.degraded ??= d; }
  /** A reconcile with repair made ledger and kernel agree again. */
  recovered(): void { this.degraded = null; }
}
