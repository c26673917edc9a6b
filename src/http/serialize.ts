// Ledger rows to wire shapes: ISO times, and nothing internal leaks.
import type { BindingRow, FileRow, InodeRow, VmRow } from '../store/rows.js';

const iso = (t: number) => new Date(t).toISOString();
const isoOrNull = (t: number | null) => (t === null ? null : iso(t));

export const vmJson = (v: VmRow) => ({
  id: v.id, name: v.name, labels: v.labels, state: v.state, createdAt: iso(v.createdAt), endedAt: isoOrNull(v.endedAt),
});

export const inodeJson = (i: InodeRow) => ({
  id: i.id, size: i.size, shareable: i.shareable, kernelInode: i.kernelInode, originVmId: i.originVmId,
  ownerVmId: i.ownerVmId, labels: i.labels, state: i.state, createdAt: iso(i.createdAt), endedAt: isoOrNull(i.endedAt),
});

export const fileJson = (f: FileRow) => ({
  id: f.id, inodeId: f.inodeId, vmId: f.vmId, role: f.role, permissions: f.permissions as ('read' | 'write' | 'allocate' | 'share')[],
  grantedByFileId: f.grantedByFileId, migrationId: f.migrationId, state: f.state,
  createdAt: iso(f.createdAt), endedAt: isoOrNull(f.endedAt),
});

export const bindingJson = (b: BindingRow) => ({
  id: b.id, fileId: b.fileId, vmId: b.vmId, inodeId: b.inodeId, slot: b.slot, gpa: b.gpa, offset: b.offset,
  size: b.size, readonly: b.readonly, kind: b.kind, state: b.state, createdAt: iso(b.createdAt), endedAt: isoOrNull(b.endedAt),
});

export function pageJson<R, J>(page: { items: R[]; nextCursor: string | null }, map: (r: R) => J) {
  return { items: page.items.map(map), nextCursor: page.nextCursor };
}
