// Refusals are events too: a denied request and a failed kernel call each leave an event
// (in a transaction of their own, since they change no state) before the error returns.
import { KernelError } from '../kvm/kernel-error.js';
import type { EventInput } from '../store/audit-chain.js';
import { err, type DomainError, type ErrorCode, type Result } from '../domain/result.js';
import type { Action } from '../domain/actions.js';
import type { Caller, ServiceContext } from './context.js';

export type Subjects = Pick<EventInput, 'vmId' | 'inodeId' | 'fileId' | 'bindingId' | 'migrationId'>;

export function event(caller: Caller, action: Action, subjects: Subjects, details?: Record<string, unknown>): EventInput {
  return { action, outcome: 'ok', actor: caller.actor, requestId: caller.requestId, ...subjects, ...(details ? { details } : {}) };
}

export function deny(ctx: ServiceContext, caller: Caller, action: Action, subjects: Subjects, e: DomainError): Result<never> {
  ctx.store.uow.run(() => ctx.store.chain.append({
    ...event(caller, action, subjects, { message: e.message, ...e.details }),
    outcome: 'denied', errorCode: e.code,
  }));
  return { ok: false, error: e };
}

export function kernelError(e: KernelError): DomainError {
  return {
    code: `kernel.${e.errno.toLowerCase()}` as ErrorCode,
    message: `the kernel refused ${e.operation}: ${e.errno}`,
    details: { errno: e.errno, operation: e.operation },
  };
}

/** A refused kernel step: `failed` with errno and operation, or, when gmemd's own memslot
 * address guard refused before the kernel was called, `denied` with the guard's code. */
export function failKernel(ctx: ServiceContext, caller: Caller, action: Action, subjects: Subjects,
  e: KernelError | DomainError, details?: Record<string, unknown>): Result<never> {
  if (!(e instanceof KernelError)) return deny(ctx, caller, action, subjects, { ...e, details: { ...details, ...e.details } });
  const de = kernelError(e);
  ctx.store.uow.run(() => ctx.store.chain.append({
    ...event(caller, action, subjects, details), outcome: 'failed', errorCode: de.code,
    errno: e.errno, operation: e.operation,
  }));
  return err(de.code, de.message, de.details);
}

/** Runs a domain check; a refusal is audited as denied. */
export function check<T>(ctx: ServiceContext, caller: Caller, action: Action, subjects: Subjects, r: Result<T>): Result<T> {
  return r.ok ? r : deny(ctx, caller, action, subjects, r.error);
}
