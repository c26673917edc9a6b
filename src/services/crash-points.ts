// Every named step boundary where a test may SIGKILL the process (GMEMD_TEST_CRASH_AT). One
// list, typed: ctx.crashPoint only accepts these names, so a new boundary cannot be added
// without appearing here, and the crash-at-every-step test walks this list, so it cannot
// silently miss one. The value names the operation a test performs to reach the point.
export const CRASH_POINTS = {
  'binding.create:before_kernel': 'bind',
  'binding.create:kernel': 'bind',
  // After the record is durable, before the reply leaves: a replay must find the stored reply.
  'binding.create:recorded': 'bind',
  'binding.delete:kernel': 'unbind',
  'file.share:before_commit': 'share',
  'file.narrow:intent': 'narrow',
  'file.narrow:memslots_deleted': 'narrow',
  'file.revoke:intent': 'revoke',
  'file.revoke:memslots_deleted': 'revoke',
  'file.revoke:released': 'revoke',
  'file.donate:intent': 'donate',
  'file.donate:memslots_deleted': 'donate',
  'migration.commit:intent': 'migrate',
  'migration.commit:source_deleted': 'migrate',
  'migration.commit:target_created': 'migrate',
  // VM destroy closes its files through teardown.ts, whose steps are named by the closing action.
  'vm.destroy:intent': 'destroy',
  'file.close:memslots_deleted': 'destroy',
  'file.close:released': 'destroy',
  'vm.destroy:recorded': 'destroy',
  // In a handover successor: the old process must resume, whichever side of the record it died.
  'handover.adopt:kernel': 'handover',
  'handover.adopt:recorded': 'handover',
} as const;

export type CrashPoint = keyof typeof CRASH_POINTS;
export type CrashOperation = (typeof CRASH_POINTS)[CrashPoint];

export function isCrashPoint(name: string): name is CrashPoint {
  return Object.hasOwn(CRASH_POINTS, name);
}
