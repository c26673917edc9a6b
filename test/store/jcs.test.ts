// jcs() must be canonicalize() exactly: the audit chain's hashes are computed over its output
// and any JCS implementation elsewhere must reproduce them. Same text for every value, and a
// throw wherever the package throws (lone surrogates, NaN, Infinity, cycles).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import canonicalize from 'canonicalize';
import { jcs } from '../../src/store/jcs.js';

const outcome = (f: () => unknown) => { try { return { text: f() }; } catch { return { threw: true }; } };
// Any UTF-16 code unit, lone surrogates included.
const units = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 8 });
const leaf = fc.oneof(units, fc.double(), fc.integer(), fc.boolean(), fc.constant(null), fc.constant(undefined));
const value = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('node'), { maxLength: 4 }), fc.dictionary(units, tie('node'), { maxKeys: 4 })),
})).node;

test('jcs equals canonicalize for JSON data', () => {
  fc.assert(fc.property(fc.jsonValue(), (v) => { assert.equal(jcs(v), canonicalize(v)); }), { numRuns: 3000 });
});

test('jcs throws where canonicalize throws and agrees everywhere else', () => {
  fc.assert(fc.property(value, (v) => { assert.deepEqual(outcome(() => jcs(v)), outcome(() => canonicalize(v))); }), { numRuns: 3000 });
});

test('toJSON, nested depth and cycles go the package\'s way', () => {
  const date = { at: new Date(0), n: [1, { b: 2, a: 1 }] };
  assert.equal(jcs(date), canonicalize(date));
  let deep: unknown = 1;
  for (let i = 0; i < 100; i++) deep = { d: deep };
  assert.equal(jcs(deep), canonicalize(deep));
  const cycle: Record<string, unknown> = { a: 1 };
  cycle.self = cycle;
  assert.throws(() => jcs(cycle), /Circular/);
});
