// The audit vocabulary: every action an event can carry. Lineage, access and exposure
// queries depend on these names and on the details keys documented here.
export const ACTIONS = [
  'vm.create', 'vm.destroy', 'vm.probe',
  'inode.create', 'inode.release', 'inode.allocate', 'inode.punch_hole',
  // file.share: fileId = new grantee file, details {grantorFileId, toVmId, permissions}
  'file.share',
  // file.narrow: details {from: string[], to: string[]}
  'file.narrow',
  'file.revoke', 'file.close',
  // file.donate / file.migrate: fileId = the receiving file, details
  // {fromVmId, toVmId, fromFileId, toFileId, role}; for the owner role these are the
  // ownership changes lineage lists, after inode.create.
  'file.donate', 'file.migrate',
  'binding.create', 'binding.delete',
  'migration.prepare', 'migration.commit', 'migration.abort',
  'reconcile.lost', 'reconcile.drift', 'reconcile.repair', 'reconcile.intent',
  'handover.start', 'handover.adopt',
  // token.create / token.revoke: details {tokenId, name, role}; never the secret.
  'token.create', 'token.revoke',
  // A read refused for the caller's role (a refused mutation is denied under its own action): details {operation, method, url}.
  'access.denied',
] as const;

export type Action = (typeof ACTIONS)[number];
