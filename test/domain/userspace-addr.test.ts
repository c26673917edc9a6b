// The one computation of userspace_addr refuses everything not provably inside the binding's
// own mapping: the report's attack (a negative offset reaching another inode's mapping),
// offsets past the end, overflow past 2^53 and 2^64, zero and fractional sizes, no mapping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { pointsInto, userspaceAddr } from '../../src/domain/userspace-addr.js';

const MiB = 1n << 20n;
const map = { addr: 0x7f00_0000_0000n, length: 4n * MiB };
const refused = (r: ReturnType<typeof userspaceAddr>) => !r.ok && r.error.code === 'memslot.outside_mapping';

test('inside the mapping: the mapping address plus the offset', () => {
  assert.deepEqual(userspaceAddr(map, 0, 4096), { ok: true, value: map.addr });
  assert.deepEqual(userspaceAddr(map, 2 * 2 ** 20, 2 * 2 ** 20), { ok: true, value: map.addr + 2n * MiB });
  assert.deepEqual(userspaceAddr(map, 4n * MiB - 4096n, 4096n), { ok: true, value: map.addr + 4n * MiB - 4096n });
});

test('refused: negative offsets, past the end, overflow, zero, fractional, misaligned, no mapping', () => {
  const cases: [number | bigint, number | bigint][] = [
    [-2 * 2 ** 20, 4096], [-4096n, 8192n], [4n * MiB, 4096n], [0, 4n * MiB + 4096n], [4n * MiB - 4096n, 8192n],
    [Number.MAX_SAFE_INTEGER - 4095, 8192], [2 ** 53, 4096], [(1n << 64n) - 4096n, 8192n], [1n << 63n, 4096n],
    [0, 0], [0, -4096], [0.5, 4096], [4096, 4096.5], [100, 4096], [0, 100], [Number.NaN, 4096], [Infinity, 4096],
  ];
  for (const [offset, size] of cases) assert.ok(refused(userspaceAddr(map, offset, size)), `${offset}, ${size}`);
  assert.ok(refused(userspaceAddr(null, 0, 4096)));
  assert.ok(refused(userspaceAddr({ addr: 0n, length: 4n * MiB }, 0, 4096)));
  assert.ok(refused(userspaceAddr({ addr: (1n << 64n) - 4096n, length: 8192n }, 0, 4096)));
});

test('property: whatever the numbers, an address it returns lies inside the mapping', () => {
  const num = fc.oneof(fc.bigInt({ min: -(1n << 65n), max: 1n << 65n }), fc.double(), fc.integer(),
    fc.constantFrom(0n, 4096n, MiB, -MiB, 4n * MiB, (1n << 64n) - 4096n, 1n << 53n));
  fc.assert(fc.property(num, num, fc.bigInt({ min: 1n, max: 1n << 30n }), (offset, size, pages) => {
    const m = { addr: 0x5555_0000_0000n, length: pages * 4096n };
    const r = userspaceAddr(m, offset as number | bigint, size as number | bigint);
    if (!r.ok) return true;
    const len = BigInt(size as number | bigint);
    return r.value >= m.addr && r.value + len <= m.addr + m.length && len > 0n;
  }), { numRuns: 5000 });
});

test('pointsInto: overlap of a memslot range with a mapping', () => {
  assert.equal(pointsInto(map.addr, 4096n, map), true);
  assert.equal(pointsInto(map.addr - 4096n, 8192n, map), true);
  assert.equal(pointsInto(map.addr + map.length, 4096n, map), false);
  assert.equal(pointsInto(map.addr - 4096n, 4096n, map), false);
  assert.equal(pointsInto(map.addr, 0n, map), false);
});
