// The ledger's tables. Times are integer milliseconds since the epoch (range queries stay
// index scans); ids are prefixed ULIDs, so ordering by id is ordering by creation and
// keyset pagination needs no extra column. Rows are never deleted: state columns carry
// history (`destroyed`, `released`, `closed`, `deleted`, `lost`).
import { sqliteTable, text, integer, index, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { sql } from 'drizzle-orm';
import { BINDING_KINDS, BINDING_STATES, FILE_ROLES, FILE_STATES, INODE_STATES, INTENT_STATES, MIGRATION_KINDS,
  MIGRATION_STATES, OUTCOMES, VM_STATES } from '../domain/vocabulary.js';
import { ROLES } from '../domain/roles.js';

export const vms = sqliteTable('vms', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  labels: text('labels', { mode: 'json' }).$type<Record<string, string>>().notNull(),
  vmType: integer('vm_type').notNull().default(0),
  state: text('state', { enum: VM_STATES }).notNull(),
  createdAt: integer('created_at').notNull(),
  endedAt: integer('ended_at'),
}, (t) => [
  // A name is unique among live VMs only: destroyed VMs keep theirs for the record.
  uniqueIndex('vms_active_name_uq').on(t.name).where(sql`state = 'active'`),
  index('vms_state_idx').on(t.state, t.id),
]);

/**
 * What the quota checks count, kept up to date by triggers on vms and inodes (migration
 * 0007_live_totals_triggers): a VM or inode create reads one row, where count(*) and
 * sum(size) over the live rows grew with every create. One row, id 1.
 */
export const liveTotals = sqliteTable('live_totals', {
  id: integer('id').primaryKey(),
  vmsActive: integer('vms_active').notNull(),
  inodesLive: integer('inodes_live').notNull(),
  inodeBytesLive: integer('inode_bytes_live').notNull(),
});

export const inodes = sqliteTable('inodes', {
  id: text('id').primaryKey(),
  size: integer('size').notNull(),
  shareable: integer('shareable', { mode: 'boolean' }).notNull(),
  kernelInode: integer('kernel_inode').notNull(),
  originVmId: text('origin_vm_id').notNull().references(() => vms.id),
  ownerVmId: text('owner_vm_id').notNull().references(() => vms.id),
  labels: text('labels', { mode: 'json' }).$type<Record<string, string>>().notNull(),
  state: text('state', { enum: INODE_STATES }).notNull(),
  createdAt: integer('created_at').notNull(),
  endedAt: integer('ended_at'),
}, (t) => [
  index('inodes_owner_idx').on(t.ownerVmId, t.id),
  index('inodes_state_idx').on(t.state, t.id),
]);

export const files = sqliteTable('files', {
  id: text('id').primaryKey(),
  inodeId: text('inode_id').notNull().references(() => inodes.id),
  vmId: text('vm_id').notNull().references(() => vms.id),
  role: text('role', { enum: FILE_ROLES }).notNull(),
  /** Sorted subset of read, write, allocate, share. */
  permissions: text('permissions', { mode: 'json' }).$type<string[]>().notNull(),
  grantedByFileId: text('granted_by_file_id'),
  migrationId: text('migration_id'),
  state: text('state', { enum: FILE_STATES }).notNull(),
  createdAt: integer('created_at').notNull(),
  endedAt: integer('ended_at'),
}, (t) => [
  // At most one open-or-pending file per (inode, VM).
  uniqueIndex('files_one_live_per_vm_uq').on(t.inodeId, t.vmId).where(sql`state in ('open','pending')`),
  // State leads the id so "live files of X" reads only live rows, not X's whole history.
  index('files_vm_idx').on(t.vmId, t.state, t.id),
  index('files_inode_idx').on(t.inodeId, t.state, t.id),
]);

export const bindings = sqliteTable('bindings', {
  id: text('id').primaryKey(),
  fileId: text('file_id').notNull().references(() => files.id),
  vmId: text('vm_id').notNull().references(() => vms.id),
  inodeId: text('inode_id').notNull().references(() => inodes.id),
  slot: integer('slot').notNull(),
  gpa: integer('gpa').notNull(),
  offset: integer('offset').notNull(),
  size: integer('size').notNull(),
  readonly: integer('readonly', { mode: 'boolean' }).notNull(),
  kind: text('kind', { enum: BINDING_KINDS }).notNull(),
  state: text('state', { enum: BINDING_STATES }).notNull(),
  createdAt: integer('created_at').notNull(),
  endedAt: integer('ended_at'),
}, (t) => [
  uniqueIndex('bindings_active_slot_uq').on(t.vmId, t.slot).where(sql`state = 'active'`),
  index('bindings_vm_idx').on(t.vmId, t.state, t.gpa),
  index('bindings_file_idx').on(t.fileId, t.state, t.id),
  index('bindings_inode_idx').on(t.inodeId, t.state, t.id),
  // The live gmem memslots of an inode by file offset: a bind reads the one nearest below its range (claimedGmemBelow).
  index('bindings_gmem_offset_idx').on(t.inodeId, t.offset).where(sql`state = 'active' and kind = 'gmem'`),
]);

