// Shapes for sharing, donation, migration and the probe.
import { Type } from 'typebox';
import { Bounded, Bytes, Id, Nullable, PageOf, ref, RefId, Time } from './common.js';
import { MAX_GPA } from '../../domain/ranges.js';
import { File, Permission } from './resource-schemas.js';
import { literals } from './literals.js';
import { MIGRATION_KINDS, MIGRATION_STATES } from '../../domain/vocabulary.js';

export const ShareRequest = Type.Object({
  vmId: RefId('The grantee VM'), permissions: Type.Array(Permission, { minItems: 1, maxItems: 4, uniqueItems: true }),
}, { $id: 'ShareRequest', additionalProperties: false });

export const NarrowRequest = Type.Object({
  permissions: Type.Array(Permission, { minItems: 1, maxItems: 4, uniqueItems: true }),
}, { $id: 'NarrowRequest', additionalProperties: false });

export const DonateRequest = Type.Object({ vmId: RefId('The recipient VM') }, { $id: 'DonateRequest', additionalProperties: false });

export const Donation = Type.Object({ from: ref(File), to: ref(File) }, { $id: 'Donation', additionalProperties: false });

export const Closed = Type.Object({
  closedFiles: Type.Array(Type.String()), releasedInodes: Type.Array(Type.String()), deletedBindings: Type.Array(Type.String()),
}, { $id: 'Closed', additionalProperties: false });

export const ProbeRequest = Type.Object({
  gpa: Bounded(MAX_GPA - 1, 'Guest-physical address; the probe reaches below 4 GiB (above: 422 probe.out_of_range)'),
  write: Type.Optional(Bounded(255, 'A byte the guest writes before reading back')),
}, { $id: 'ProbeRequest', additionalProperties: false });

export const ProbeResult = Type.Object({
  vmId: Type.String(), gpa: Bytes,
  outcome: literals(['value', 'write_trapped', 'unmapped', 'fault'] as const, {
    description: 'value: the guest read `value`; write_trapped: its write exited to the host as MMIO (read-only memslot) and memory kept `value`; unmapped: no memslot backs gpa; fault: KVM_RUN failed with errno',
  }),
  value: Type.Optional(Type.Integer({ minimum: 0, maximum: 255 })),
  wrote: Type.Optional(Type.Boolean()),
  errno: Type.Optional(Type.String()),
}, { $id: 'ProbeResult', additionalProperties: false });

export const MigrationPlan = Type.Object({
  files: Type.Array(Type.Object({ sourceFileId: Type.String(), inodeId: Type.String(), role: Type.String(), permissions: Type.Array(Type.String()), shareable: Type.Boolean() })),
  memslots: Type.Array(Type.Object({ sourceBindingId: Type.String(), sourceFileId: Type.String(), inodeId: Type.String(), slot: Type.Integer(), gpa: Bytes, offset: Bytes, size: Bytes })),
}, { $id: 'MigrationPlan' });

export const Migration = Type.Object({
  id: Id('mig'), sourceVmId: Type.String(), targetVmId: Type.String(),
  kind: literals(MIGRATION_KINDS),
  state: literals(MIGRATION_STATES),
  plan: ref(MigrationPlan), createdAt: Time, endedAt: Nullable(Time),
}, { $id: 'Migration', additionalProperties: false });

export const MigrationList = PageOf(Migration, 'MigrationList');

export const CreateMigrationRequest = Type.Object({
  sourceVmId: RefId('The source VM'), targetVmId: RefId('The target VM'),
}, { $id: 'CreateMigrationRequest', additionalProperties: false });

export const SHARING_SCHEMAS = [ShareRequest, NarrowRequest, DonateRequest, Donation, Closed, ProbeRequest, ProbeResult,
  MigrationPlan, Migration, MigrationList, CreateMigrationRequest];
