// Shapes of the audit API: events (as hashed, with ISO times), who held access at an
// instant, exposure findings, ownership lineage and the verify report.
import { Type } from 'typebox';
import { Nullable, PageOf, PageQuery, ref, RefId, Time } from './common.js';
import { WIRE } from '../../domain/limits.js';
import { Permission } from './resource-schemas.js';
import { literals } from './literals.js';
import { FILE_ROLES, OUTCOMES, VM_STATES } from '../../domain/vocabulary.js';

const Role = literals(FILE_ROLES);
const Seq = (description?: string) => Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, ...(description ? { description } : {}) });
const Hash = Type.String({ pattern: '^[0-9a-f]{64}$' });

export const AuditEvent = Type.Object({
  seq: Type.Integer(), time: Time, actor: Type.String(), action: Type.String(),
  outcome: literals(OUTCOMES),
  requestId: Nullable(Type.String()), vmId: Nullable(Type.String()), inodeId: Nullable(Type.String()),
  fileId: Nullable(Type.String()), bindingId: Nullable(Type.String()), migrationId: Nullable(Type.String()),
  errorCode: Nullable(Type.String()), errno: Nullable(Type.String()), operation: Nullable(Type.String()),
  details: Type.Record(Type.String(), Type.Unknown()),
  prevHash: Hash, hash: Hash,
}, {
  $id: 'AuditEvent', additionalProperties: false,
  description: 'One chain entry. hash = SHA-256(prevHash ‖ JCS({seq, time (epoch ms), actor, action, outcome, requestId, vmId, inodeId, ' +
    'fileId, bindingId, migrationId, errorCode, errno, operation, details: JCS(details)}))',
});

// Inline, not a $ref: a nullable $ref has no `type` for `nullable` to apply to (Ajv refuses it).
const AccessBound = () => Type.Object({ time: Time, seq: Type.Integer() }, { additionalProperties: false });

export const AccessHolder = Type.Object({
  vmId: Type.String(), fileId: Type.String(), role: Role, permissions: Type.Array(Permission),
  from: AccessBound(), to: Nullable(AccessBound()),
}, { $id: 'AccessHolder', additionalProperties: false, description: 'A VM\'s role and permissions on the inode over [from, to)' });

export const ExposureKind = literals(['multi_vm', 'write_shared', 'grant_of_grant', 'origin_gone'] as const);

export const ExposedFile = Type.Object({
  fileId: Type.String(), vmId: Type.String(), role: Role, permissions: Type.Array(Permission),
  state: literals(['open', 'pending'] as const),
  grantedByFileId: Nullable(Type.String()),
  grantedByRole: Type.Unsafe<'owner' | 'grantee' | null>({ type: 'string', enum: ['owner', 'grantee'], nullable: true,
    description: 'Role of the granting file: grantee marks a grant of a grant' }),
}, { $id: 'ExposedFile', additionalProperties: false });

export const Exposure = Type.Object({
  inodeId: Type.String(), size: Type.Integer(), shareable: Type.Boolean(), ownerVmId: Type.String(), originVmId: Type.String(),
  originVmState: literals(VM_STATES),
  findings: Type.Array(ExposureKind), vmIds: Type.Array(Type.String()), files: Type.Array(ref(ExposedFile)),
}, { $id: 'Exposure', additionalProperties: false });

export const OwnershipStep = Type.Object({
  seq: Type.Integer(), time: Time, actor: Type.String(),
  action: literals(['inode.create', 'file.donate', 'file.migrate'] as const),
  fromVmId: Nullable(Type.String()), toVmId: Nullable(Type.String()), fromFileId: Nullable(Type.String()),
  toFileId: Nullable(Type.String()), migrationId: Nullable(Type.String()), requestId: Nullable(Type.String()),
}, { $id: 'OwnershipStep', additionalProperties: false });

export const VerifyReport = Type.Object({
  ok: Type.Boolean(),
  events: Type.Integer({ description: 'Events verified (before the break, when broken)' }),
  headSeq: Type.Optional(Type.Integer()), headHash: Type.Optional(Hash),
  firstBadSeq: Type.Optional(Type.Integer({ description: 'The first seq that does not verify' })),
  reason: Type.Optional(literals(['seq_gap', 'seq_unexpected', 'prev_hash_mismatch', 'hash_mismatch', 'unreadable_row', 'checkpoint_mac_invalid', 'checkpoint_hash_mismatch', 'checkpoint_event_missing'] as const)),
  message: Type.Optional(Type.String()),
  checkpoints: Type.Object({
    count: Type.Integer(), latestSeq: Nullable(Type.Integer()),
    macsVerified: Type.Boolean({ description: 'False when the service has no GMEMD_AUDIT_KEY: checkpoints were checked against the chain only' }),
  }, { additionalProperties: false }),
}, { $id: 'VerifyReport', additionalProperties: false });

export const AuditEventPage = PageOf(AuditEvent, 'AuditEventPage');
export const AccessPage = PageOf(AccessHolder, 'AccessPage');
export const ExposurePage = PageOf(Exposure, 'ExposurePage');
export const LineagePage = PageOf(OwnershipStep, 'LineagePage');

export const EventsQuery = Type.Intersect([PageQuery, Type.Object({
  action: Type.Optional(Type.String({ maxLength: WIRE.idMaxLength, pattern: '^[a-z][a-z._]*$', description: 'An action, e.g. inode.create' })),
  vmId: Type.Optional(RefId('A VM')), inodeId: Type.Optional(RefId('An inode')), fileId: Type.Optional(RefId('A file')),
  outcome: Type.Optional(literals(OUTCOMES)),
  since: Type.Optional(Type.String({ format: 'date-time', description: 'Events at or after this time' })),
  until: Type.Optional(Type.String({ format: 'date-time', description: 'Events before this time' })),
  order: Type.Optional(literals(['asc', 'desc'] as const, { description: 'By seq; default asc' })),
})]);

export const AccessQuery = Type.Intersect([PageQuery, Type.Object({
  inodeId: RefId('An inode'),
  at: Type.Optional(Type.String({ format: 'date-time', description: 'The instant; exactly one of at and atSeq' })),
  atSeq: Type.Optional(Seq('The state right after this event')),
})]);

export const ExposureQuery = Type.Intersect([PageQuery, Type.Object({ kind: Type.Optional(ExposureKind) })]);

export const ExportQuery = Type.Object({
  fromSeq: Type.Optional(Seq('First seq (inclusive)')), toSeq: Type.Optional(Seq('Last seq (inclusive)')),
  since: Type.Optional(Type.String({ format: 'date-time' })), until: Type.Optional(Type.String({ format: 'date-time' })),
});

export const AUDIT_SCHEMAS = [AuditEvent, AccessHolder, ExposedFile, Exposure, OwnershipStep, VerifyReport,
  AuditEventPage, AccessPage, ExposurePage, LineagePage];
