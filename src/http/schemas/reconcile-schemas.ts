// Shapes for reconcile (start-up report, drift, repair), the host scan and the handover.
import { Type } from 'typebox';
import { literals } from './literals.js';
import { Nullable, ref, Time } from './common.js';
import { DRIFT_KINDS } from '../../reconcile/drift.js';

const Ids = Type.Array(Type.String());

export const LostObjects = Type.Object({
  vms: Ids, inodes: Ids, files: Ids, bindings: Ids,
  migrations: Type.Array(Type.String(), { description: 'Prepared migrations aborted because a VM in them is lost' }),
}, { $id: 'LostObjects', additionalProperties: false, description: 'Ledger objects marked lost: the process no longer holds their kernel objects' });

export const StartupReconcile = Type.Object({
  at: Time,
  cause: literals(['startup', 'handover', 'repair'] as const),
  intents: Type.Array(Type.Object({
    intentId: Type.String(), kind: Type.String(), openedAt: Time,
    resolution: Type.Literal('abandoned', { description: 'the operation never recorded its outcome; the ledger keeps the state from before it' }),
  }, { additionalProperties: false })),
  lost: ref(LostObjects),
  events: Nullable(Type.Object({ from: Type.Integer(), to: Type.Integer() }, { additionalProperties: false, description: 'seq range of the reconcile.* events it wrote' })),
}, { $id: 'StartupReconcile', additionalProperties: false, description: 'What start-up reconcile found and recorded before gmemd served requests' });

export const DriftItem = Type.Object({
  kind: literals(DRIFT_KINDS),
  message: Type.String(),
  repairable: Type.Boolean(),
  vmId: Type.Optional(Type.String()), inodeId: Type.Optional(Type.String()), fileId: Type.Optional(Type.String()),
  bindingId: Type.Optional(Type.String()), intentId: Type.Optional(Type.String()),
  slot: Type.Optional(Type.Integer()), fd: Type.Optional(Type.Integer()), ino: Type.Optional(Type.Integer()),
}, { $id: 'DriftItem', additionalProperties: false });

export const RepairOutcome = Type.Object({
  kind: literals(DRIFT_KINDS),
  action: literals(['recreated', 'deleted', 'marked_lost', 'skipped'] as const,
    { description: 'skipped: an open intent (revoke, narrow, donate, destroy, migration commit) is removing this memslot, so it is not re-created' }),
  ok: Type.Boolean(),
  reason: Type.Optional(Type.String()),
  vmId: Type.Optional(Type.String()), bindingId: Type.Optional(Type.String()), inodeId: Type.Optional(Type.String()),
  slot: Type.Optional(Type.Integer()), errno: Type.Optional(Type.String()), operation: Type.Optional(Type.String()),
}, { $id: 'RepairOutcome', additionalProperties: false });

export const ReconcileRequest = Type.Object({
  repair: Type.Optional(Type.Boolean({ default: false, description: 'Re-create memslots the ledger has and the kernel lacks, delete those the kernel has and the ledger lacks, mark what the process no longer holds lost' })),
  sweepSlots: Type.Optional(Type.Boolean({ default: false, description: 'Also probe every memslot id of every VM (finds memslots gmemd did not create; ~32k kernel calls per VM)' })),
}, { $id: 'ReconcileRequest', additionalProperties: false });

export const ReconcileReport = Type.Object({
  checkedAt: Time,
  repair: Type.Boolean(),
  drift: Type.Array(ref(DriftItem), { description: 'Every difference found (each also recorded as a reconcile.drift event)' }),
  checked: Type.Object({ vms: Type.Integer(), inodes: Type.Integer(), files: Type.Integer(), bindings: Type.Integer(), memslots: Type.Integer() }, { additionalProperties: false }),
  repairs: Type.Array(ref(RepairOutcome)),
  lost: ref(LostObjects),
  remaining: Type.Array(ref(DriftItem), { description: 'What still differs after repair' }),
  sweepTruncated: Type.Boolean({ description: 'With sweepSlots: the sweep stopped at its deadline (GMEMD_SWEEP_DEADLINE_MS), so some VMs\' slot ids were not all probed' }),
  startup: Type.Optional(ref(StartupReconcile)),
}, { $id: 'ReconcileReport', additionalProperties: false });

const Tracked = { tracked: Type.Boolean({ description: 'held by gmemd (its pid, a handle in its registry)' }), ledgerInodeId: Nullable(Type.String()) };

export const HostScan = Type.Object({
  scannedAt: Time,
  backend: Type.String(),
  scanned: Type.Integer(), unreadable: Type.Integer(),
  processes: Type.Array(Type.Object({
    pid: Type.Integer(), command: Type.String(), self: Type.Boolean(),
    fds: Type.Array(Type.Object({
      fd: Type.Integer(), kind: literals(['kvm-vm', 'kvm-gmem'] as const), ino: Nullable(Type.Integer()), ...Tracked,
    }, { additionalProperties: false })),
    mappings: Type.Array(Type.Object({
      start: Type.String({ description: 'hex address' }), end: Type.String({ description: 'hex address' }), offset: Type.Integer(), ino: Type.Integer(), ...Tracked,
    }, { additionalProperties: false })),
  }, { additionalProperties: false })),
  untracked: Type.Object({ fds: Type.Integer(), mappings: Type.Integer() }, { additionalProperties: false }),
  truncated: Type.Boolean({ description: 'The scan stopped at its deadline (GMEMD_HOST_SCAN_DEADLINE_MS); `skipped` processes were not read' }),
  skipped: Type.Integer({ description: 'Processes not read because the deadline passed' }),
  deadlineMs: Type.Integer(),
}, { $id: 'HostScan', additionalProperties: false, description: 'kvm-vm / kvm-gmem fds and guest_memfd mappings of every process, from /proc' });

export const HandoverRequest = Type.Object({
  force: Type.Optional(Type.Boolean({ default: false, description: 'Hand over even though private inodes exist; their memory is lost' })),
}, { $id: 'HandoverRequest', additionalProperties: false });

export const Handover = Type.Object({
  handoverId: Type.String(), fromPid: Type.Integer(), successorPid: Type.Integer(),
  vms: Ids, inodes: Ids, memslots: Type.Integer(), lostInodes: Ids, migrations: Ids, durationMs: Type.Integer(),
}, { $id: 'Handover', additionalProperties: false, description: 'A completed handover: the successor holds the guest memory and serves requests' });

export const RECONCILE_SCHEMAS = [LostObjects, StartupReconcile, DriftItem, RepairOutcome, ReconcileRequest, ReconcileReport, HostScan, HandoverRequest, Handover];
