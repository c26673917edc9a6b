// Permission rules for files: what a grant may carry, what narrowing may do, and which
// operations each permission allows. Pure: plain values in, Result out.
import { err, ok, type Result } from './result.js';

export const PERMISSIONS = ['read', 'write', 'allocate', 'share'] as const;
export type Permission = (typeof PERMISSIONS)[number];
export const OWNER_PERMISSIONS: Permission[] = [...PERMISSIONS];

/** Canonical order, no duplicates: stored and compared in this form. */
export function normalizePermissions(perms: readonly string[]): Permission[] {
  return PERMISSIONS.filter((p) => perms.includes(p));
}

export function hasPermission(perms: readonly string[], p: Permission): boolean {
  return perms.includes(p);
}

interface GrantingFile { id: string; state: string; permissions: readonly string[] }

/** A grant never carries a permission its granter lacks; `allocate` stays with the owner. */
export function checkGrant(granter: GrantingFile, requested: readonly string[]): Result<Permission[]> {
  const perms = normalizePermissions(requested);
  if (granter.state !== 'open') return err('file.not_open', `file ${granter.id} is not open`);
  if (!hasPermission(granter.permissions, 'share')) {
    return err('file.permission_denied', `file ${granter.id} lacks the share permission`, { required: 'share' });
  }
  if (perms.length === 0) return err('request.invalid', 'a grant needs at least one permission');
  if (perms.includes('allocate')) {
    return err('file.permission_escalation', 'allocate (fallocate and punch-hole) belongs to the owner only',
      { permission: 'allocate' });
  }
  const extra = perms.filter((p) => !granter.permissions.includes(p));
  if (extra.length > 0) {
    return err('file.permission_escalation', `the granter lacks ${extra.join(', ')}`, { permissions: extra });
  }
  return ok(perms);
}

/** Narrowing keeps a non-empty subset of a grantee's permissions. */
export function checkNarrow(file: GrantingFile & { role: string }, requested: readonly string[]): Result<Permission[]> {
  const perms = normalizePermissions(requested);
  if (file.state !== 'open') return err('file.not_open', `file ${file.id} is not open`);
  if (file.role !== 'grantee') return err('file.not_grantee', 'only a grant can be narrowed; the owner holds every permission');
  if (perms.length === 0) return err('request.invalid', 'narrowing to no permission is a revoke: POST …/revoke');
  const extra = perms.filter((p) => !file.permissions.includes(p));
  if (extra.length > 0) {
    return err('file.not_narrowing', `narrowing cannot add ${extra.join(', ')}`, { permissions: extra });
  }
  return ok(perms);
}

/** Binding a view needs read; a writable view needs write. */
export function checkCanBind(file: GrantingFile): Result<{ writable: boolean }> {
  if (file.state === 'pending') return err('file.pending', `file ${file.id} is pending a migration and cannot be bound`);
  if (file.state !== 'open') return err('file.not_open', `file ${file.id} is not open`);
  if (!hasPermission(file.permissions, 'read')) {
    return err('file.permission_denied', `file ${file.id} lacks the read permission`, { required: 'read' });
  }
  return ok({ writable: hasPermission(file.permissions, 'write') });
}

export function checkCanAllocate(file: GrantingFile & { role: string }): Result<true> {
  if (file.state !== 'open') return err('file.not_open', `file ${file.id} is not open`);
  if (!hasPermission(file.permissions, 'allocate')) {
    return err('file.permission_denied', `file ${file.id} lacks the allocate permission`, { required: 'allocate' });
  }
  return ok(true);
}
