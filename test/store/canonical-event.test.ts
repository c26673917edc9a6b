// canonicalEvent writes the JCS object itself instead of calling canonicalize; these hold it
// to canonicalize on every value a SQLite column can give (and some it cannot), so the
// hashes it feeds are the ones every existing ledger and every external verifier computes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import canonicalize from 'canonicalize';
import { CANONICAL_KEYS, canonicalEvent, canonicalValues, chainHash } from '../../src/store/audit-chain.js';
import { createHash } from 'node:crypto';

type Row = Parameters<typeof canonicalEvent>[0];

/** What canonicalEvent computed before: canonicalize over the hashed fields. */
const reference = (e: Row): string => canonicalize({
  seq: e.seq, time: e.time, actor: e.actor, action: e.action, outcome: e.outcome,
  requestId: e.requestId, vmId: e.vmId, inodeId: e.inodeId, fileId: e.fileId,
  bindingId: e.bindingId, migrationId: e.migrationId, errorCode: e.errorCode,
  errno: e.errno, operation: e.operation, details: e.details,
})!;

const outcomeOf = (f: () => string): { text: string } | { threw: true } => {
  try { return { text: f() }; } catch { return { threw: true }; }
};

// Strings with escapes, control characters, astral characters and lone surrogates; integers,
// reals, -0, non-finite numbers; nulls; blobs.
const tricky = fc.constantFrom('a', '"', '\\', '/', '\n', '\t', '\b', '\u0000', '\u001f', '\u007f', '\u2028', '\ud800', '\udc00', '\u00e9', '\ud83d\ude00', 'u', 'd');
const value = fc.oneof(
  fc.string({ unit: tricky }), fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }), fc.constantFrom('', '"', '\\', '\\ud800', '\u2028', '\ud800', 'a\udc00b'),
  fc.integer(), fc.maxSafeInteger(), fc.double(), fc.constantFrom(-0, Infinity, -Infinity, NaN, 1e21, 5e-324),
  fc.constant(null), fc.uint8Array({ maxLength: 8 }).map((a) => Buffer.from(a)),
);
const row = fc.record(Object.fromEntries(CANONICAL_KEYS.map((k) => [k, value]))) as unknown as fc.Arbitrary<Row>;

test('the keys are in the order canonicalize sorts them', () => {
  assert.deepEqual([...CANONICAL_KEYS], [...CANONICAL_KEYS].sort());
  assert.deepEqual(Object.keys(JSON.parse(reference(Object.fromEntries(CANONICAL_KEYS.map((k) => [k, 1])) as unknown as Row))), [...CANONICAL_KEYS]);
});

test('canonicalEvent gives canonicalize\'s text, or throws where canonicalize throws', () => {
  fc.assert(fc.property(row, (e) => {
    assert.deepEqual(outcomeOf(() => canonicalEvent(e)), outcomeOf(() => reference(e)));
    assert.deepEqual(outcomeOf(() => canonicalValues(CANONICAL_KEYS.map((k) => e[k]))), outcomeOf(() => reference(e)));
  }), { numRuns: 3000 });
});

test('a typical event, and chainHash as SHA-256 over prevHash then the canonical text', () => {
  const e: Row = { seq: 7, time: 1_700_000_000_123, actor: 'op', action: 'file.share', outcome: 'ok', requestId: null,
    vmId: 'vm_1', inodeId: 'ino_\u00e9', fileId: 'file_"q"', bindingId: null, migrationId: null, errorCode: null,
    errno: null, operation: null, details: '{"permissions":["read"]}' };
  assert.equal(canonicalEvent(e), reference(e));
  const prev = 'ab'.repeat(32);
  assert.equal(chainHash(prev, canonicalEvent(e)), createHash('sha256').update(prev).update(reference(e)).digest('hex'));
});
