// A TypeBox union of string literals from one of the domain's vocabularies (vocabulary.ts):
// the same anyOf-of-const schema as writing each Type.Literal out, from one list.
import { Type, type TLiteral, type TSchemaOptions, type TUnion } from 'typebox';

type Literals<T extends readonly string[]> = { -readonly [K in keyof T]: TLiteral<T[K]> };

export function literals<const T extends readonly string[]>(words: T, options?: TSchemaOptions): TUnion<Literals<T>> {
  return Type.Union(words.map((w) => Type.Literal(w)), options) as unknown as TUnion<Literals<T>>;
}
