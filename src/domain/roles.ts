// Who may do what: the three roles of a bearer token and the access class of every route,
// defined once. A route declares its class (src/http/auth/route-access.ts); `mayCall` is the
// whole policy. The role matrix test (test/http/role-matrix.test.ts) checks every operation
// of the committed OpenAPI document against this table.
export const ROLES = ['admin', 'operator', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

/**
 * public:  no token (health probes, the contract and its reference page).
 * read:    state of VMs, inodes, files, bindings, migrations, host and metrics.
 * audit:   the audit API (events, access, exposure, lineage, verify, export).
 * operate: every mutation of guest memory: VMs, inodes, files, shares, bindings, migrations, probe.
 * admin:   tokens, handover, reconcile (with or without repair), the host scan, test hooks.
 */
export const ACCESS_CLASSES = ['public', 'read', 'audit', 'operate', 'admin'] as const;
export type AccessClass = (typeof ACCESS_CLASSES)[number];

const ALLOWED: Record<Exclude<AccessClass, 'public'>, readonly Role[]> = {
  read: ['admin', 'operator', 'auditor'],
  audit: ['admin', 'operator', 'auditor'],
  operate: ['admin', 'operator'],
  admin: ['admin'],
};

/** Whether a token of `role` may call a route of class `access`; `public` needs no token at all. */
export function mayCall(role: Role, access: AccessClass): boolean {
  return access === 'public' || ALLOWED[access].includes(role);
}

export const isRole = (s: unknown): s is Role => typeof s === 'string' && (ROLES as readonly string[]).includes(s);
