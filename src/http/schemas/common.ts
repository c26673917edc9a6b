// Shared wire shapes. Each named schema carries an $id: registered once with addSchema, it
// becomes a named component in the OpenAPI document, and routes refer to it with ref().
import { Type, type Static, type TSchema } from 'typebox';
import { WIRE } from '../../domain/limits.js';

/** A $ref to a registered schema that keeps the schema's static type for the type provider. */
export function ref<T extends TSchema>(schema: T) {
  const id = (schema as { $id?: string }).$id;
  if (!id) throw new Error('ref() needs a schema with an $id');
  return Type.Unsafe<Static<T>>({ $ref: `${id}#` });
}

/**
 * `nullable` is understood by Ajv; @fastify/swagger turns it into JSON Schema's `null` type in
 * the OpenAPI 3.1 document.
 */
export function Nullable<T extends TSchema>(schema: T) {
  return Type.Unsafe<Static<T> | null>({ ...schema, nullable: true });
}

// A Record's key schema becomes patternProperties, which bounds no key: propertyNames does.
export const Labels = Type.Record(Type.String(), Type.String({ maxLength: WIRE.labelValueMaxLength }),
  { maxProperties: WIRE.labelsMax, propertyNames: { minLength: 1, maxLength: WIRE.labelKeyMaxLength }, description: `Free-form key/value labels: at most ${WIRE.labelsMax}, keys up to ${WIRE.labelKeyMaxLength} characters, values up to ${WIRE.labelValueMaxLength}` });
export const Time = Type.String({ format: 'date-time' });
export const Id = (prefix: string) => Type.String({ pattern: `^${prefix}_[0-9a-z]{26}$`, description: `a ${prefix}_… id` });
/**
 * An id a client sends (path, query, body): bounded and of a safe set, so a hostile one is a
 * 400 before it reaches a query or an event; one of the right shape that names nothing is a 404.
 */
export const RefId = (what: string) => Type.String({ minLength: 1, maxLength: WIRE.idMaxLength, pattern: WIRE.idPattern, description: `${what} id` });
/** Byte counts and guest addresses: integers exact in JSON (below 2^53). */
export const Bytes = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });

/**
 * A number in a request: an integer in [0, maximum], maximum far below 2^53 so the value is
 * exact in JSON. A number as a string, a fraction or a negative is a 400 before any use case
 * runs; the domain checks again (in BigInt) with precise codes. Bounds come from the domain.
 */
export const Bounded = (maximum: number, description: string) => Type.Integer({ minimum: 0, maximum, description });

export const Problem = Type.Object({
  type: Type.String(),
  title: Type.String(),
  status: Type.Integer(),
  detail: Type.String(),
  code: Type.String({ description: 'Stable machine-readable code, e.g. binding.gpa_overlap or kernel.einval' }),
  instance: Type.Optional(Type.String()),
  requestId: Type.Optional(Type.String()),
  errno: Type.Optional(Type.String({ description: 'Kernel errno name, when the kernel refused' })),
  operation: Type.Optional(Type.String({ description: 'The kernel operation that failed' })),
  retryable: Type.Optional(Type.Boolean()),
}, { $id: 'Problem', additionalProperties: true, description: 'RFC 9457 problem details' });

export const PageQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: WIRE.pageLimitMax, default: WIRE.pageLimitDefault })),
  cursor: Type.Optional(Type.String({ maxLength: 200, description: 'Opaque cursor from a previous page' })),
});

export function PageOf<T extends TSchema>(item: T, id: string) {
  return Type.Object({ items: Type.Array(ref(item)), nextCursor: Nullable(Type.String()) }, { $id: id, additionalProperties: false });
}

/**
 * A request body with one example, shown by the spec and the reference page. The schema is
 * wrapped in allOf because @fastify/swagger drops every sibling of a $ref; `examples` is an
 * annotation and changes no validation.
 */
export function example<T extends TSchema>(schema: T, value: Static<T>) {
  return Type.Unsafe<Static<T>>({ allOf: [schema], examples: [value] });
}

const STATUS_MEANING: Record<number, string> = {
  400: 'The request is malformed (validation failed); nothing changed',
  401: 'No valid bearer token',
  403: 'The token\'s role, or the file\'s permissions, do not allow this',
  404: 'A named object does not exist',
  409: 'The object\'s state does not allow this now (overlap, in use, already done)',
  422: 'Well-formed but refused: an invalid range, or the kernel refused (errno and operation given)',
  429: 'Rate limited; see Retry-After',
  500: 'The service failed',
  503: 'Not available now (starting, handing over, backend missing); retryable when so marked',
  507: 'The kernel or host has no memory left for this',
};

/** Standard error responses for a route: problem+json, the named Problem schema, under every listed status. */
export function problems(...statuses: number[]) {
  return Object.fromEntries(statuses.map((s) => [s, {
    description: STATUS_MEANING[s] ?? 'Problem', content: { 'application/problem+json': { schema: ref(Problem) } },
  }]));
}
