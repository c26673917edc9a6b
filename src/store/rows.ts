// Row types of the ledger tables, as drizzle infers them.
import type { vms, inodes, files, bindings, migrations, intents, tokens } from './schema.js';

export type VmRow = typeof vms.$inferSelect;
export type InodeRow = typeof inodes.$inferSelect;
export type FileRow = typeof files.$inferSelect;
export type BindingRow = typeof bindings.$inferSelect;
export type MigrationRow = typeof migrations.$inferSelect;
export type IntentRow = typeof intents.$inferSelect;
export type TokenRow = typeof tokens.$inferSelect;

export type VmState = VmRow['state'];
export type InodeState = InodeRow['state'];
export type FileState = FileRow['state'];
export type BindingState = BindingRow['state'];

/** The columns the lost marking reads of every live inode, file and active binding (reconcile/lost.ts). */
export type LiveInodeRef = Pick<InodeRow, 'id' | 'ownerVmId' | 'kernelInode'>;
export type LiveFileRef = Pick<FileRow, 'id' | 'vmId' | 'inodeId' | 'state' | 'role'>;
export type ActiveBindingRef = Pick<BindingRow, 'id' | 'vmId' | 'inodeId' | 'fileId' | 'slot' | 'gpa'>;
