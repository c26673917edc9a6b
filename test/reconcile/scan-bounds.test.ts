// What keeps the host scan and drift check linear at 10,000 inodes: a scan filter that reads
// only the fds and maps lines it reports, and the sorted lookup that says whether a maps line
// lies inside one of gmemd's own mappings (it must answer as the linear search it replaced).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync } from 'node:fs';
import fc from 'fast-check';
import { scanProcess } from '../../src/reconcile/proc.js';
import { ownMappings } from '../../src/reconcile/host-scan.js';

test('a filtered scan keeps only the fd kinds and maps lines asked for', () => {
  const fd = openSync(new URL(import.meta.url), 'r');
  try {
    const all = scanProcess(process.pid)!;
    const some = scanProcess(process.pid, '/proc', { kinds: new Set(['file']), mapPath: '[stack]' })!;
    assert.ok(some.fds.length > 0 && some.fds.every((f) => f.kind === 'file'));
    assert.deepEqual(some.fds.find((f) => f.fd === fd), all.fds.find((f) => f.fd === fd), 'a kept fd is read as without the filter');
    assert.ok(all.fds.some((f) => f.kind !== 'file'), 'the unfiltered scan has other kinds');
    assert.deepEqual(some.mappings, all.mappings.filter((m) => m.path === '[stack]'));
    assert.equal(some.command, all.command);
  } finally { closeSync(fd); }
});

test('inside one of our mappings: the sorted lookup answers as the linear search', () => {
  const region = fc.record({ addr: fc.bigInt({ min: 0n, max: 1n << 20n }), length: fc.bigInt({ min: 1n, max: 1n << 12n }) });
  // gmemd's mappings never overlap: build them disjoint by stacking gaps and lengths.
  const disjoint = fc.array(fc.tuple(fc.bigInt({ min: 0n, max: 4096n }), fc.bigInt({ min: 1n, max: 4096n })), { maxLength: 30 })
    .map((parts) => { let at = 0n; return parts.map(([gap, length]) => { const addr = at + gap; at = addr + length; return { addr, length }; }); })
    .chain((list) => fc.shuffledSubarray(list, { minLength: list.length, maxLength: list.length }));
  fc.assert(fc.property(disjoint, fc.array(region, { maxLength: 20 }), (ours, lines) => {
    const inside = ownMappings(ours);
    for (const l of [...lines, ...ours.map((o) => ({ addr: o.addr + o.length / 2n, length: o.length - o.length / 2n }))]) {
      const start = l.addr, end = l.addr + l.length;
      assert.equal(inside(start, end), ours.some((o) => o.addr <= start && end <= o.addr + o.length));
    }
  }), { numRuns: 1000 });
});
