// Audit results to wire shapes: epoch-ms times become ISO strings, as everywhere else in the
// API. The ISO form keeps the millisecond, so Date.parse(event.time) is the hashed value.
import type { AuditEvent } from '../store/audit/event-rows.js';
import type { AccessHolder } from '../store/audit/queries/access.js';
import type { OwnershipStep } from '../store/audit/queries/lineage.js';

const iso = (t: number) => new Date(t).toISOString();

export const auditEventJson = (e: AuditEvent) => ({ ...e, time: iso(e.time) });

export const accessHolderJson = (h: AccessHolder) => ({
  ...h,
  permissions: h.permissions as ('read' | 'write' | 'allocate' | 'share')[],
  from: { time: iso(h.from.time), seq: h.from.seq },
  to: h.to && { time: iso(h.to.time), seq: h.to.seq },
});

export const ownershipStepJson = (s: OwnershipStep) => ({ ...s, time: iso(s.time) });

/** An ISO date-time query parameter as epoch ms (the schema has checked the format). */
export const msOf = (value: string | undefined): number | undefined => (value === undefined ? undefined : Date.parse(value));
