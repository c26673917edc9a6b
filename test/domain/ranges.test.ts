import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkBinding, checkBindingRange, checkFileRange, checkInodeSize, MAX_GPA, MAX_INODE_SIZE, MAX_SLOT_BYTES, PAGE } from '../../src/domain/ranges.js';
import { chooseSlot, probeCodeGpa, probeSlot, type SlotTable } from '../../src/domain/slots.js';

const code = (r: { ok: boolean; error?: { code: string } }) => (r.ok ? 'ok' : r.error!.code);

test('inode sizes: positive multiples of 4096 (KVM_CREATE_GUEST_MEMFD rule 2)', () => {
  for (const bad of [0, -4096, 1, 4095, 4097, 1.5, NaN, Infinity, 2 ** 40 + 4096, 2 ** 46, 2 ** 53, 2 ** 64]) {
    assert.equal(code(checkInodeSize(bad)), 'inode.invalid_size', String(bad));
  }
  for (const good of [4096, 8192, 2 ** 40]) assert.equal(code(checkInodeSize(good)), 'ok');
  assert.equal(MAX_INODE_SIZE, 2 ** 40);
});

test('file ranges: aligned, non-empty, inside the inode', () => {
  assert.equal(code(checkFileRange(0, 4096, 8192)), 'ok');
  assert.equal(code(checkFileRange(0, 8192, 8192)), 'ok');
  assert.equal(code(checkFileRange(1, 4096, 8192)), 'range.misaligned');
  assert.equal(code(checkFileRange(0, 0, 8192)), 'range.empty');
  assert.equal(code(checkFileRange(4096, 8192, 8192)), 'range.out_of_bounds');
  assert.equal(code(checkFileRange(8192, 4096, 8192)), 'range.out_of_bounds', 'offset at the end');
  assert.equal(code(checkFileRange(-4096, 8192, 8192)), 'request.invalid', 'negative offset');
  assert.equal(code(checkFileRange(0, -4096, 8192)), 'request.invalid', 'negative length');
  assert.equal(code(checkFileRange(4096.5, 4096, 8192)), 'request.invalid', 'fraction');
  assert.equal(code(checkFileRange(2 ** 64, 4096, 8192)), 'request.invalid', '2^64 is not a safe integer');
  // Exact in BigInt: 2^53 - 4096 + 8192 is past 2^53, still refused as out of bounds, never wrapped.
  assert.equal(code(checkFileRange(2 ** 53 - 4096, 8192, Number.MAX_SAFE_INTEGER)), 'range.out_of_bounds');
});

const slot = (id: string, gpa: number, offset: number, size: number, s = 0) => ({ id, gpa, offset, size, slot: s });

test('bindings: alignment, bounds, gpa overlap (EEXIST) and gmem offset overlap (EINVAL)', () => {
  const vm = [slot('b1', 0x100000, 0, 0x10000)];
  assert.equal(code(checkBinding({ gpa: 0x110000, offset: 0, size: 0x1000 }, 0x20000, vm, [])), 'ok', 'adjacent is fine');
  assert.equal(code(checkBinding({ gpa: 0x10f000, offset: 0x10000, size: 0x2000 }, 0x20000, vm, [])), 'binding.gpa_overlap');
  assert.equal(code(checkBinding({ gpa: 0x200000, offset: 0x8000, size: 0x1000 }, 0x20000, [], vm)), 'binding.offset_overlap');
  assert.equal(code(checkBinding({ gpa: 0x200000, offset: 0x8000, size: 0x1000 }, 0x20000, [], null)), 'ok', 'views may overlap in offset');
  assert.equal(code(checkBinding({ gpa: 0x1001, offset: 0, size: 0x1000 }, 0x20000, [], [])), 'binding.misaligned');
  assert.equal(code(checkBinding({ gpa: 0, offset: 0x1f000, size: 0x2000 }, 0x20000, [], [])), 'binding.out_of_bounds');
  assert.equal(code(checkBinding({ gpa: 0, offset: 0x1f000, size: 0x1000 }, 0x20000, [], [])), 'ok', 'exact fit');
  assert.equal(code(checkBinding({ gpa: 0, offset: 0, size: MAX_SLOT_BYTES + 4096 }, 2 ** 50, [], [])), 'binding.too_large');
});

