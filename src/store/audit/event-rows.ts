// How audit code reads the events table: one column list (so verify, the queries and the
// export agree on the row shape audit-chain.ts hashes) and the public form of an event.
import { CANONICAL_KEYS, type EventRow, type Outcome } from '../audit-chain.js';

/** SELECT list giving rows shaped like EventRow, the exact input of canonicalEvent. */
export const EVENT_COLUMNS = `seq, time, actor, action, outcome, request_id AS requestId, vm_id AS vmId,
  inode_id AS inodeId, file_id AS fileId, binding_id AS bindingId, migration_id AS migrationId,
  error_code AS errorCode, errno, operation, details, prev_hash AS prevHash, hash`;

const column = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
/** SELECT list for raw rows (arrays): the hashed columns in CANONICAL_KEYS order, which is
 *  canonicalValues' input, then prev_hash (at RAW.prevHash) and hash (at RAW.hash). */
export const CANONICAL_COLUMNS = [...CANONICAL_KEYS.map(column), 'prev_hash', 'hash'].join(', ');
export const RAW = { seq: CANONICAL_KEYS.indexOf('seq'), prevHash: CANONICAL_KEYS.length, hash: CANONICAL_KEYS.length + 1 };

/** An event as the audit API returns it: details parsed. The stored details string is the
 *  JCS form of this object, so canonicalize(details) gives back exactly what was hashed. */
export interface AuditEvent {
  seq: number; time: number; actor: string; action: string; outcome: Outcome;
  requestId: string | null; vmId: string | null; inodeId: string | null; fileId: string | null;
  bindingId: string | null; migrationId: string | null; errorCode: string | null;
  errno: string | null; operation: string | null; details: Record<string, unknown>;
  prevHash: string; hash: string;
}

export function toAuditEvent(row: EventRow): AuditEvent {
  return { ...row, details: parseDetails(row.details) };
}

export function parseDetails(text: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? v as Record<string, unknown> : { value: v };
  } catch {
    // A tampered row may hold anything; the audit API still shows it, verify flags it.
    return { unparsable: text };
  }
}
