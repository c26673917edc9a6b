// The result type every domain rule and use case returns, and the closed set of error codes.
// HTTP status for each code lives in one registry (src/http/error-registry.ts).
import type { ErrnoName } from '../kvm/kernel-error.js';

export type ErrorCode =
  | 'request.invalid' | 'request.idempotency_conflict' | 'request.timeout' | 'request.headers_too_large'
  | 'vm.not_found' | 'vm.name_taken' | 'vm.not_active' | 'vm.in_migration'
  | 'inode.not_found' | 'inode.invalid_size' | 'inode.not_shareable' | 'inode.not_live' | 'inode.not_guest_reachable'
  | 'file.not_found' | 'file.not_open' | 'file.pending' | 'file.permission_denied'
  | 'file.permission_escalation' | 'file.already_open' | 'file.not_grantee' | 'file.not_owner'
  | 'file.same_vm' | 'file.not_narrowing'
  | 'range.misaligned' | 'range.out_of_bounds' | 'range.empty'
  | 'binding.not_found' | 'binding.misaligned' | 'binding.out_of_bounds' | 'binding.gpa_overlap'
  | 'binding.offset_overlap' | 'binding.slot_in_use' | 'binding.slots_exhausted' | 'binding.too_large'
  | 'memslot.outside_mapping' | 'memslot.mapping_in_use'
  | 'binding.empty' | 'binding.gpa_out_of_range'
  | 'migration.not_found' | 'migration.same_vm' | 'migration.vm_busy' | 'migration.conflict'
  | 'migration.not_prepared' | 'migration.nothing_to_move'
  | 'probe.out_of_range' | 'probe.no_code_page'
  | 'audit.cursor_invalid' | 'audit.checkpoint_mismatch'
  | 'quota.memory' | 'quota.vms' | 'quota.inodes' | 'quota.bindings' | 'rate.limited'
  | 'handover.private_inodes' | 'handover.in_progress' | 'handover.unavailable' | 'handover.failed' | 'service.unavailable'
  | 'auth.required' | 'auth.invalid' | 'auth.forbidden'
  | 'token.not_found' | 'token.name_taken' | 'token.revoked' | 'token.last_admin'
  | 'kernel.unavailable' | 'request.route_not_found' | 'internal.error'
  | `kernel.${Lowercase<ErrnoName>}`;

export interface DomainError {
  code: ErrorCode;
  message: string;
  /** Extra members for problem+json (e.g. conflicting binding id, errno, operation). */
  details?: Record<string, unknown>;
}

export type Result<T, E = DomainError> = { ok: true; value: T } | { ok: false; error: E };

export const ok = <T>(value: T): Result<T, never> => ({ ok: true, value });
export const err = (code: ErrorCode, message: string, details?: Record<string, unknown>): Result<never> =>
  ({ ok: false, error: { code, message, ...(details ? { details } : {}) } });