test('bindings: hostile numbers are refused with precise codes (issue 8 §4)', () => {
  const size = 0x200000;
  const at = (gpa: number, offset: number, sz: number, inode = size) => code(checkBindingRange({ gpa, offset, size: sz }, inode));
  assert.equal(at(0x100000, -0x200000, 4096), 'request.invalid', 'the report\'s attack: a negative offset');
  assert.equal(at(-4096, 0, 4096), 'request.invalid', 'negative gpa');
  assert.equal(at(0, 0, -4096), 'request.invalid', 'negative size');
  assert.equal(at(0, 4096.5, 4096), 'request.invalid', 'fraction');
  assert.equal(at(0, NaN, 4096), 'request.invalid');
  assert.equal(at(0, 0, Infinity), 'request.invalid');
  assert.equal(at(0, '4096' as unknown as number, 4096), 'request.invalid', 'a number as a string');
  assert.equal(at(0, 2 ** 64, 4096), 'request.invalid', '2^64');
  assert.equal(at(0, 0, 0), 'binding.empty');
  assert.equal(at(0, size, 4096), 'binding.out_of_bounds', 'offset at the end');
  assert.equal(at(0, 2 * size, 4096), 'binding.out_of_bounds', 'offset past the end');
  // offset + size past 2^53: exact in BigInt, so out of bounds rather than rounded into range.
  assert.equal(at(0, 2 ** 53 - 4096, 8192, Number.MAX_SAFE_INTEGER), 'binding.out_of_bounds');
  assert.equal(at(MAX_GPA - 4096, 0, 8192), 'binding.gpa_out_of_range');
  assert.equal(at(MAX_GPA, 0, 4096), 'binding.gpa_out_of_range', 'huge gpa');
  assert.equal(at(2 ** 52, 0, 4096), 'binding.gpa_out_of_range');
  assert.equal(at(MAX_GPA - 4096, size - 4096, 4096), 'ok', 'the last page of both spaces');
  const r = checkBindingRange({ gpa: 0x100000, offset: 0x1000, size: 0x2000 }, size);
  assert.deepEqual(r, { ok: true, value: { guest: { start: 0x100000n, size: 0x2000n }, inode: { start: 0x1000n, size: 0x2000n } } });
});

// Any number JSON can carry, and then some: small and huge, negative, fractional, not finite.
const hostile = fc.oneof(
  { arbitrary: fc.integer({ min: -4, max: 1024 }).map((p) => p * PAGE), weight: 8 },
  fc.integer(), fc.maxSafeInteger(), fc.double(),
  fc.bigInt({ min: 0n, max: 1n << 70n }).map((b) => Number(b)),
  fc.constantFrom(2 ** 53, 2 ** 53 - PAGE, 2 ** 64, 2 ** 64 - PAGE, MAX_GPA, -0, NaN, Infinity, -Infinity),
);

test('property: an accepted binding lies inside the inode and below MAX_GPA, computed exactly', () => {
  let accepted = 0;
  fc.assert(fc.property(hostile, hostile, hostile, fc.integer({ min: 1, max: 2 ** 20 }).map((p) => p * PAGE), (gpa, offset, sz, inodeSize) => {
    const r = checkBindingRange({ gpa, offset, size: sz }, inodeSize);
    if (!r.ok) return true;
    const [g, o, s] = [gpa, offset, sz].map((n) => { assert.ok(Number.isSafeInteger(n) && n >= 0); return BigInt(n); });
    assert.ok(s > 0n && s % 4096n === 0n && o % 4096n === 0n && g % 4096n === 0n);
    assert.ok(o + s <= BigInt(inodeSize), 'inside the inode');
    assert.ok(g + s <= BigInt(MAX_GPA), 'inside the guest space');
    assert.deepEqual(r.value, { guest: { start: g, size: s }, inode: { start: o, size: s } });
    accepted++;
    return true;
  }), { numRuns: 2000 });
  assert.ok(accepted >= 20, `the generator reaches accepted bindings too (${accepted} of 2000)`);
});

test('property: an accepted file range lies inside the inode', () => {
  let accepted = 0;
  fc.assert(fc.property(hostile, hostile, fc.integer({ min: 1, max: 2 ** 20 }).map((p) => p * PAGE), (offset, length, inodeSize) => {
    const r = checkFileRange(offset, length, inodeSize);
    if (!r.ok) return true;
    accepted++;
    return r.value.size > 0n && r.value.start >= 0n && r.value.start + r.value.size <= BigInt(inodeSize);
  }), { numRuns: 2000 });
  assert.ok(accepted >= 20, `the generator reaches accepted ranges too (${accepted} of 2000)`);
});

/** The slots in `used` as the store's SlotTable presents them. */
const table = (used: number[]): SlotTable => ({
  count: used.length,
  has: (s) => used.includes(s),
  lowestFree: (limit) => { for (let s = 0; s < limit; s++) if (!used.includes(s)) return s; return undefined; },
});

test('slots: lowest free for bindings, highest free for the probe', () => {
  assert.equal(code(chooseSlot(table([0, 1, 3]))), 'ok');
  assert.deepEqual(chooseSlot(table([0, 1, 3])), { ok: true, value: 2 });
  assert.equal(code(chooseSlot(table([5]), 5)), 'binding.slot_in_use');
  assert.deepEqual(chooseSlot(table([5]), 4), { ok: true, value: 4 });
  assert.equal(code(chooseSlot(table([]), 32764)), 'request.invalid');
  assert.equal(code(chooseSlot(table([]), -1)), 'request.invalid');
  // The top id is the probe's: a VM whose other 32,763 slots are taken has none left for a binding.
  assert.equal(code(chooseSlot(table(Array.from({ length: 32763 }, (_, i) => i)))), 'binding.slots_exhausted');
  assert.equal(probeSlot([32763]), 32762);
});

test('the probe code page avoids every memslot and the target page', () => {
  const top = 2 ** 32 - 4096;
  assert.equal(probeCodeGpa([], 0), top);
  assert.equal(probeCodeGpa([], top + 10), top - 4096);
  assert.equal(probeCodeGpa([slot('b', 2 ** 32 - 0x10000, 0, 0x10000)], 0), 2 ** 32 - 0x11000);
});
