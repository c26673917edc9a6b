// The audit chain: every event stores the previous event's hash and its own,
// hash = SHA-256(prevHash ‖ canonical(event)), with RFC 8785 (JCS) as the canonical encoding
// so any verifier can recompute it. The head is cached in memory and only advances when the
// surrounding transaction commits (see unit-of-work.ts).
import { hash as oneShotHash } from 'node:crypto';
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

/** The hashed fields in the order RFC 8785 sorts them (UTF-16 code units, as canonicalize's
 *  Object.keys().sort()); test/store/canonical-event.test.ts holds this to canonicalize. */
export const CANONICAL_KEYS = ['action', 'actor', 'bindingId', 'details', 'errno', 'errorCode', 'fileId',
  'inodeId', 'migrationId', 'operation', 'outcome', 'requestId', 'seq', 'time', 'vmId'] as const;
// A string without these is its own JSON text in quotes; JSON.stringify escapes exactly these
// (and pairs of surrogates, sent to it here too, it leaves as they are).
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;
/** JSON.stringify(s), without its cost for the strings (ids, hashes) that need no escape. */
export const jsonString = (s: string): string => (NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`);
// A well-formed string, null or a finite number is written by JSON.stringify exactly as JCS
// writes it (a finite number's text is ECMAScript Number::toString in both). A lone
// surrogate, which canonicalize refuses, or anything else (a blob, NaN) is not.
const plain = (v: unknown): boolean =>
  typeof v === 'string' ? (v as string & { isWellFormed(): boolean }).isWellFormed() : v === null || (typeof v === 'number' && Number.isFinite(v));

// One object literal with the keys in CANONICAL_KEYS order, given to JSON.stringify whole:
// writing the text piece by piece (a rope of 30 parts, then flattened) allocated 2 KiB an
// event and took twice as long cold (a start-up marking 30,000 events lost). Checked against
// CANONICAL_KEYS when the module loads, so the two cannot drift apart.
const inOrder = (v: ArrayLike<unknown>) => ({
  action: v[0], actor: v[1], bindingId: v[2], details: v[3], errno: v[4], errorCode: v[5], fileId: v[6],
  inodeId: v[7], migrationId: v[8], operation: v[9], outcome: v[10], requestId: v[11], seq: v[12], time: v[13], vmId: v[14],
});
if (Object.keys(inOrder([])).join() !== CANONICAL_KEYS.join()) throw new Error('audit-chain: inOrder does not follow CANONICAL_KEYS');

/** The canonical (JCS) text of an event given its hashed values in CANONICAL_KEYS order,
 *  e.g. a raw row from CANONICAL_COLUMNS. Columns hold strings, integers and nulls, whose
 *  JCS text is JSON.stringify's, so the object is written directly; anything else is left
 *  to canonicalize, which gives the same result or throws, exactly as it always did. */
export function canonicalValues(v: ArrayLike<unknown>): string {
  for (let i = 0; i < CANONICAL_KEYS.length; i++) {
    if (!plain(v[i])) return canonicalize(Object.fromEntries(CANONICAL_KEYS.map((k, j) => [k, v[j]])))!;
  }
  return JSON.stringify(inOrder(v));
}

/** The hashed content of an event: every column except the hashes; details as stored (already JCS). */
export function canonicalEvent(e: Omit<EventRow, 'prevHash' | 'hash'>): string {
  return canonicalValues(CANONICAL_KEYS.map((k) => e[k]));
}

/** SHA-256(prevHash ‖ canonical) in hex. One-shot crypto.hash over the joined string: the
 *  UTF-8 of a concatenation is the concatenation of the UTF-8s (prevHash cannot end inside a
 *  surrogate pair that canonical text, which starts with '{', would complete). */
export function chainHash(prevHash: string, canonical: string): string {
  return oneShotHash('sha256', prevHash + canonical, 'hex');
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
      // range queries map to seq ranges (src/store/audit/queries/time-bounds.ts).
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
