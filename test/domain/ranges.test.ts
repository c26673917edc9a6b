import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkBinding, checkFileRange, checkInodeSize, MAX_SLOT_BYTES } from '../../src/domain/ranges.js';
import { chooseSlot, probeCodeGpa, probeSlot } from '../../src/domain/slots.js';

const code = (r: { ok: boolean; error?: { code: string } }) => (r.ok ? 'ok' : r.error!.code);

test('inode sizes: positive multiples of 4096 (KVM_CREATE_GUEST_MEMFD rule 2)', () => {
  for (const bad of [0, -4096, 1, 4095, 4097, 1.5]) assert.equal(code(checkInodeSize(bad)), 'inode.invalid_size', String(bad));
  for (const good of [4096, 8192, 2 ** 40]) assert.equal(code(checkInodeSize(good)), 'ok');
});

test('file ranges: aligned, non-empty, inside the inode', () => {
  assert.equal(code(checkFileRange(0, 4096, 8192)), 'ok');
  assert.equal(code(checkFileRange(0, 8192, 8192)), 'ok');
  assert.equal(code(checkFileRange(1, 4096, 8192)), 'range.misaligned');
  assert.equal(code(checkFileRange(0, 0, 8192)), 'range.misaligned');
  assert.equal(code(checkFileRange(4096, 8192, 8192)), 'range.out_of_bounds');
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

test('slots: lowest free for bindings, highest free for the probe', () => {
  assert.equal(code(chooseSlot([0, 1, 3])), 'ok');
  assert.deepEqual(chooseSlot([0, 1, 3]), { ok: true, value: 2 });
  assert.equal(code(chooseSlot([5], 5)), 'binding.slot_in_use');
  assert.equal(code(chooseSlot([], 32764)), 'request.invalid');
  assert.equal(probeSlot([32763]), 32762);
});

test('the probe code page avoids every memslot and the target page', () => {
  const top = 2 ** 32 - 4096;
  assert.equal(probeCodeGpa([], 0), top);
  assert.equal(probeCodeGpa([], top + 10), top - 4096);
  assert.equal(probeCodeGpa([slot('b', 2 ** 32 - 0x10000, 0, 0x10000)], 0), 2 ** 32 - 0x11000);
});
