// The resources: VMs, inodes (storage), files (one VM's view) and bindings (memslots).
import { Type } from 'typebox';
import { Bounded, Bytes, Id, Labels, Nullable, PageOf, ref, RefId, Time } from './common.js';
import { WIRE } from '../../domain/limits.js';
import { MAX_GPA, MAX_INODE_SIZE, MAX_OFFSET, PAGE } from '../../domain/ranges.js';
import { NR_MEMSLOTS } from '../../domain/slots.js';
import { literals } from './literals.js';
import { BINDING_KINDS, BINDING_STATES, FILE_ROLES, FILE_STATES, INODE_STATES, VM_STATES } from '../../domain/vocabulary.js';
import { PERMISSIONS } from '../../domain/permissions.js';

export const Permission = literals(PERMISSIONS);

export const Vm = Type.Object({
  id: Id('vm'), name: Type.String(), labels: Labels,
  state: literals(VM_STATES),
  createdAt: Time, endedAt: Nullable(Time),
}, { $id: 'Vm', additionalProperties: false });

export const Inode = Type.Object({
  id: Id('ino'), size: Bytes, shareable: Type.Boolean(),
  kernelInode: Type.Integer({ description: 'The inode number the kernel reports for the guest_memfd (fstat st_ino)' }),
  originVmId: Id('vm'), ownerVmId: Id('vm'), labels: Labels,
  state: literals(INODE_STATES),
  createdAt: Time, endedAt: Nullable(Time),
}, { $id: 'Inode', additionalProperties: false });

export const File = Type.Object({
  id: Id('file'), inodeId: Id('ino'), vmId: Id('vm'),
  role: literals(FILE_ROLES),
  permissions: Type.Array(Permission),
  grantedByFileId: Nullable(Type.String()), migrationId: Nullable(Type.String()),
  state: literals(FILE_STATES),
  createdAt: Time, endedAt: Nullable(Time),
}, { $id: 'File', additionalProperties: false });

export const Binding = Type.Object({
  id: Id('bind'), fileId: Id('file'), vmId: Id('vm'), inodeId: Id('ino'),
  slot: Type.Integer(), gpa: Bytes, offset: Bytes, size: Bytes,
  readonly: Type.Boolean({ description: 'KVM_MEM_READONLY is set on the memslot' }),
  kind: literals(BINDING_KINDS, { description: 'gmem: a KVM_MEM_GUEST_MEMFD memslot; view: a plain memslot over gmemd\'s mapping' }),
  state: literals(BINDING_STATES),
  createdAt: Time, endedAt: Nullable(Time),
}, { $id: 'Binding', additionalProperties: false });

export const MemoryTotals = Type.Object({
  ownedBytes: Bytes, ownedInodes: Type.Integer(), boundBytes: Bytes, openFiles: Type.Integer(),
}, { $id: 'MemoryTotals', additionalProperties: false });

export const VmDetail = Type.Object({
  vm: ref(Vm), files: Type.Array(ref(File)), bindings: Type.Array(ref(Binding)), memory: ref(MemoryTotals),
}, { $id: 'VmDetail', additionalProperties: false });

export const InodeDetail = Type.Object({
  inode: ref(Inode), files: Type.Array(ref(File)), bindings: Type.Array(ref(Binding)),
}, { $id: 'InodeDetail', additionalProperties: false });

export const InodeCreated = Type.Object({ inode: ref(Inode), file: ref(File) }, { $id: 'InodeCreated', additionalProperties: false });

export const VmDestroyed = Type.Object({
  vm: ref(Vm), closedFiles: Type.Array(Type.String()), releasedInodes: Type.Array(Type.String()),
  deletedBindings: Type.Array(Type.String()),
}, { $id: 'VmDestroyed', additionalProperties: false });

export const VmList = PageOf(Vm, 'VmList');
export const InodeList = PageOf(Inode, 'InodeList');
export const FileList = PageOf(File, 'FileList');
export const BindingList = PageOf(Binding, 'BindingList');

export const CreateVmRequest = Type.Object({
  name: Type.String({ minLength: 1, maxLength: WIRE.nameMaxLength, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' }),
  labels: Type.Optional(Labels),
}, { $id: 'CreateVmRequest', additionalProperties: false });

export const CreateInodeRequest = Type.Object({
  ownerVmId: RefId('The owner VM'),
  size: Bounded(MAX_INODE_SIZE, `Bytes; a positive multiple of ${PAGE}, at most ${MAX_INODE_SIZE} (1 TiB) and within the memory budget (409 quota.memory; GET /v1/host limits)`),
  shareable: Type.Optional(Type.Boolean({ default: true, description: 'MMAP|INIT_SHARED: other VMs can view it' })),
  labels: Type.Optional(Labels),
}, { $id: 'CreateInodeRequest', additionalProperties: false });

export const RangeRequest = Type.Object({
  offset: Bounded(MAX_OFFSET, 'Offset in the inode, page-aligned'),
  length: Bounded(MAX_INODE_SIZE, 'Bytes, page-aligned, > 0; offset + length within the inode'),
}, { $id: 'RangeRequest', additionalProperties: false });

export const RangeResult = Type.Object({
  fileId: Type.String(), inodeId: Type.String(), offset: Bytes, length: Bytes,
}, { $id: 'RangeResult', additionalProperties: false });

export const CreateBindingRequest = Type.Object({
  gpa: Bounded(MAX_GPA - PAGE, `Guest-physical address, page-aligned; gpa + size at most ${MAX_GPA} (2^46)`),
  offset: Bounded(MAX_OFFSET, 'Offset in the inode, page-aligned'),
  size: Bounded(MAX_INODE_SIZE, 'Bytes, page-aligned, > 0; offset + size within the inode'),
  slot: Type.Optional(Bounded(NR_MEMSLOTS - 1, 'Memslot id; the lowest free one when absent')),
}, { $id: 'CreateBindingRequest', additionalProperties: false });

export const RESOURCE_SCHEMAS = [Vm, Inode, File, Binding, MemoryTotals, VmDetail, InodeDetail, InodeCreated, VmDestroyed,
  VmList, InodeList, FileList, BindingList, CreateVmRequest, CreateInodeRequest, RangeRequest, RangeResult, CreateBindingRequest];
