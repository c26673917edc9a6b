// Pins the simulator to KERNEL.md §2.2 (fallocate, mmap, host faults on a gmem fd) and the
// 6.18 guest_memfd_test.c cases of §4. Expected values: probe-gmem2.out and the selftest.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FALLOC, MAP, PROT } from '../../src/kvm/uapi.js';
import { MiB, RW, fails, fixture, ok, outcome } from './simulated-fixture.js';

const KEEP = FALLOC.KEEP_SIZE, PUNCH = FALLOC.PUNCH_HOLE;
const ZERO_RANGE = 0x10, COLLAPSE = 0x08, INSERT = 0x20, UNSHARE = 0x40;

describe('§2.2 fallocate on a 4 MiB gmem (probe-gmem2.out "== fallocate")', () => {
  const rows: [string, number, bigint, bigint, string][] = [
    ['mode 0 (alloc, extend)', 0, 0n, 4096n, 'EOPNOTSUPP'],
    ['KEEP_SIZE 0..1MiB', KEEP, 0n, MiB, 'OK'],
    ['KEEP_SIZE beyond size (off=4MiB,len=4K)', KEEP, 4n * MiB, 4096n, 'EINVAL'],
    ['KEEP_SIZE straddling end (off=4MiB-4K,len=8K)', KEEP, 4n * MiB - 4096n, 8192n, 'EINVAL'],
    ['KEEP_SIZE unaligned off', KEEP, 100n, 4096n, 'EINVAL'],
    ['KEEP_SIZE unaligned len', KEEP, 0n, 100n, 'EINVAL'],
    ['KEEP_SIZE len=0', KEEP, 0n, 0n, 'EINVAL'],
    ['KEEP_SIZE off<0', KEEP, -4096n, 4096n, 'EINVAL'],
    ['PUNCH_HOLE without KEEP_SIZE', PUNCH, 0n, 4096n, 'EOPNOTSUPP'],
    ['PUNCH|KEEP beyond size', PUNCH | KEEP, 8n * MiB, 4096n, 'OK'],
    ['PUNCH|KEEP unaligned', PUNCH | KEEP, 0n, 100n, 'EINVAL'],
    ['ZERO_RANGE|KEEP', ZERO_RANGE | KEEP, 0n, 4096n, 'EOPNOTSUPP'],
    ['ZERO_RANGE', ZERO_RANGE, 0n, 4096n, 'EOPNOTSUPP'],
    ['COLLAPSE_RANGE', COLLAPSE, 0n, 4096n, 'EOPNOTSUPP'],
    ['INSERT_RANGE', INSERT, 0n, 4096n, 'EOPNOTSUPP'],
    ['UNSHARE_RANGE|KEEP', UNSHARE | KEEP, 0n, 4096n, 'EOPNOTSUPP'],
  ];
  for (const [label, mode, offset, len, want] of rows) {
    test(`§2.2 fallocate ${label} -> ${want}`, () => {
      const f = fixture();
      const r = f.host.fallocate(f.gmem(4n * MiB, 3n), mode, offset, len);
      assert.equal(outcome(r), want);
      if (!r.ok) assert.equal(r.error.operation, 'fallocate');
    });
  }

  test('§2.2 VFS layer: unknown mode bits give EOPNOTSUPP, offset+len beyond s_maxbytes gives EFBIG [src]', () => {
    const f = fixture();
    const g = f.gmem(4n * MiB, 3n);
    fails(f.host.fallocate(g, KEEP | 0x100, 0n, 4096n), 'EOPNOTSUPP');
    fails(f.host.fallocate(g, PUNCH | KEEP, (1n << 63n) - 4096n, 8192n), 'EFBIG');
    // VFS checks run first: an unaligned range past s_maxbytes is EFBIG, not EINVAL.
    fails(f.host.fallocate(g, PUNCH | KEEP, (1n << 63n) - 100n, 4096n), 'EFBIG');
  });

  test('§2.2 selftest invalid_punch_hole: misaligned (offset, len) pairs give EINVAL', () => {
    const f = fixture();
    const g = f.gmem(4n * 4096n, 3n);
    for (const [o, l] of [[0n, 1n], [1n, 4096n], [4096n, 4097n], [0n, 4095n], [4095n, 4096n], [2048n, 2048n]]) {
      fails(f.host.fallocate(g, PUNCH | KEEP, o, l), 'EINVAL');
    }
  });

  test('§2.2 selftest fallocate: the 6.18 sequence of expectations', () => {
    const f = fixture();
    const size = 4n * 4096n;
    const g = f.gmem(size, 0n);
    ok(f.host.fallocate(g, KEEP, 0n, size));
    assert.equal(f.host.fallocate(g, PUNCH | KEEP, 4095n, 4096n).ok, false);
    assert.equal(f.host.fallocate(g, KEEP, size, 4096n).ok, false);
    assert.equal(f.host.fallocate(g, KEEP, size + 4096n, 4096n).ok, false);
    ok(f.host.fallocate(g, PUNCH | KEEP, size, 4096n));
    ok(f.host.fallocate(g, PUNCH | KEEP, size + 4096n, 4096n));
    assert.equal(f.host.fallocate(g, PUNCH | KEEP, 0n, 4095n).ok, false);
    ok(f.host.fallocate(g, PUNCH | KEEP, 0n, 4096n));
    ok(f.host.fallocate(g, KEEP, 0n, size));
  });

  test('§2.2 fallocate works without a binding, on an MMAP-only gmem, and after the VM fd is closed', () => {
    const f = fixture();
    const g1 = f.gmem(2n * MiB, 1n), g3 = f.gmem(2n * MiB, 3n);
    ok(f.host.fallocate(g1, KEEP, 0n, 4096n));
    ok(f.host.close(f.vm));
    ok(f.host.fallocate(g3, KEEP, 0n, 4096n));
    ok(f.host.fallocate(g3, PUNCH | KEEP, 0n, 4096n));
  });

  test('§2.2 fallocate on a closed fd gives EBADF; on a VM fd ENODEV (not a regular file) [src]', () => {
    const f = fixture();
    fails(f.host.fallocate(9999, KEEP, 0n, 4096n), 'EBADF', 'fallocate');
    fails(f.host.fallocate(f.vm, KEEP, 0n, 4096n), 'ENODEV', 'fallocate');
  });
});

