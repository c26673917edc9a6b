// The audit chain: every event stores the previous event's hash and its own,
// hash = SHA-256(prevHash ‖ canonical(event)), with RFC 8785 (JCS) as the canonical encoding
// so any verifier can recompute it. The head is cached in memory and only advances when the
// surrounding transaction commits (see unit-of-work.ts).
import { createHash, hash as oneShotHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { jcs } from './jcs.js';
import type Database from 'better-sqlite3';

export type { Outcome } from '../domain/vocabulary.js';
import type { Outcome } from '../domain/vocabulary.js';

export interface EventInput {
  action: string;
  outcome: Outcome;
  actor: string;
  requestId?: string | null;
  vmId?: string | null;
  inodeId?: string | null;
  fileId?: string | null;
  bindingId?: string | null;
  migrationId?: string | null;
  errorCode?: string | null;
  errno?: string | null;
  operation?: string | null;
  details?: Record<string, unknown>;
}

export interface EventRow {
  seq: number; time: number; actor: string; action: string; outcome: Outcome;
  requestId: string | null; vmId: string | null; inodeId: string | null; fileId: string | null;
  bindingId: string | null; migrationId: string | null; errorCode: string | null;
  errno: string | null; operation: string | null; details: string; prevHash: string; hash: string;
}

export const GENESIS_HASH = '0'.repeat(64);

/** The hashed columns in JCS order (UTF-16 code-unit order, which is what Array#sort uses). */
const CANONICAL_KEYS = ['seq', 'time', 'actor', 'action', 'outcome', 'requestId', 'vmId', 'inodeId', 'fileId',
  'bindingId', 'migrationId', 'errorCode', 'errno', 'operation', 'details'].sort() as (keyof Omit<EventRow, 'prevHash' | 'hash'>)[];
const KEY_TEXT = CANONICAL_KEYS.map((k) => `${JSON.stringify(k)}:`);

/**
 * The hashed content of an event: every column except the hashes; details as stored (already
 * JCS). Byte for byte what canonicalize() gives for the same object, and refusing what it
 * refuses (test/store/audit-chain-canonical.test.ts), written directly: the columns are a
 * fixed set, and the generic encoder's key sort and walk were a quarter of an append.
 */
export function canonicalEvent(e: Omit<EventRow, 'prevHash' | 'hash'>): string {
  let out = '{';
  for (let i = 0; i < CANONICAL_KEYS.length; i++) {
    const v = e[CANONICAL_KEYS[i]!];
    if (v === undefined) continue; // JCS leaves undefined members out
    out += `${out.length === 1 ? '' : ','}${KEY_TEXT[i]!}${v === null ? 'null' : jcs(v)!}`;
  }
  return `${out}}`;
}

/** The reference encoding canonicalEvent must equal (kept for the equivalence test). */
export function canonicalEventReference(e: Omit<EventRow, 'prevHash' | 'hash'>): string {
  return canonicalize({
    seq: e.seq, time: e.time, actor: e.actor, action: e.action, outcome: e.outcome,
    requestId: e.requestId, vmId: e.vmId, inodeId: e.inodeId, fileId: e.fileId,
    bindingId: e.bindingId, migrationId: e.migrationId, errorCode: e.errorCode,
    errno: e.errno, operation: e.operation, details: e.details,
  })!;
}

// crypto.hash (Node 20.12+, 21.7+) hashes in one call; a Hash object per event cost as much as the digest.
const sha256Hex: (data: string) => string = typeof oneShotHash === 'function'
  ? (data) => oneShotHash('sha256', data, 'hex')
  : (data) => createHash('sha256').update(data).digest('hex');

export function chainHash(prevHash: string, canonical: string): string {
  return sha256Hex(prevHash + canonical);
}

export interface ChainHead { seq: number; hash: string }

/** Called after each append, inside the appending transaction (e.g. signed checkpoints). */
export type AppendHook = (row: EventRow) => void;

export class AuditChain {
  private head: ChainHead;
  private lastTime: number;
  private readonly insert: Database.Statement;
  private readonly hooks: AppendHook[] = [];

  constructor(private readonly sqlite: Database.Database, private readonly now: () => number) {
    const last = sqlite.prepare('SELECT seq, hash, time FROM events ORDER BY seq DESC LIMIT 1').get() as (ChainHead & { time: number }) | undefined;
    this.head = last ? { seq: last.seq, hash: last.hash } : { seq: 0, hash: GENESIS_HASH };
    this.lastTime = last?.time ?? 0;
    this.insert = sqlite.prepare(`INSERT INTO events (seq, time, actor, action, outcome, request_id, vm_id,
      inode_id, file_id, binding_id, migration_id, error_code, errno, operation, details, prev_hash, hash)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  }

  getHead(): ChainHead { return { ...this.head }; }

  /** Registers a hook run after every append in the same transaction, so whatever it writes
   *  commits or rolls back with the event. Returns a function that removes it. */
  onAppend(hook: AppendHook): () => void {
    this.hooks.push(hook);
    return () => { const i = this.hooks.indexOf(hook); if (i >= 0) this.hooks.splice(i, 1); };
  }

  /** Re-reads the head from the table: another process (a handover successor) appended to it. */
  reloadHead(): void {
    const last = this.sqlite.prepare('SELECT seq, hash, time FROM events ORDER BY seq DESC LIMIT 1').get() as (ChainHead & { time: number }) | undefined;
    this.head = last ? { seq: last.seq, hash: last.hash } : { seq: 0, hash: GENESIS_HASH };
    this.lastTime = Math.max(this.lastTime, last?.time ?? 0);
  }

  /** Whether an event of `action` mentions `needle` in its details (a handover id). */
  hasEvent(action: string, needle: string): boolean {
    return this.sqlite.prepare('SELECT 1 FROM events WHERE action = ? AND instr(details, ?) > 0 LIMIT 1').get(action, needle) !== undefined;
  }

  /** Used by the unit of work to undo in-memory advances of a rolled-back transaction. */
  resetHead(head: ChainHead): void { this.head = { ...head }; }

  /** Appends one event; must run inside the transaction that makes the change it describes. */
  append(input: EventInput): EventRow {
    if (!this.sqlite.inTransaction) throw new Error('audit events are written inside a transaction');
    const row: EventRow = {
      // Event time never goes backwards along seq, even if the wall clock steps back: time
      // range queries map to seq ranges (src/audit/queries/time-bounds.ts).
      seq: this.head.seq + 1, time: Math.max(this.now(), this.lastTime), actor: input.actor, action: input.action,
      outcome: input.outcome, requestId: input.requestId ?? null, vmId: input.vmId ?? null,
      inodeId: input.inodeId ?? null, fileId: input.fileId ?? null, bindingId: input.bindingId ?? null,
      migrationId: input.migrationId ?? null, errorCode: input.errorCode ?? null,
      errno: input.errno ?? null, operation: input.operation ?? null,
      details: jcs(input.details ?? {})!, prevHash: this.head.hash, hash: '',
    };
    // canonicalEvent reads the hashed columns only; one object per event, not three.
    const hash = row.hash = chainHash(row.prevHash, canonicalEvent(row));
    // Positional: binding 17 named parameters looked each name up per row.
    this.insert.run(row.seq, row.time, row.actor, row.action, row.outcome, row.requestId, row.vmId, row.inodeId, row.fileId,
      row.bindingId, row.migrationId, row.errorCode, row.errno, row.operation, row.details, row.prevHash, hash);
    this.head = { seq: row.seq, hash };
    this.lastTime = row.time;
    for (const hook of this.hooks) hook(row);
    return row;
  }
}
