// RFC 8785 (JCS) canonical JSON, as the `canonicalize` package writes it, for the plain data
// audit details are (objects, arrays, strings, finite numbers, booleans, null). Every event
// append canonicalizes its details; the package's generic walk (a Set of seen objects, a
// surrogate scan loop per string, an array of parts per object) cost more than the SHA-256.
// Anything else (toJSON, functions, bigint, cycles) goes to the package itself, so the
// output and the errors are always the package's (test/store/jcs.test.ts checks both).
import canonicalize from 'canonicalize';

const wellFormed = (s: string) => (s as string & { isWellFormed(): boolean }).isWellFormed();
/** Nesting deeper than audit details ever are: the package's own cycle check takes over. */
const MAX_DEPTH = 64;

class Unusual extends Error {}

// Audit details have a handful of keys. Array.prototype.sort allocated ~850 bytes a call
// for them (a third of an event's details encoding, 30,000 of them at a start-up that marks
// everything lost); an insertion sort in place allocates nothing. Both order by UTF-16 code
// units, as JCS requires (keys are distinct, so the sort's stability does not matter).
const INSERTION_SORT_MAX = 16;
function sortKeys(keys: string[]): string[] {
  if (keys.length > INSERTION_SORT_MAX) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i]!;
    let j = i - 1;
    for (; j >= 0 && keys[j]! > k; j--) keys[j + 1] = keys[j]!;
    keys[j + 1] = k;
  }
  return keys;
}
// A key is JSON.stringify(k); identifiers need no escaping, so most skip the call.
const PLAIN_KEY = /^[A-Za-z0-9_$.-]*$/;
const jsonKey = (k: string): string => (PLAIN_KEY.test(k) ? `"${k}"` : JSON.stringify(k));

function encode(v: unknown, depth: number): string {
  switch (typeof v) {
    case 'string':
      if (!wellFormed(v)) throw new Unusual();
      return JSON.stringify(v);
    case 'number':
      if (!Number.isFinite(v)) throw new Unusual();
      return JSON.stringify(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object': {
      if (v === null) return 'null';
      if (depth >= MAX_DEPTH || typeof (v as { toJSON?: unknown }).toJSON === 'function') throw new Unusual();
      if (Array.isArray(v)) {
        let out = '[';
        for (let i = 0; i < v.length; i++) {
          const e: unknown = v[i];
          out += (i === 0 ? '' : ',') + (e === undefined || typeof e === 'symbol' ? 'null' : encode(e, depth + 1));
        }
        return `${out}]`;
      }
      const o = v as Record<string, unknown>;
      const keys = sortKeys(Object.keys(o));
      let out = '{';
      let first = true;
      for (const k of keys) {
        const e = o[k];
        if (e === undefined || typeof e === 'symbol') continue;
        if (!wellFormed(k)) throw new Unusual();
        out += `${first ? '' : ','}${jsonKey(k)}:${encode(e, depth + 1)}`;
        first = false;
      }
      return `${out}}`;
    }
    default:
      throw new Unusual();
  }
}

/** canonicalize(v), faster for plain JSON data. */
export function jcs(v: unknown): string | undefined {
  try {
    return encode(v, 0);
  } catch (e) {
    if (!(e instanceof Unusual)) throw e;
    return canonicalize(v);
  }
}
