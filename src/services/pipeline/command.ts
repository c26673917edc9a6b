// What a use case hands the runner (run.ts): its action and subjects, the keys it must hold
// alone while it runs, and a decision. The decision is a pure domain verdict over what the
// ledger says now: either a refusal (audited as denied) or a plan naming the intent to open,
// the kernel steps to take (each with its undo where one exists) and the synchronous writes
// that record the outcome. The runner does everything else: events, intents, crash points,
// the unit of work, the idempotency reply, undo, and refusing writes while the kernel may
// differ from the ledger.
import type { KernelError } from '../../kvm/kernel-error.js';
import type { Action } from '../../domain/actions.js';
import type { DomainError, Result } from '../../domain/result.js';
import type { EventInput } from '../../store/audit-chain.js';
import type { CrashPoint } from '../crash-points.js';
import type { Recorder } from './recorder.js';

export type Subjects = Pick<EventInput, 'vmId' | 'inodeId' | 'fileId' | 'bindingId' | 'migrationId'>;

/** A kernel step's refusal: by the kernel (errno, operation), or by gmemd's own guard before the call (a code). */
export type StepError = KernelError | DomainError;
export type StepResult<T = unknown> = { ok: true; value: T } | { ok: false; error: StepError };

/** One kernel call. `undo` reverses it; absent on a step with an effect, it cannot be undone. */
export interface KernelStep {
  id: string;
  run(): StepResult;
  /** The same call off the event loop, for a call the kernel may sleep in (a memslot change
   *  waits for an SRCU grace period): the group-commit runner uses it, so other requests are
   *  decided and recorded meanwhile. `run` stays for start-up, where nothing else runs. */
  start?(): Promise<StepResult>;
  undo?(): StepResult;
  /** fstat and the like: nothing to undo. */
  effect?: boolean;
  /** 'continue': a refusal is logged and the plan goes on (the record says what happened). */
  onError?: 'abort' | 'continue';
}

/** A crash point between steps: passed even when there is no step before it. */
export interface CrashMark { crash: CrashPoint }

export type Step = KernelStep | CrashMark;

export interface StepOutcome { id: string; ok: boolean; value?: unknown; error?: StepError; undone?: boolean }

const errnoOf = (e: StepError) => ('errno' in e && typeof e.errno === 'string' ? e.errno : (e as DomainError).code);

/** What the kernel steps did, for the record. */
export class StepLog {
  readonly outcomes: StepOutcome[] = [];
  get(id: string): StepOutcome | undefined { return this.outcomes.find((o) => o.id === id); }
  ok(id: string): boolean { return this.get(id)?.ok === true; }
  value<V>(id: string): V { return this.get(id)!.value as V; }
  /** The errno of a kernel refusal, or the code of a guard's. */
  errno(id: string): string | undefined { const e = this.get(id)?.error; return e ? errnoOf(e) : undefined; }
  /** A compact account of the steps, for a failed event's details. */
  summary() {
    return this.outcomes.map((o) => ({ id: o.id, ok: o.ok, ...(o.error ? { errno: errnoOf(o.error) } : {}), ...(o.undone !== undefined ? { undone: o.undone } : {}) }));
  }
}

export interface Plan<T> {
  /** Opened, durably, before the first kernel step; closed by the record. */
  intent?: { kind: string; payload: unknown; crash?: CrashPoint };
  steps?: Step[];
  beforeRecord?: CrashPoint;
  /** Synchronous writes of the new state and its events, in one member of a batch. */
  record(rec: Recorder, log: StepLog): T;
  afterRecord?: CrashPoint;
  /** Kernel work that follows a durable record and changes nothing recorded (closing a VM fd). */
  afterCommit?(value: T): void;
  /** Details for a failed event. */
  details?: Record<string, unknown>;
  /** Subjects of the failed event, when they differ from the decision's. */
  subjects?: Subjects;
  /** Called once the command has finished, whatever its outcome (drops reservations). */
  settled?(): void;
}

/** The scope a decision refines as it learns what it is about (for the denied event). */
export interface Scope { subjects: Subjects; about(s: Subjects): void }

export interface Command<T> {
  action: Action;
  subjects?: Subjects;
  /** Keys held alone from decision to durable record; 'global' excludes every other command. */
  keys?: readonly string[] | 'global';
  /** Runs while writes are refused (reconcile is what lifts the refusal). */
  maintenance?: boolean;
  decide(scope: Scope): Result<Plan<T>>;
}

export const isCrash = (s: Step): s is CrashMark => 'crash' in s;
