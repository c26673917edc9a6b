// canonicalEvent writes the JCS encoding of an event's columns directly; these check it is
// byte for byte canonicalize()'s, refuses what canonicalize refuses, and that the one-shot
// hash is SHA-256(prevHash ‖ canonical) as an independent verifier computes it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import canonicalize from 'canonicalize';
import { canonicalEvent, chainHash, GENESIS_HASH, type EventRow } from '../../src/store/audit-chain.js';

/** The reference encoding canonicalEvent must equal: the package over the same columns. */
const canonicalEventReference = (e: Omit<EventRow, 'prevHash' | 'hash'>) => canonicalize({
  seq: e.seq, time: e.time, actor: e.actor, action: e.action, outcome: e.outcome,
  requestId: e.requestId, vmId: e.vmId, inodeId: e.inodeId, fileId: e.fileId,
  bindingId: e.bindingId, migrationId: e.migrationId, errorCode: e.errorCode,
  errno: e.errno, operation: e.operation, details: e.details,
})!;

type Content = Omit<EventRow, 'prevHash' | 'hash'>;
const text = fc.string({ unit: 'grapheme', maxLength: 24 });
const maybe = fc.option(text, { nil: null });
const content: fc.Arbitrary<Content> = fc.record({
  seq: fc.nat(), time: fc.nat(), actor: text, action: text, outcome: fc.constantFrom('ok', 'denied', 'failed'),
  requestId: maybe, vmId: maybe, inodeId: maybe, fileId: maybe, bindingId: maybe, migrationId: maybe,
  errorCode: maybe, errno: maybe, operation: maybe,
  details: fc.jsonValue().map((v) => canonicalize(v ?? {})!),
}) as fc.Arbitrary<Content>;

test('canonicalEvent equals canonicalize() of the same columns', () => {
  fc.assert(fc.property(content, (e) => { assert.equal(canonicalEvent(e), canonicalEventReference(e)); }), { numRuns: 2000 });
});

test('characters that need escaping and non-ASCII text encode as JCS does', () => {
  const e: Content = { seq: 1, time: 0, actor: 'a"b\\c\n\u0001', action: 'x\u2028y', outcome: 'ok', requestId: 'é😀', vmId: null,
    inodeId: null, fileId: null, bindingId: null, migrationId: null, errorCode: null, errno: null, operation: null, details: '{}' };
  assert.equal(canonicalEvent(e), canonicalEventReference(e));
});

test('what canonicalize refuses, canonicalEvent refuses too', () => {
  const base: Content = { seq: 1, time: 0, actor: 'a', action: 'b', outcome: 'ok', requestId: null, vmId: null, inodeId: null,
    fileId: null, bindingId: null, migrationId: null, errorCode: null, errno: null, operation: null, details: '{}' };
  for (const bad of [{ actor: 'x\uD800' }, { vmId: '\uDC00y' }, { time: Number.NaN }, { seq: Number.POSITIVE_INFINITY }]) {
    const e = { ...base, ...bad } as Content;
    assert.throws(() => canonicalEventReference(e));
    assert.throws(() => canonicalEvent(e));
  }
});

test('chainHash is SHA-256 over prevHash then the canonical text', () => {
  const c = '{"action":"vm.create","details":{}}';
  assert.equal(chainHash(GENESIS_HASH, c), createHash('sha256').update(GENESIS_HASH).update(c).digest('hex'));
});
