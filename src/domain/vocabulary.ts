// Every closed set of words the ledger and the API share, defined once: the drizzle schema's
// enums, the TypeBox wire schemas (and so the OpenAPI document) and the row types derive from
// these. Actions live in actions.ts, permissions in permissions.ts, error codes in result.ts.
export const VM_STATES = ['active', 'destroyed', 'lost'] as const;
export const INODE_STATES = ['live', 'released', 'lost'] as const;
export const FILE_STATES = ['open', 'pending', 'closed', 'lost'] as const;
export const FILE_ROLES = ['owner', 'grantee'] as const;
export const BINDING_STATES = ['active', 'deleted', 'lost'] as const;
export const BINDING_KINDS = ['gmem', 'view'] as const;
export const MIGRATION_KINDS = ['migration', 'handover'] as const;
export const MIGRATION_STATES = ['prepared', 'committed', 'aborted'] as const;
export const INTENT_STATES = ['open', 'done', 'resolved'] as const;
export const OUTCOMES = ['ok', 'denied', 'failed'] as const;

export type Outcome = (typeof OUTCOMES)[number];
