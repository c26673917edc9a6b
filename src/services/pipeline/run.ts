// The runner: the one way any state change happens. The use case decides (command.ts); the
// runner writes the denied, failed or ok event, opens and closes the intent, passes the crash
// points, takes the kernel steps, undoes them when the record cannot be written (or refuses
// writes with 503 until a reconcile when it cannot undo), and stores the idempotency reply in
// the same transaction as the change. The steps are one generator; `run` drives it with group
// commit (each write awaits its batch's fsync), `runNow` with one synchronous transaction per
// write (start-up, before anything is served).
import { err, ok, type DomainError, type ErrorCode, type Result } from '../../domain/result.js';
import { KernelError } from '../../kvm/kernel-error.js';
import type { Caller, ServiceContext } from '../context.js';
import { isCrash, StepLog, type Command, type KernelStep, type Scope, type StepError, type StepResult, type Subjects } from './command.js';
import { Recorder } from './recorder.js';

type Write = () => unknown;
type Committed = { ok: true; value: unknown } | { ok: false; error: unknown };
/** A kernel step in flight off the event loop: the driver awaits it and sends back its result. */
class Pending { constructor(readonly result: Promise<StepResult>) {} }
type Yielded = Write | Pending;
type Sent = Committed | StepResult;

export function kernelError(e: KernelError): DomainError {
  return {
    code: `kernel.${e.errno.toLowerCase()}` as ErrorCode,
    message: `the kernel refused ${e.operation}: ${e.errno}`,
    details: { errno: e.errno, operation: e.operation },
  };
}

/** A kernel refusal is `failed` with errno and operation; a refusal by gmemd's own guard
 *  before the kernel was called (e.g. the userspace_addr check) is `denied` with its code. */
export function refusalOf(e: StepError) {
  if (e instanceof KernelError) {
    const de = kernelError(e);
    return { kernel: true, error: de, event: { outcome: 'failed' as const, errorCode: de.code, errno: e.errno, operation: e.operation } };
  }
  return { kernel: false, error: e, event: { outcome: 'denied' as const, errorCode: e.code } };
}

function scopeOf(initial: Subjects): Scope {
  const scope: Scope = { subjects: { ...initial }, about: (s) => { scope.subjects = { ...scope.subjects, ...s }; } };
  return scope;
}

/** The reply this request's route will send, stored under its Idempotency-Key in the same member. */
function storeReply(ctx: ServiceContext, caller: Caller, result: Result<unknown>): void {
  const slot = caller.reply;
  if (!slot) return;
  const r = slot.render(result);
  slot.rendered = r;
  // Server errors are not stored: the client may retry them.
  if (r.status < 500) ctx.store.idempotency.put(slot.key, { fingerprint: slot.fingerprint, status: r.status, body: r.body });
}

function mustCommit(c: Sent): unknown {
  if (!c.ok) throw c.error;
  return c.value;
}

/** Undoes the steps that happened, newest first. True when nothing the kernel did remains. */
function undoAll(steps: KernelStep[], log: StepLog): boolean {
  let all = true;
  for (const o of [...log.outcomes].reverse()) {
    if (!o.ok) continue;
    const step = steps.find((s) => s.id === o.id)!;
    if (step.effect === false) continue;
    const r = step.undo?.();
    o.undone = r?.ok === true;
    all &&= o.undone;
  }
  return all;
}

