// What the HTTP layer needs to know about the process's life beyond the ledger: the report of
// the start-up reconcile, and the handover (null when there is no process to hand over, e.g.
// an app built in-process by a test). src/server.ts builds it; buildApp takes it as a dep.
import type { Result } from '../domain/result.js';
import type { Caller } from '../services/context.js';
import type { StartupReport } from '../reconcile/startup.js';

export interface HandoverSummary {
  handoverId: string;
  fromPid: number;
  successorPid: number;
  /** Ledger VMs the successor re-created, inodes whose guest_memfd it inherited, memslots it re-created as views. */
  vms: string[];
  inodes: string[];
  memslots: number;
  /** Private inodes a forced handover left behind (their memory cannot survive it on 6.18). */
  lostInodes: string[];
  migrations: string[];
  durationMs: number;
}

export interface HandoverPort {
  /** True from the moment a handover starts until this process has handed over (or resumed). */
  inProgress(): boolean;
  start(caller: Caller, opts: { force: boolean }): Promise<Result<HandoverSummary>>;
}

export interface Lifecycle {
  startup: StartupReport | null;
  handover: HandoverPort | null;
  /** GMEMD_TEST_HOOKS=1: register the /_test routes that change kernel state behind gmemd's back. */
  testHooks: boolean;
}

export const IN_PROCESS_LIFECYCLE: Readonly<Lifecycle> = Object.freeze({ startup: null, handover: null, testHooks: false });
