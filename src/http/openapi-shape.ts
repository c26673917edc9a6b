// Finishing touches on the document @fastify/swagger builds from the routes (its
// transformObject hook), so that the served document, the committed file and the generated
// client all carry them: tag descriptions, a same-origin server (the reference page's "try
// it" goes to the gmemd that served it), and a named problem+json response that every
// operation lists as its default, plus 401/403 on operations that require a token (or an
// explicit `security: []` on each while the service has no security scheme at all).
type Json = Record<string, any>;

const TAGS: Record<string, string> = {
  host: 'The service and its kernel backend: capabilities, health, metrics, this contract',
  vms: 'KVM VMs (KVM_CREATE_VM) and the one-shot guest probe',
  inodes: 'Guest memory: guest_memfd objects (KVM_CREATE_GUEST_MEMFD)',
  files: 'VMs\' views of inodes: grants, narrowing, revocation, donation, allocation',
  bindings: 'Memslots (KVM_SET_USER_MEMORY_REGION2) mapping a file\'s range at a guest address',
  migrations: 'Moving every file and memslot of a VM to another VM in one step',
  audit: 'The tamper-evident ledger: events, access at an instant, exposure, lineage, verification',
  reconcile: 'Comparing the ledger with the kernel after crashes and migrations, and repairing',
  admin: 'Process handover to a successor',
  tokens: 'Bearer tokens and their roles',
};

const PROBLEM_SCHEMA = { $ref: '#/components/schemas/Problem' };
const problemResponse = (description: string) => ({ description, content: { 'application/problem+json': { schema: PROBLEM_SCHEMA } } });
const RATE_EXEMPT = new Set(['/livez', '/readyz']);
const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace']);

export function shapeDocument(input: { openapiObject: Partial<Json> } | { swaggerObject: Partial<Json> }): Json {
  if (!('openapiObject' in input)) throw new Error('gmemd builds an OpenAPI 3.1 document, not Swagger 2');
  const doc = input.openapiObject as Json;
  doc.servers = [{ url: '/', description: 'The gmemd that serves this document' }];
  doc.tags = (doc.tags ?? []).map((t: Json) => ({ ...t, description: t.description ?? TAGS[t.name] }));
  doc.components ??= {};
  const secured = (op: Json) => (op.security ?? doc.security ?? []).some((req: Json) => Object.keys(req).length > 0);
  const anySecured = Object.values<Json>(doc.paths ?? {}).some((item) => Object.entries<Json>(item).some(([m, op]) => METHODS.has(m) && secured(op)));
  doc.components.responses = {
    ...doc.components.responses,
    Problem: problemResponse('An error not listed for this operation (RFC 9457 problem details with a stable code)'),
    TooManyRequests: { ...problemResponse('Rate limited (rate.limited): this token\'s requests per minute are used up (GMEMD_RATE_LIMIT_PER_MINUTE)'),
      headers: { 'Retry-After': { description: 'Seconds until the window ends', schema: { type: 'integer', minimum: 0 } } } },
    ...(anySecured ? {
      Unauthorized: problemResponse('No valid bearer token'),
      Forbidden: problemResponse('The token\'s role does not allow this operation (audited as denied), or the file\'s permissions do not'),
    } : {}),
  };
  for (const [path, item] of Object.entries<Json>(doc.paths ?? {})) {
    for (const [method, op] of Object.entries<Json>(item)) {
      if (!METHODS.has(method)) continue;
      op.responses ??= {};
      // Every route but the probes is rate limited (src/http/rate-limit.ts).
      if (!RATE_EXEMPT.has(path)) op.responses['429'] ??= { $ref: '#/components/responses/TooManyRequests' };
      // A service without any security scheme says so on each operation: no credentials needed.
      if (!doc.components.securitySchemes && !doc.security) op.security ??= [];
      if (secured(op)) {
        op.responses['401'] = { $ref: '#/components/responses/Unauthorized' };
        op.responses['403'] = { $ref: '#/components/responses/Forbidden' };
      }
      op.responses.default ??= { $ref: '#/components/responses/Problem' };
    }
  }
  return doc;
}

/** The document as served and committed: the same bytes both ways. */
export function documentText(doc: unknown): string {
  return JSON.stringify(doc, null, 2) + '\n';
}