function* execute<T>(ctx: ServiceContext, caller: Caller, cmd: Command<T>, offLoop: boolean): Generator<Yielded, Result<T>, Sent> {
  const { store } = ctx;
  const scope = scopeOf(cmd.subjects ?? {});
  const rec = () => new Recorder(store, caller, ctx.now());
  const refusal = (e: DomainError): Write => () => {
    rec().event(cmd.action, scope.subjects, { message: e.message, ...e.details }, { outcome: 'denied', errorCode: e.code });
    storeReply(ctx, caller, { ok: false, error: e });
  };

  const degraded = ctx.pipeline.degraded;
  if (degraded && !cmd.maintenance) {
    const e: DomainError = { code: 'service.unavailable', details: { degradedSince: degraded.since },
      message: `writes are refused until a reconcile with repair has run: ${degraded.reason}` };
    mustCommit(yield refusal(e));
    return { ok: false, error: e };
  }
  const decision = cmd.decide(scope);
  if (!decision.ok) {
    mustCommit(yield refusal(decision.error));
    return decision;
  }
  const plan = decision.value;
  const subjects = plan.subjects ?? scope.subjects;
  const steps = plan.steps ?? [];
  const kernelSteps = steps.filter((s): s is KernelStep => !isCrash(s));
  const log = new StepLog();
  const degrade = (reason: string) => ctx.pipeline.degrade({ since: ctx.now(), reason, action: cmd.action, requestId: caller.requestId });
  try {
    let intentId: string | null = null;
    if (plan.intent) {
      const { kind, payload } = plan.intent;
      intentId = mustCommit(yield () => store.intents.open(kind, payload).id) as string;
      if (plan.intent.crash) ctx.crashPoint(plan.intent.crash);
    }
    const closeIntent = () => { if (intentId) store.intents.finish(intentId, 'resolved'); };
    const stepDetails = () => (log.outcomes.length > 1 ? { steps: log.summary() } : {});

    for (const s of steps) {
      if (isCrash(s)) { ctx.crashPoint(s.crash); continue; }
      const r = offLoop && s.start ? (yield new Pending(s.start())) as StepResult : s.run();
      log.outcomes.push(r.ok ? { id: s.id, ok: true, value: r.value } : { id: s.id, ok: false, error: r.error });
      if (r.ok || s.onError === 'continue') continue;
      // A refused step: what happened before it is undone, so the refusal changes nothing.
      const undone = undoAll(kernelSteps, log);
      const refusal = refusalOf(r.error);
      const e = refusal.error;
      if (!undone) degrade(`${cmd.action} failed half-way (${e.message}) and an earlier step could not be undone`);
      mustCommit(yield () => {
        rec().event(cmd.action, subjects, { ...plan.details, ...(refusal.kernel ? {} : { message: e.message, ...e.details }), ...stepDetails(),
          ...(undone ? {} : { undone: false, writesRefused: true }) }, refusal.event);
        closeIntent();
        storeReply(ctx, caller, { ok: false, error: e });
      });
      return { ok: false, error: e };
    }
    if (plan.beforeRecord) ctx.crashPoint(plan.beforeRecord);

    let value!: T;
    const recorded = yield () => {
      value = plan.record(rec(), log);
      if (intentId) store.intents.finish(intentId);
      storeReply(ctx, caller, ok(value));
    };
    if (!recorded.ok) {
      // The kernel changed but the ledger could not say so: take the kernel back, or stop.
      const undone = undoAll(kernelSteps, log);
      const reason = (recorded.error as Error)?.message ?? String(recorded.error);
      if (!undone) degrade(`${cmd.action}: the ledger write failed (${reason}) and the kernel change could not be undone`);
      const e: DomainError = { code: 'internal.error', details: { undone },
        message: undone ? 'the ledger could not record the change; the kernel change was undone'
          : 'the ledger could not record the change and the kernel change could not be undone; writes are refused until a reconcile with repair' };
      const failed = yield () => {
        rec().event(cmd.action, subjects, { ...plan.details, ledgerError: reason, undone, ...(undone ? {} : { writesRefused: true }), ...stepDetails() },
          { outcome: 'failed', errorCode: e.code });
        closeIntent();
        storeReply(ctx, caller, { ok: false, error: e });
      };
      if (!failed.ok) degrade(`${cmd.action}: neither the change nor its failure could be recorded (${reason})`);
      return { ok: false, error: e };
    }
    if (plan.afterRecord) ctx.crashPoint(plan.afterRecord);
    plan.afterCommit?.(value);
    return ok(value);
  } finally {
    plan.settled?.();
  }
}

/** A kernel step's result. While it is in flight its command counts as a writer about to join
 *  the next batch (unit-of-work.ts): whatever the kernel answers, the command then writes. */
async function landed(ctx: ServiceContext, p: Pending): Promise<StepResult> {
  ctx.pipeline.kernelInFlight += 1;
  try {
    // A call that could not even be issued (koffi refused its arguments) changed nothing.
    return await p.result.catch((e: unknown) => ({ ok: false as const, error: { code: 'internal.error' as const, message: String(e) } }));
  } finally {
    ctx.pipeline.kernelInFlight -= 1;
  }
}

/** Runs a command with group commit: every write awaits the durable commit of its batch. */
export async function run<T>(ctx: ServiceContext, caller: Caller, cmd: Command<T>): Promise<Result<T>> {
  const got = ctx.pipeline.locks.acquire(cmd.keys ?? 'global');
  const release = typeof got === 'function' ? got : await got;
  const gen = execute(ctx, caller, cmd, true);
  try {
    let next = gen.next();
    while (!next.done) {
      const y = next.value;
      let c: Sent;
      if (y instanceof Pending) c = await landed(ctx, y);
      else try { c = { ok: true, value: await ctx.store.uow.commit(y) }; } catch (error) { c = { ok: false, error }; }
      next = gen.next(c);
    }
    return next.value;
  } finally {
    release();
  }
}

/** Runs a command with one synchronous transaction per write. Only where nothing else runs: start-up and adoption. */
export function runNow<T>(ctx: ServiceContext, caller: Caller, cmd: Command<T>): Result<T> {
  if (ctx.pipeline.locks.inFlight > 0) throw new Error(`${cmd.action}: runNow while commands are in flight`);
  const gen = execute(ctx, caller, cmd, false);
  let next = gen.next();
  while (!next.done) {
    const y = next.value as Write; // offLoop false: execute never yields a Pending
    let c: Committed;
    try { c = { ok: true, value: ctx.store.uow.run(y) }; } catch (error) { c = { ok: false, error }; }
    next = gen.next(c);
  }
  return next.value;
}

/** A refusal found before any command could be built (e.g. schema validation): audited as denied. */
export function deny(ctx: ServiceContext, caller: Caller, action: Command<never>['action'], subjects: Subjects, e: DomainError): Promise<Result<never>> {
  return run(ctx, caller, { action, subjects, keys: [], maintenance: true, decide: () => ({ ok: false, error: e }) });
}

export { err, ok };
