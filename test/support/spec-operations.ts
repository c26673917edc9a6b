// The operations of the committed contract (openapi/openapi.json), for tests that must
// cover every route: the role matrix and the fuzz test read them, so a new route is in both
// the moment its operation is in the document.
import { readFileSync } from 'node:fs';

export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT';

export interface SpecOperation {
  operationId: string;
  method: Method;
  /** The path template, e.g. /v1/vms/{vmId}. */
  path: string;
  params: string[];
  op: Record<string, any>;
  /** The documented request-body example, when there is one. */
  example?: unknown;
}

export const SPEC = JSON.parse(readFileSync(new URL('../../openapi/openapi.json', import.meta.url), 'utf8'));
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

export const SPEC_OPERATIONS: SpecOperation[] = Object.entries<Record<string, any>>(SPEC.paths).flatMap(([path, item]) =>
  Object.entries(item).filter(([m]) => METHODS.includes(m)).map(([m, op]) => ({
    operationId: op.operationId as string,
    method: m.toUpperCase() as Method,
    path,
    params: [...path.matchAll(/\{(\w+)\}/g)].map((x) => x[1]!),
    op,
    example: op.requestBody?.content?.['application/json']?.example,
  })));

/** The path with each {param} replaced (URI-encoded). */
export function fillPath(o: SpecOperation, value: (param: string) => string): string {
  return o.path.replace(/\{(\w+)\}/g, (_, p: string) => encodeURIComponent(value(p)));
}

/** Whether the document says the operation needs the bearer token. */
export const isSecured = (o: SpecOperation) => (o.op.security ?? SPEC.security ?? []).some((r: object) => Object.keys(r).length > 0);
