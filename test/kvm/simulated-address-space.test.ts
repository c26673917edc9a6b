// The simulator's mmap placement is first fit from its base, and must stay exactly that now
// that the search starts at a hint (src/kvm/simulated/sim-address-space.ts): random mmaps and
// munmaps, including ones that split mappings and open gaps below the hint, must get the
// address a full first-fit search over the mappings gives.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { AddressSpace } from '../../src/kvm/simulated/sim-address-space.js';
import { PageStore, PAGE } from '../../src/kvm/simulated/sim-pages.js';

const BASE = 0x7f00_0000_0000n;

/** The reference: first fit over the mapped ranges, from the base, walking all of them. */
function firstFit(mapped: [bigint, bigint][], length: bigint): bigint {
  let cursor = BASE;
  for (const [start, end] of [...mapped].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    if (start - cursor >= length) break;
    if (end > cursor) cursor = end;
  }
  return cursor;
}

/** Removes [start, end) from the reference, splitting what straddles it. */
function cut(mapped: [bigint, bigint][], start: bigint, end: bigint): [bigint, bigint][] {
  return mapped.flatMap(([s, e]): [bigint, bigint][] => {
    if (e <= start || s >= end) return [[s, e]];
    return [...(s < start ? [[s, start] as [bigint, bigint]] : []), ...(e > end ? [[end, e] as [bigint, bigint]] : [])];
  });
}

const op = fc.oneof(
  fc.record({ kind: fc.constant('map' as const), pages: fc.integer({ min: 1, max: 8 }) }),
  // An unmap somewhere in the first 64 pages: inside, across or between mappings.
  fc.record({ kind: fc.constant('unmap' as const), at: fc.integer({ min: 0, max: 63 }), pages: fc.integer({ min: 1, max: 6 }) }),
);

test('mmap placement is first fit from the base after any mmaps and munmaps', () => {
  fc.assert(fc.property(fc.array(op, { minLength: 1, maxLength: 80 }), (ops) => {
    const space = new AddressSpace(BASE);
    let mapped: [bigint, bigint][] = [];
    for (const o of ops) {
      const length = BigInt(o.pages) * PAGE;
      if (o.kind === 'map') {
        const start = space.place(length);
        assert.equal(start, firstFit(mapped, length));
        space.map(start!, length, 3, { kind: 'anon', store: new PageStore(), origin: start! });
        mapped.push([start!, start! + length]);
      } else {
        const start = BASE + BigInt(o.at) * PAGE;
        space.unmap(start, start + length);
        mapped = cut(mapped, start, start + length);
      }
    }
  }), { numRuns: 300 });
});

test('placement is not a walk over every mapping: 20,000 mmaps, then a gap at the bottom is found first', () => {
  const space = new AddressSpace(BASE);
  for (let i = 0; i < 20_000; i++) {
    const start = space.place(PAGE)!;
    assert.equal(start, BASE + BigInt(i) * PAGE);
    space.map(start, PAGE, 3, { kind: 'anon', store: new PageStore(), origin: start });
  }
  space.unmap(BASE + PAGE, BASE + 2n * PAGE);
  assert.equal(space.place(PAGE), BASE + PAGE, 'the gap the munmap opened below the hint');
  assert.equal(space.place(2n * PAGE), BASE + 20_000n * PAGE, 'too small for two pages: after the last mapping');
});
