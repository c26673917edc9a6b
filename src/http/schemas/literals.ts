// A string enum from one of the domain's vocabularies (vocabulary.ts), typed as the union of
// its words. Written as `{type: 'string', enum}` rather than TypeBox's anyOf of consts: Ajv
// validates both alike, the OpenAPI document shows an enum, and fast-json-stringify
// serializes it as a plain string, where an anyOf makes it run an Ajv validation per branch
// on every value it writes (about a tenth of a bind's serving time, CPU profile).
import { Type, type TSchemaOptions, type TUnsafe } from 'typebox';

export function literals<const T extends readonly string[]>(words: T, options?: TSchemaOptions): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ ...options, type: 'string', enum: [...words] });
}
