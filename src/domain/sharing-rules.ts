// Preconditions of share, donate and revoke, over plain facts the service gathers from the
// ledger: which file, its inode, the other VM, what that VM already holds, and whether either
// takes part in an unfinished migration. Each returns the first rule broken, or what to do.
import { err, ok, type Result } from './result.js';
import { checkGrant, type Permission } from './permissions.js';

interface FileFacts { id: string; vmId: string; inodeId: string; role: string; state: string; permissions: readonly string[] }
interface InodeFacts { id: string; shareable: boolean }
interface MigrationFacts { id: string; vmId: string }

export interface ShareFacts {
  file: FileFacts; inode: InodeFacts; toVmId: string; permissions: readonly string[];
  /** The target VM's live file on the inode, if any. */
  existing: { id: string } | null;
  /** An unfinished migration the target VM takes part in. */
  targetMigration: MigrationFacts | null;
}

export function checkShare(f: ShareFacts): Result<Permission[]> {
  if (!f.inode.shareable) return err('inode.not_shareable', `inode ${f.inode.id} is private (created without MMAP|INIT_SHARED) and cannot be shared`);
  if (f.toVmId === f.file.vmId) return err('file.same_vm', `VM ${f.toVmId} already holds file ${f.file.id} on this inode`);
  const perms = checkGrant(f.file, f.permissions);
  if (!perms.ok) return perms;
  if (f.existing) return err('file.already_open', `VM ${f.toVmId} already holds file ${f.existing.id} on inode ${f.inode.id}`, { existingFileId: f.existing.id });
  if (f.targetMigration) return err('vm.in_migration', `VM ${f.toVmId} takes part in migration ${f.targetMigration.id}`, { migrationId: f.targetMigration.id });
  return perms;
}

export interface DonateFacts {
  file: FileFacts; inode: InodeFacts; toVmId: string;
  /** The receiver's live file on the inode: an open grant is promoted to owner. */
  existing: { id: string; state: string } | null;
  /** Unfinished migrations of the donor or the receiver. */
  migrations: MigrationFacts[];
}

/** Before the receiving VM is checked: only an open owner file can be donated. */
export function checkDonor(file: FileFacts): Result<true> {
  if (file.role !== 'owner') return err('file.not_owner', `file ${file.id} is a grant; only the owner file can be donated`);
  if (file.state !== 'open') return err('file.not_open', `file ${file.id} is ${file.state}`);
  return ok(true);
}

export function checkDonate(f: DonateFacts): Result<true> {
  const donor = checkDonor(f.file);
  if (!donor.ok) return donor;
  if (!f.inode.shareable) return err('inode.not_shareable', `inode ${f.inode.id} is private: on this kernel its memory can only be reached through its origin VM's memslots`);
  if (f.toVmId === f.file.vmId) return err('file.same_vm', `VM ${f.toVmId} already owns inode ${f.inode.id}`);
  const mig = f.migrations[0];
  if (mig) return err('vm.in_migration', `VM ${mig.vmId} takes part in migration ${mig.id}`, { migrationId: mig.id });
  // Outside a migration a live file is open; pending files belong to one (refused above).
  if (f.existing && f.existing.state !== 'open') {
    return err('file.already_open', `VM ${f.toVmId} holds file ${f.existing.id} (${f.existing.state}) on this inode`, { existingFileId: f.existing.id });
  }
  return ok(true);
}

export function checkRevoke(file: FileFacts): Result<true> {
  if (file.role !== 'grantee') return err('file.not_grantee', 'the owner file is not a grant; donate it or destroy its VM');
  if (file.state !== 'open') return err('file.not_open', `file ${file.id} is ${file.state}`);
  return ok(true);
}