describe('§2.2 mmap (probe-gmem2.out "== mmap")', () => {
  test('§2.2 mmap without the MMAP flag gives ENODEV: flags 0 and INIT_SHARED alone, before MAP_PRIVATE', () => {
    const f = fixture();
    for (const flags of [0n, 2n]) {
      const g = f.gmem(2n * MiB, flags);
      fails(f.host.mmap(g, 4096n, PROT.READ, MAP.SHARED, 0n), 'ENODEV', 'mmap');
      fails(f.host.mmap(g, 4096n, PROT.READ, MAP.PRIVATE, 0n), 'ENODEV', 'mmap');
    }
  });

  test('§2.2 with MMAP: MAP_PRIVATE gives EINVAL, PROT_EXEC gives EPERM, PROT_READ and RW shared work', () => {
    const f = fixture();
    const g = f.gmem(4n * MiB, 3n);
    fails(f.host.mmap(g, 4n * MiB, RW, MAP.PRIVATE, 0n), 'EINVAL', 'mmap');
    fails(f.host.mmap(g, 4096n, PROT.READ | PROT.EXEC, MAP.SHARED, 0n), 'EPERM', 'mmap');
    ok(f.host.mmap(g, 4n * MiB, PROT.READ, MAP.SHARED, 0n));
    ok(f.host.mmap(g, 4n * MiB, RW, MAP.SHARED, 0n));
  });

  test('§2.2 mmap does not check the size: offset beyond EOF and 8 MiB over a 4 MiB file both map', () => {
    const f = fixture();
    const g = f.gmem(4n * MiB, 3n);
    ok(f.host.mmap(g, 4096n, PROT.READ, MAP.SHARED, 8n * MiB));
    ok(f.host.mmap(g, 8n * MiB, RW, MAP.SHARED, 0n));
  });

  test('mmap of a closed fd gives EBADF, an unaligned offset EINVAL, a VM fd ENODEV [src]', () => {
    const f = fixture();
    const g = f.gmem(4n * MiB, 3n);
    fails(f.host.mmap(9999, 4096n, RW, MAP.SHARED, 0n), 'EBADF', 'mmap');
    fails(f.host.mmap(g, 4096n, RW, MAP.SHARED, 100n), 'EINVAL', 'mmap');
    fails(f.host.mmap(f.vm, 4096n, RW, MAP.SHARED, 0n), 'ENODEV', 'mmap');
  });
});

