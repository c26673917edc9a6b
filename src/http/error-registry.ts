// The one map from error code to HTTP status. Exhaustive over the closed union: adding a
// code without a status does not compile. Kernel refusals map by errno.
import type { ErrorCode } from '../domain/result.js';

type NonKernel = Exclude<ErrorCode, `kernel.${string}`>;

const STATUS: Record<NonKernel, number> = {
  'request.invalid': 400, 'request.idempotency_conflict': 422, 'request.timeout': 408, 'request.headers_too_large': 431,
  'vm.not_found': 404, 'vm.name_taken': 409, 'vm.not_active': 409, 'vm.in_migration': 409,
  'inode.not_found': 404, 'inode.invalid_size': 422, 'inode.not_shareable': 409, 'inode.not_live': 409,
  'inode.not_guest_reachable': 409,
  'file.not_found': 404, 'file.not_open': 409, 'file.pending': 409, 'file.permission_denied': 403,
  'file.permission_escalation': 403, 'file.already_open': 409, 'file.not_grantee': 409, 'file.not_owner': 409,
  'file.same_vm': 409, 'file.not_narrowing': 422,
  'range.misaligned': 422, 'range.out_of_bounds': 422, 'range.empty': 422,
  'binding.not_found': 404, 'binding.misaligned': 422, 'binding.out_of_bounds': 422, 'binding.gpa_overlap': 409,
  'binding.offset_overlap': 409, 'binding.slot_in_use': 409, 'binding.slots_exhausted': 409, 'binding.too_large': 422,
  'memslot.outside_mapping': 422, 'memslot.mapping_in_use': 409,
  'binding.empty': 422, 'binding.gpa_out_of_range': 422,
  'migration.not_found': 404, 'migration.same_vm': 422, 'migration.vm_busy': 409, 'migration.conflict': 409,
  'migration.not_prepared': 409, 'migration.nothing_to_move': 422,
  'probe.out_of_range': 422, 'probe.no_code_page': 409,
  'audit.cursor_invalid': 400, 'audit.checkpoint_mismatch': 409,
  'quota.memory': 409, 'quota.vms': 409, 'quota.inodes': 409, 'quota.bindings': 409, 'rate.limited': 429,
  'handover.private_inodes': 409, 'handover.in_progress': 503, 'handover.unavailable': 409, 'handover.failed': 500,
  'service.unavailable': 503,
  'auth.required': 401, 'auth.invalid': 401, 'auth.forbidden': 403,
  'token.not_found': 404, 'token.name_taken': 409, 'token.revoked': 409, 'token.last_admin': 409,
  'request.route_not_found': 404, 'internal.error': 500,
};

const KERNEL_STATUS: Record<string, number> = {
  'kernel.unavailable': 503, 'kernel.eexist': 409, 'kernel.ebusy': 409,
  'kernel.enomem': 507, 'kernel.enospc': 507,
  'kernel.emfile': 503, 'kernel.enfile': 503, 'kernel.eagain': 503, 'kernel.eintr': 503,
};

export function statusFor(code: ErrorCode): number {
  if (code in STATUS) return STATUS[code as NonKernel];
  // Any other refusal means the kernel found the request unprocessable as sent.
  return KERNEL_STATUS[code] ?? 422;
}

/** Codes a client may retry unchanged. */
export const RETRYABLE = new Set<string>(['service.unavailable', 'handover.in_progress', 'kernel.eagain', 'kernel.eintr']);
