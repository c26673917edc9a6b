// Two Ajv instances: request bodies are validated strictly (no type coercion, no silent
// removal of unknown members: a wrong JSON type is a 400, not a guess), while path and
// query parameters, which arrive as strings, are coerced.
import { Ajv, type AnySchema } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

// ajv-formats is CommonJS; its default export arrives wrapped under ESM interop.
const addFormats = (addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule;

function makeAjv(coerce: boolean) {
  const ajv = new Ajv({ coerceTypes: coerce ? 'array' : false, useDefaults: true, removeAdditional: false, allErrors: false, strict: false });
  (addFormats as unknown as (a: Ajv) => void)(ajv);
  return ajv;
}

export function validatorCompiler(shared: AnySchema[]): FastifySchemaCompiler<AnySchema> {
  const body = makeAjv(false);
  const params = makeAjv(true);
  for (const s of shared) { body.addSchema(s); params.addSchema(s); }
  return ({ schema, httpPart }) => (httpPart === 'body' ? body : params).compile(schema) as ReturnType<FastifySchemaCompiler<AnySchema>>;
}