describe('§2.2 faults on the mapping', () => {
  test('§2.2 MMAP|INIT_SHARED: write page 0 fine; read 4 MiB beyond EOF faults (SIGBUS -> EFAULT)', () => {
    const f = fixture();
    const m = f.map(f.gmem(4n * MiB, 3n), 8n * MiB);
    f.write(m, 1);
    assert.equal(f.read(m), 1);
    fails(f.host.readMemory(m + 4n * MiB, 1), 'EFAULT', 'memory');
    fails(f.host.writeMemory(m + 4n * MiB, Buffer.from([1])), 'EFAULT', 'memory');
  });

  test('§2.2 MMAP without INIT_SHARED: mmap works, but read and write both fault (private memory)', () => {
    const f = fixture();
    const m = f.map(f.gmem(2n * MiB, 1n), 2n * MiB);
    fails(f.host.readMemory(m, 1), 'EFAULT', 'memory');
    fails(f.host.writeMemory(m, Buffer.from([1])), 'EFAULT', 'memory');
  });

  test('§2.2 a fresh page reads 0; a fallocated page is not zeroed but reads 0 on its first fault', () => {
    const f = fixture();
    const g = f.gmem(2n * MiB, 3n);
    ok(f.host.fallocate(g, KEEP, 0n, 2n * MiB));
    const m = f.map(g, 2n * MiB);
    assert.deepEqual([...ok(f.host.readMemory(m + 4090n, 12))], new Array(12).fill(0));
  });

  test('§2.2 a read-only mapping (mprotect RO is 0) refuses host writes', () => {
    const f = fixture();
    const m = f.map(f.gmem(2n * MiB, 3n), 2n * MiB, PROT.READ);
    assert.equal(f.read(m), 0);
    fails(f.host.writeMemory(m, Buffer.from([1])), 'EFAULT', 'memory');
  });

  test('§4 selftest mmap_supported: punching page 0 zeroes it, the rest keep their value, rewriting works', () => {
    const f = fixture();
    const size = 4n * 4096n;
    const g = f.gmem(size, 3n);
    const m = f.map(g, size);
    ok(f.host.writeMemory(m, Buffer.alloc(Number(size), 0xaa)));
    ok(f.host.fallocate(g, PUNCH | KEEP, 0n, 4096n));
    const after = ok(f.host.readMemory(m, Number(size)));
    assert.ok(after.subarray(0, 4096).every((b) => b === 0));
    assert.ok(after.subarray(4096).every((b) => b === 0xaa));
    ok(f.host.writeMemory(m, Buffer.alloc(Number(size), 0xaa)));
    assert.ok(ok(f.host.readMemory(m, Number(size))).every((b) => b === 0xaa));
  });

  test('§4 selftest fault_overflow: map 4x size; beyond i_size faults, in-range data intact', () => {
    const f = fixture();
    const size = 4n * 4096n;
    const m = f.map(f.gmem(size, 3n), 4n * size);
    ok(f.host.writeMemory(m, Buffer.alloc(Number(size), 0x5a)));
    fails(f.host.readMemory(m + size, 1), 'EFAULT');
    fails(f.host.readMemory(m + size - 1n, 2), 'EFAULT'); // an access straddling EOF faults as a whole
    assert.ok(ok(f.host.readMemory(m, Number(size))).every((b) => b === 0x5a));
  });

  test('§4 selftest file_size: st_size is the size and st_blksize the page size', () => {
    const f = fixture();
    const st = ok(f.host.fstat(f.gmem(4n * 4096n, 0n)));
    assert.deepEqual([st.size, st.blksize], [4n * 4096n, 4096n]);
  });

  test('anonymous memory (MAP_ANONYMOUS, fd -1) starts zeroed and holds what the host writes', () => {
    const f = fixture();
    const m = f.map(-1, 8192n);
    assert.equal(f.read(m + 5000n), 0);
    f.write(m + 5000n, 7);
    assert.equal(f.read(m + 5000n), 7);
    ok(f.host.munmap(m, 8192n));
    fails(f.host.readMemory(m + 5000n, 1), 'EFAULT');
  });

  test('munmap: unaligned address or zero length gives EINVAL; an unmapped range is fine', () => {
    const f = fixture();
    fails(f.host.munmap(0x7f00_0000_0100n, 4096n), 'EINVAL', 'munmap');
    fails(f.host.munmap(0x7f00_0000_0000n, 0n), 'EINVAL', 'munmap');
    ok(f.host.munmap(0x7f00_0000_0000n, 4096n));
  });
});
