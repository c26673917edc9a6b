import { Type } from 'typebox';
import { literals } from './literals.js';
import { Bytes, Nullable, ref, Time } from './common.js';
import { StartupReconcile } from './reconcile-schemas.js';

export const Host = Type.Object({
  backend: literals(['native', 'simulated'] as const),
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
  limits: Type.Object({ nofileSoft: Nullable(Type.Integer()), nofileHard: Nullable(Type.Integer()), memslotsPerVm: Type.Integer() }),
  memory: Type.Object({ hostTotalBytes: Nullable(Bytes), unevictableBytes: Nullable(Bytes), liveInodeBytes: Bytes }),
  ledger: Type.Object({ vmsActive: Type.Integer(), inodesLive: Type.Integer(), events: Type.Integer() }),
  service: Type.Object({ version: Type.String(), pid: Type.Integer(), startedAt: Time, db: Type.String() }),
  /** What start-up reconcile marked lost and resolved; absent for an app built in-process. */
  reconcile: Type.Optional(ref(StartupReconcile)),
}, { $id: 'Host', additionalProperties: true });

export const Health = Type.Object({ status: Type.String() }, { $id: 'Health' });

export const HOST_SCHEMAS = [Host, Health];
