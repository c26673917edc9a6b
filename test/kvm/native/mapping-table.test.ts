// The sorted mapping table against the plain list it replaced (push, a flatMap per munmap, a
// linear find and a loop per close), over random maps, unmaps and closes in a small space of
// pages so that holes, partial cuts and MAP_FIXED-style overlaps happen often.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MappingTable, type Mapping } from '../../../src/kvm/native/mapping-table.js';

const PAGE = 4096n;

/** The list the native adapter kept before, plus the cut a MAP_FIXED mmap does. */
class ListModel {
  list: Mapping[] = [];
  add(m: Mapping) { this.cut(m.start, m.end); this.list.push(m); }
  cut(lo: bigint, hi: bigint) {
    this.list = this.list.flatMap((m) => {
      if (m.end <= lo || m.start >= hi) return [m];
      const parts: Mapping[] = [];
      if (m.start < lo) parts.push({ ...m, end: lo });
      if (m.end > hi) parts.push({ ...m, start: hi, offset: m.offset + (hi - m.start) });
      return parts;
    });
  }
  forgetFd(fd: number) { for (const m of this.list) if (!m.anonymous && m.fd === fd) m.fd = -1; }
  holds(addr: bigint, end: bigint) { return this.list.some((m) => m.start <= addr && end <= m.end); }
}

const mapping = (start: bigint, pages: bigint, fd: number): Mapping => ({
  start, end: start + pages * PAGE, fd, anonymous: fd < 0, offset: start, prot: 3, ino: BigInt(fd), faultable: true,
});
const page = fc.bigInt({ min: 0n, max: 40n });
const pages = fc.bigInt({ min: 1n, max: 8n });
const op = fc.oneof(
  fc.record({ kind: fc.constant('add' as const), at: page, pages, fd: fc.constantFrom(-1, 3, 4, 5) }),
  fc.record({ kind: fc.constant('cut' as const), at: page, pages }),
  fc.record({ kind: fc.constant('close' as const), fd: fc.constantFrom(3, 4, 5) }),
);
const sortedCopy = (ms: readonly Mapping[]) => [...ms].sort((a, b) => (a.start < b.start ? -1 : 1)).map((m) => ({ ...m }));

test('property: the table holds what the list held, in address order, after any maps, unmaps and closes', () => {
  fc.assert(fc.property(fc.array(op, { maxLength: 40 }), fc.array(fc.tuple(page, fc.bigInt({ min: 0n, max: 3n * PAGE })), { maxLength: 20 }),
    (ops, probes) => {
      const table = new MappingTable(), model = new ListModel();
      for (const o of ops) {
        if (o.kind === 'add') { table.add(mapping(o.at * PAGE, o.pages, o.fd)); model.add(mapping(o.at * PAGE, o.pages, o.fd)); }
        else if (o.kind === 'cut') { table.cut(o.at * PAGE, (o.at + o.pages) * PAGE); model.cut(o.at * PAGE, (o.at + o.pages) * PAGE); }
        else { table.forgetFd(o.fd); model.forgetFd(o.fd); }
        assert.deepEqual(table.list().map((m) => ({ ...m })), sortedCopy(model.list));
        assert.equal(table.size, model.list.length);
      }
      for (const [p, len] of probes) {
        const addr = p * PAGE + 100n, end = addr + len;
        const m = table.covering(addr, end);
        assert.equal(m !== undefined, model.holds(addr, end), `covering(${addr}, ${end})`);
        if (m) assert.ok(m.start <= addr && end <= m.end);
      }
    }), { numRuns: 500 });
});

test('a closed fd is forgotten by every piece of its mappings, and only by those', () => {
  const t = new MappingTable();
  t.add(mapping(0n, 4n, 3));
  t.add(mapping(8n * PAGE, 2n, 4));
  t.cut(PAGE, 2n * PAGE); // a hole: fd 3 now has two pieces
  t.forgetFd(3);
  assert.deepEqual(t.list().map((m) => m.fd), [-1, -1, 4]);
  // The number comes back for another file: its new mapping is not touched by the old close.
  t.add(mapping(16n * PAGE, 1n, 3));
  t.forgetFd(4);
  assert.deepEqual(t.list().map((m) => m.fd), [-1, -1, -1, 3]);
});

test('10,000 and 200,000 mappings: munmap and lookups stay right', () => {
  const t = new MappingTable();
  for (let i = 0n; i < 10_000n; i++) t.add(mapping(i * 2n * PAGE, 1n, 3));
  t.cut(5_000n * 2n * PAGE, 5_000n * 2n * PAGE + PAGE);
  assert.equal(t.size, 9_999);
  assert.equal(t.covering(5_000n * 2n * PAGE, 5_000n * 2n * PAGE + 8n), undefined);
  assert.equal(t.covering(4_999n * 2n * PAGE + 8n, 4_999n * 2n * PAGE + 16n)?.start, 4_999n * 2n * PAGE);
  // The list's munmap passed every kept mapping as one call's arguments (splice(...kept)):
  // RangeError, maximum call stack size exceeded, between 120,000 and 130,000 on Node 20.
  for (let i = 10_000n; i < 200_000n; i++) t.add(mapping(i * 2n * PAGE, 1n, 3));
  t.cut(0n, PAGE);
  assert.equal(t.size, 199_998);
});
