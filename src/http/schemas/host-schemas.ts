import { Type } from 'typebox';
import { literals } from './literals.js';
import { Bytes, Nullable, ref, Time } from './common.js';
import { StartupReconcile } from './reconcile-schemas.js';
import { LIMIT_KNOBS, LIMIT_NAMES, WIRE } from '../../domain/limits.js';

const knob = (k: keyof typeof LIMIT_KNOBS) =>
  Type.Integer({ minimum: 0, description: `${LIMIT_KNOBS[k].what}. ${LIMIT_KNOBS[k].env}; default ${LIMIT_KNOBS[k].doc}` });

const limitFields = () => Object.fromEntries(LIMIT_NAMES.map((k) => [k, knob(k)]));

export const Limits = Type.Object({
  nofileSoft: Nullable(Type.Integer()), nofileHard: Nullable(Type.Integer()),
  memslotsPerVm: Type.Integer({ description: 'KVM_CAP_NR_MEMSLOTS' }),
  ...limitFields(),
  maxInodeSizeBytes: Type.Integer({ description: 'The largest inode accepted now: the memory budget, at most 1 TiB' }),
  defaults: Type.Object(limitFields(), { additionalProperties: false, description: 'Each limit\'s default on this host (in force when its variable is unset)' }),
  wire: Type.Object(Object.fromEntries(Object.entries(WIRE).map(([k, v]) => [k, typeof v === 'number' ? Type.Integer() : Type.String()])),
    { additionalProperties: false, description: 'Fixed lengths and sizes of the API (ids, names, labels, page sizes, body)' }),
}, { $id: 'Limits', additionalProperties: false, description: 'Quotas and limits in force; each is set by its GMEMD_* variable' });

export const Host = Type.Object({
  backend: literals(['native', 'simulated'] as const),
  backendNote: Type.String({ description: 'Why this backend: the device it runs on, or why /dev/kvm could not be used (GMEMD_BACKEND=auto falls back to the simulator, which holds no guest memory)' }),
  capabilities: Type.Object({
    guestMemfd: Type.Integer({ description: 'KVM_CAP_GUEST_MEMFD' }),
    guestMemfdFlags: Type.Integer({ description: 'KVM_CAP_GUEST_MEMFD_FLAGS: supported creation flags (1 MMAP, 2 INIT_SHARED)' }),
    vmTypes: Type.Integer({ description: 'KVM_CAP_VM_TYPES bitmask' }),
    nrMemslots: Type.Integer({ description: 'KVM_CAP_NR_MEMSLOTS' }),
    readonlyMem: Type.Integer({ description: 'KVM_CAP_READONLY_MEM' }),
    userMemory2: Type.Integer({ description: 'KVM_CAP_USER_MEMORY2' }),
    shareableInodes: Type.Boolean(), readonlyViews: Type.Boolean(),
    privateMemVmTypes: Type.Array(Type.Integer(), { description: 'VM types in KVM_CAP_VM_TYPES whose guests fault private guest_memfd pages (SW_PROTECTED 1, SNP 4, TDX 5)' }),
    privateInodesGuestReachable: Type.Boolean({ description: 'Whether a guest of the VM type gmemd creates can reach a private (non-shareable) inode. ' +
      'False when that type is not one of privateMemVmTypes: binding a private inode is then refused (409 inode.not_guest_reachable); creating one stays possible' }),
  }),
  operations: Type.Record(Type.String(), Type.Boolean(), { description: 'Which gmemd operations this kernel supports' }),
  limits: ref(Limits),
  memory: Type.Object({ hostTotalBytes: Nullable(Bytes), unevictableBytes: Nullable(Bytes), liveInodeBytes: Bytes }),
  ledger: Type.Object({ vmsActive: Type.Integer(), inodesLive: Type.Integer(), events: Type.Integer() }),
  service: Type.Object({ version: Type.String(), pid: Type.Integer(), startedAt: Time, db: Type.String() }),
  /** What start-up reconcile marked lost and resolved; absent for an app built in-process. */
  reconcile: Type.Optional(ref(StartupReconcile)),
}, { $id: 'Host', additionalProperties: true });

export const Health = Type.Object({ status: Type.String() }, { $id: 'Health' });

export const HOST_SCHEMAS = [Limits, Host, Health];
