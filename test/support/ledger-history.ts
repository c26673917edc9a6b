// Builds ledger histories for audit tests and the audit benchmark the way the services write
// them: state rows, the audit event and access intervals in one unit of work, with a clock the
// caller advances. It is a stand-in for src/services, not a copy of its rules: only what the
// audit queries read (vms, inodes, files, intervals, events) is written.
import type { Store } from '../../src/store/store.js';
import type { EventInput, EventRow } from '../../src/store/audit-chain.js';
import type { FileRow, InodeRow, VmRow } from '../../src/store/rows.js';
import { newId } from '../../src/store/ids.js';

export const ALL_PERMISSIONS = ['allocate', 'read', 'share', 'write'];

export class Clock {
  constructor(public t = 1_700_000_000_000) {}
  readonly now = (): number => this.t;
  tick(ms = 1): number { this.t += ms; return this.t; }
}

export class History {
  constructor(readonly store: Store, readonly actor = 'local') {}

  event(input: Omit<EventInput, 'actor'> & { actor?: string }): EventRow {
    return this.store.uow.run(() => this.store.chain.append({ actor: this.actor, ...input }));
  }

  vm(name: string): VmRow {
    return this.store.uow.run(() => {
      const row: VmRow = { id: newId('vm', this.store.now()), name, labels: {}, vmType: 0, state: 'active', createdAt: this.store.now(), endedAt: null };
      this.store.vms.insert(row);
      this.store.chain.append({ actor: this.actor, action: 'vm.create', outcome: 'ok', vmId: row.id, details: { name } });
      return row;
    });
  }

  /** Destroys a VM: closes its files; inodes left without files are released. */
  destroyVm(vmId: string): void {
    this.store.uow.run(() => {
      const ev = this.store.chain.append({ actor: this.actor, action: 'vm.destroy', outcome: 'ok', vmId });
      for (const f of this.store.files.byVm(vmId)) this.closeFile(f, ev);
      this.store.vms.setState(vmId, 'destroyed', ev.time);
    });
  }

  inode(ownerVmId: string, opts: { size?: number; shareable?: boolean } = {}): { inode: InodeRow; file: FileRow } {
    return this.store.uow.run(() => {
      const now = this.store.now();
      const inode: InodeRow = { id: newId('ino', now), size: opts.size ?? 2 * 1024 * 1024, shareable: opts.shareable ?? true,
        kernelInode: Math.floor(Math.random() * 1e6), originVmId: ownerVmId, ownerVmId, labels: {}, state: 'live', createdAt: now, endedAt: null };
      this.store.inodes.insert(inode);
      const file = this.newFile(inode.id, ownerVmId, 'owner', ALL_PERMISSIONS, null);
      const ev = this.store.chain.append({ actor: this.actor, action: 'inode.create', outcome: 'ok', vmId: ownerVmId, inodeId: inode.id, fileId: file.id, details: { size: inode.size, shareable: inode.shareable } });
      this.store.access.open(file, ev);
      return { inode, file };
    });
  }

  share(granterFileId: string, toVmId: string, permissions: string[]): FileRow {
    return this.store.uow.run(() => {
      const granter = this.store.files.get(granterFileId)!;
      const file = this.newFile(granter.inodeId, toVmId, 'grantee', [...permissions].sort(), granter.id);
      const ev = this.store.chain.append({ actor: this.actor, action: 'file.share', outcome: 'ok', vmId: toVmId, inodeId: granter.inodeId, fileId: file.id,
        details: { grantorFileId: granter.id, toVmId, permissions: file.permissions } });
      this.store.access.open(file, ev);
      return file;
    });
  }

  narrow(fileId: string, permissions: string[]): void {
    this.store.uow.run(() => {
      const f = this.store.files.get(fileId)!;
      const to = [...permissions].sort();
      const ev = this.store.chain.append({ actor: this.actor, action: 'file.narrow', outcome: 'ok', vmId: f.vmId, inodeId: f.inodeId, fileId, details: { from: f.permissions, to } });
      this.store.files.update(fileId, { permissions: to });
      this.store.access.change({ ...f, permissions: to }, ev);
    });
  }

  revoke(fileId: string): void {
    this.store.uow.run(() => {
      const f = this.store.files.get(fileId)!;
      const ev = this.store.chain.append({ actor: this.actor, action: 'file.revoke', outcome: 'ok', vmId: f.vmId, inodeId: f.inodeId, fileId });
      this.closeFile(f, ev);
    });
  }

  /** Ownership moves to toVmId (its grantee file is promoted, or a new file made); the old
   *  owner file closes. action: file.donate, or file.migrate for a committed migration. */
  transferOwner(ownerFileId: string, toVmId: string, action: 'file.donate' | 'file.migrate' = 'file.donate', migrationId?: string): FileRow {
    return this.store.uow.run(() => {
      const from = this.store.files.get(ownerFileId)!;
      const existing = this.store.files.liveFor(from.inodeId, toVmId);
      let to: FileRow;
      if (existing) {
        to = { ...existing, role: 'owner', permissions: ALL_PERMISSIONS, grantedByFileId: null };
        this.store.files.update(existing.id, { role: 'owner', permissions: ALL_PERMISSIONS, grantedByFileId: null });
      } else {
        to = this.newFile(from.inodeId, toVmId, 'owner', ALL_PERMISSIONS, null);
      }
      const ev = this.store.chain.append({ actor: this.actor, action, outcome: 'ok', vmId: toVmId, inodeId: from.inodeId, fileId: to.id, migrationId: migrationId ?? null,
        details: { fromVmId: from.vmId, toVmId, fromFileId: from.id, toFileId: to.id, role: 'owner' } });
      if (existing) this.store.access.change(to, ev); else this.store.access.open(to, ev);
      this.closeFile(from, ev);
      this.store.inodes.setOwner(from.inodeId, toVmId);
      return to;
    });
  }

  private newFile(inodeId: string, vmId: string, role: FileRow['role'], permissions: string[], grantedByFileId: string | null): FileRow {
    const now = this.store.now();
    const file: FileRow = { id: newId('file', now), inodeId, vmId, role, permissions, grantedByFileId, migrationId: null, state: 'open', createdAt: now, endedAt: null };
    this.store.files.insert(file);
    return file;
  }

  private closeFile(f: FileRow, ev: EventRow): void {
    this.store.files.update(f.id, { state: 'closed', endedAt: ev.time });
    this.store.access.close(f.id, ev);
    if (this.store.files.byInode(f.inodeId).length === 0) {
      this.store.inodes.setState(f.inodeId, 'released', ev.time);
      this.store.chain.append({ actor: this.actor, action: 'inode.release', outcome: 'ok', inodeId: f.inodeId });
    }
  }
}
