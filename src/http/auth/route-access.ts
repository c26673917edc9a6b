// The access class of every operation, by operationId, in one table: a route without an
// entry (and without its own `config.access`) makes buildApp throw, so no route is served
// unclassified. The policy over these classes is src/domain/roles.ts.
import type { AccessClass } from '../../domain/roles.js';

export const ROUTE_ACCESS: Readonly<Record<string, AccessClass>> = {
  // Health probes and the contract: a supervisor and a browser need no token. /docs too (below).
  getLivez: 'public', getReadyz: 'public', getOpenApiDocument: 'public',
  getHost: 'read', getMetrics: 'read',
  listVms: 'read', getVm: 'read', listInodes: 'read', getInode: 'read', listFiles: 'read', getFile: 'read',
  listBindings: 'read', listMigrations: 'read', getMigration: 'read',
  listAuditEvents: 'audit', getAuditAccess: 'audit', getAuditExposure: 'audit', getAuditLineage: 'audit',
  verifyAuditChain: 'audit', exportAuditEvents: 'audit',
  createVm: 'operate', destroyVm: 'operate', probeVm: 'operate', createInode: 'operate',
  allocateFileRange: 'operate', punchFileHole: 'operate', shareFile: 'operate', narrowFile: 'operate',
  revokeFile: 'operate', donateFile: 'operate', createBinding: 'operate', deleteBinding: 'operate',
  prepareMigration: 'operate', commitMigration: 'operate', abortMigration: 'operate',
  // Reconcile records drift and, with repair, changes kernel state to match: admin either way.
  reconcile: 'admin', scanHost: 'admin', startHandover: 'admin',
  createToken: 'admin', listTokens: 'admin', revokeToken: 'admin',
};

/** The Swagger UI's own routes (the page, its assets, its copy of the document). */
const PUBLIC_PREFIXES = ['/docs'];

/** The class of a route as registered: its own config, the table, or the docs prefix. */
export function accessOf(route: { url: string; config?: { access?: AccessClass }; schema?: { operationId?: string } }): AccessClass | undefined {
  if (route.config?.access) return route.config.access;
  const op = route.schema?.operationId;
  if (op) return ROUTE_ACCESS[op];
  return PUBLIC_PREFIXES.some((p) => route.url === p || route.url.startsWith(`${p}/`)) ? 'public' : undefined;
}
