// The writes a plan's record makes through the runner: events carry the caller, and the
// ledger changes written in many places (a binding deleted or created) are built once here.
import type { Action } from '../../domain/actions.js';
import type { EventInput, EventRow } from '../../store/audit-chain.js';
import type { BindingRow } from '../../store/rows.js';
import type { Store } from '../../store/store.js';
import type { Caller } from '../context.js';
import type { Subjects } from './command.js';

export function eventInput(caller: Caller, action: Action, subjects: Subjects, details?: Record<string, unknown>): EventInput {
  return { action, outcome: 'ok', actor: caller.actor, requestId: caller.requestId, ...subjects, ...(details ? { details } : {}) };
}

export const bindingSubjects = (b: Pick<BindingRow, 'vmId' | 'inodeId' | 'fileId' | 'id'>): Subjects =>
  ({ vmId: b.vmId, inodeId: b.inodeId, fileId: b.fileId, bindingId: b.id });

export class Recorder {
  constructor(readonly store: Store, readonly caller: Caller, readonly time: number) {}

  event(action: Action, subjects: Subjects, details?: Record<string, unknown>, extra: Partial<EventInput> = {}): EventRow {
    return this.store.chain.append({ ...eventInput(this.caller, action, subjects, details), ...extra });
  }

  /** A binding's memslot is gone (or, with kernelErrno, the kernel refused to delete it): the ledger says deleted. */
  bindingDeleted(b: BindingRow, details: { cause?: string; migrationId?: string; kernelErrno?: string } = {}): EventRow {
    const { migrationId, kernelErrno, cause } = details;
    this.store.bindings.update(b.id, { state: 'deleted', endedAt: this.time });
    return this.event('binding.delete', { ...bindingSubjects(b), ...(migrationId ? { migrationId } : {}) },
      { slot: b.slot, gpa: b.gpa, ...(cause ? { cause } : {}), ...(kernelErrno ? { kernelErrno } : {}) });
  }

  /** A new binding whose memslot the kernel holds. */
  bindingCreated(row: BindingRow, extra: { cause?: string; migrationId?: string } = {}): EventRow {
    this.store.bindings.insert(row);
    return this.bindingEvent(row, extra);
  }

  /** The binding.create event of a memslot (new or re-created), without touching the row. */
  bindingEvent(row: BindingRow, extra: { cause?: string; migrationId?: string; recreated?: boolean } = {}): EventRow {
    const { migrationId, ...rest } = extra;
    return this.event('binding.create', { ...bindingSubjects(row), ...(migrationId ? { migrationId } : {}) },
      { slot: row.slot, gpa: row.gpa, offset: row.offset, size: row.size, kind: row.kind, readonly: row.readonly, ...rest });
  }
}