/** Per VM, its active bindings (each holds a memslot), for the binding quota; kept by triggers (migration 0009). */
export const vmBindingTotals = sqliteTable('vm_binding_totals', {
  vmId: text('vm_id').primaryKey(),
  bindingsActive: integer('bindings_active').notNull(),
});

export const migrations = sqliteTable('migrations', {
  id: text('id').primaryKey(),
  sourceVmId: text('source_vm_id').notNull().references(() => vms.id),
  targetVmId: text('target_vm_id').notNull().references(() => vms.id),
  kind: text('kind', { enum: MIGRATION_KINDS }).notNull().default('migration'),
  state: text('state', { enum: MIGRATION_STATES }).notNull(),
  plan: text('plan', { mode: 'json' }).$type<unknown>().notNull(),
  createdAt: integer('created_at').notNull(),
  endedAt: integer('ended_at'),
}, (t) => [index('migrations_state_idx').on(t.state, t.id)]);

/** Who could do what to an inode, and when: one row per (file, permission set) period. */
export const accessIntervals = sqliteTable('access_intervals', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  inodeId: text('inode_id').notNull(),
  fileId: text('file_id').notNull(),
  vmId: text('vm_id').notNull(),
  role: text('role', { enum: FILE_ROLES }).notNull(),
  permissions: text('permissions', { mode: 'json' }).$type<string[]>().notNull(),
  fromTime: integer('from_time').notNull(),
  fromSeq: integer('from_seq').notNull(),
  toTime: integer('to_time'),
  toSeq: integer('to_seq'),
}, (t) => [
  index('access_inode_time_idx').on(t.inodeId, t.fromTime),
  index('access_file_open_idx').on(t.fileId, t.toTime),
]);

/** The audit chain. hash = SHA-256(prevHash ‖ canonical(event)), see audit-chain.ts. */
export const events = sqliteTable('events', {
  seq: integer('seq').primaryKey(),
  time: integer('time').notNull(),
  actor: text('actor').notNull(),
  action: text('action').notNull(),
  outcome: text('outcome', { enum: OUTCOMES }).notNull(),
  requestId: text('request_id'),
  vmId: text('vm_id'),
  inodeId: text('inode_id'),
  fileId: text('file_id'),
  bindingId: text('binding_id'),
  migrationId: text('migration_id'),
  errorCode: text('error_code'),
  errno: text('errno'),
  operation: text('operation'),
  details: text('details').notNull(),
  prevHash: text('prev_hash').notNull(),
  hash: text('hash').notNull(),
}, (t) => [
  index('events_action_idx').on(t.action, t.seq),
  index('events_vm_idx').on(t.vmId, t.seq),
  index('events_inode_idx').on(t.inodeId, t.seq),
  index('events_file_idx').on(t.fileId, t.seq),
  index('events_time_idx').on(t.time),
  // Denied and failed attempts are rare: without this, "outcome = denied" scans the chain.
  index('events_outcome_idx').on(t.outcome, t.seq),
]);

/** Signed heads of the chain (HMAC-SHA-256 with GMEMD_AUDIT_KEY), to detect tail truncation. */
export const checkpoints = sqliteTable('checkpoints', {
  seq: integer('seq').primaryKey(),
  hash: text('hash').notNull(),
  time: integer('time').notNull(),
  mac: text('mac').notNull(),
});

/** Multi-step operations in flight; open rows after a crash are resolved at start-up. */
export const intents = sqliteTable('intents', {
  id: text('id').primaryKey(),
  kind: text('kind').notNull(),
  payload: text('payload', { mode: 'json' }).$type<unknown>().notNull(),
  state: text('state', { enum: INTENT_STATES }).notNull(),
  createdAt: integer('created_at').notNull(),
  endedAt: integer('ended_at'),
}, (t) => [index('intents_state_idx').on(t.state)]);

/** Replays of mutating POSTs carrying an Idempotency-Key; expired ones are pruned by created_at. */
export const idempotency = sqliteTable('idempotency', {
  key: text('key').primaryKey(),
  fingerprint: text('fingerprint').notNull(),
  status: integer('status').notNull(),
  body: text('body').notNull(),
  createdAt: integer('created_at').notNull(),
}, (t) => [index('idempotency_created_idx').on(t.createdAt)]);

/** Bearer tokens. Only the SHA-256 of a secret is kept (the secret is 32 random bytes, so a
 *  plain hash is as strong as a slow one); a revoked token keeps its row for the record. */
export const tokens = sqliteTable('tokens', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  role: text('role', { enum: ROLES }).notNull(),
  secretHash: text('secret_hash').notNull(),
  createdAt: integer('created_at').notNull(),
  revokedAt: integer('revoked_at'),
}, (t) => [
  // A name is unique among live tokens: a revoked token keeps its name, and `admin` can be re-issued.
  uniqueIndex('tokens_live_name_uq').on(t.name).where(sql`revoked_at is null`),
  // The per-request lookup; a revoked secret may be registered again (GMEMD_ADMIN_TOKEN).
  uniqueIndex('tokens_live_secret_uq').on(t.secretHash).where(sql`revoked_at is null`),
]);
