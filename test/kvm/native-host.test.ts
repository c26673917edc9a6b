// The native adapter without KVM: the file and memory primitives run on a memfd and
// anonymous memory, errno mapping on real failing calls. native-host-kvm.test.ts runs the
// rest on /dev/kvm.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fstatSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MemoryRegion } from '../../src/kvm/kvm-host.js';
import { FALLOC, MAP, PROT } from '../../src/kvm/uapi.js';
import { libcLoads } from '../../src/kvm/native/libc.js';
import { encodeProbeProgram } from '../../src/kvm/native/guest-probe.js';
import { NativeKvmHost, openNativeHost, parseGmemMappings } from '../../src/kvm/native/native-host.js';
import { tempDir } from '../support/tmp.js';
import { PAGE, RW, MiB, ok, fails, memfd, fdsOn } from './native-fixture.js';

describe('without /dev/kvm', () => {
  const host = new NativeKvmHost();

  test('libc is loaded once per process, not per host', () => {
    const other = new NativeKvmHost();
    fails(other.close(-1), 'close', 'EBADF');
    assert.equal(libcLoads(), 1);
  });

  test('close(-1) is EBADF for operation close', () => {
    fails(host.close(-1), 'close', 'EBADF');
  });

  test('memfd: fstat, fallocate, mmap, read/write through the mapping, munmap, close', () => {
    const fd = memfd(host, 2n * PAGE);
    const st = ok(host.fstat(fd));
    assert.equal(st.size, 2n * PAGE);
    assert.equal(st.ino, fstatSync(fd, { bigint: true }).ino);
    assert.equal(st.mode & 0o170000, 0o100000);
    const addr = ok(host.mmap(fd, 3n * PAGE, RW, MAP.SHARED, 0n));
    const pattern = Buffer.from('guest memory, written by the host');
    ok(host.writeMemory(addr + 100n, pattern));
    assert.deepEqual(ok(host.readMemory(addr + 100n, pattern.length)), pattern);
    assert.equal(ok(host.readMemory(addr + 2n * PAGE - 1n, 1)).length, 1);
    // The third page is mapped but lies beyond i_size: touching it would be SIGBUS.
    fails(host.readMemory(addr + 2n * PAGE, 1), 'memory', 'EFAULT');
    fails(host.writeMemory(addr + 2n * PAGE - 4n, Buffer.alloc(8)), 'memory', 'EFAULT');
    fails(host.readMemory(addr + 3n * PAGE, 1), 'memory', 'EFAULT');
    fails(host.readMemory(addr - 1n, 2), 'memory', 'EFAULT');
    ok(host.fallocate(fd, 0, 2n * PAGE, PAGE)); // i_size grows: the page becomes reachable
    assert.deepEqual(ok(host.readMemory(addr + 2n * PAGE, 4)), Buffer.alloc(4));
    // A second, read-only mapping at file offset 4096 sees the first one's writes.
    const ro = ok(host.mmap(fd, PAGE, PROT.READ, MAP.SHARED, PAGE));
    ok(host.writeMemory(addr + PAGE + 7n, Buffer.from([0xa5])));
    assert.deepEqual(ok(host.readMemory(ro + 7n, 1)), Buffer.from([0xa5]));
    fails(host.writeMemory(ro, Buffer.from([1])), 'memory', 'EFAULT');
    ok(host.munmap(addr, 3n * PAGE));
    fails(host.readMemory(addr, 1), 'memory', 'EFAULT');
    ok(host.close(fd));
    // Still mapped, but its size can no longer be checked through an fd: refused.
    fails(host.readMemory(ro, 1), 'memory', 'EFAULT');
    ok(host.munmap(ro, PAGE));
    fails(host.close(fd), 'close', 'EBADF');
  });

  test('anonymous mappings (fd -1) are readable and writable; munmap can cut a hole', () => {
    const addr = ok(host.mmap(-1, 3n * PAGE, RW, MAP.SHARED | MAP.ANONYMOUS, 0n));
    for (let i = 0n; i < 3n; i++) ok(host.writeMemory(addr + i * PAGE, Buffer.from([Number(i) + 1])));
    assert.deepEqual(ok(host.readMemory(addr, 0)), Buffer.alloc(0));
    ok(host.munmap(addr + PAGE, PAGE));
    assert.deepEqual(ok(host.readMemory(addr, 1)), Buffer.from([1]));
    fails(host.readMemory(addr + PAGE, 1), 'memory', 'EFAULT');
    assert.deepEqual(ok(host.readMemory(addr + 2n * PAGE, 1)), Buffer.from([3]));
    fails(host.readMemory(addr + PAGE - 1n, 2), 'memory', 'EFAULT');
    ok(host.munmap(addr, 3n * PAGE));
    fails(host.readMemory(addr + 2n * PAGE, 1), 'memory', 'EFAULT');
  });

  test('errno of failing calls, by operation', () => {
    const fd = memfd(host, PAGE);
    fails(host.fallocate(fd, FALLOC.PUNCH_HOLE, 0n, PAGE), 'fallocate', 'EOPNOTSUPP'); // punch needs KEEP_SIZE
    fails(host.fallocate(fd, 0, -1n, PAGE), 'fallocate', 'EINVAL');
    fails(host.fallocate(-1, 0, 0n, PAGE), 'fallocate', 'EBADF');
    fails(host.fstat(-1), 'fstat', 'EBADF');
    fails(host.mmap(-1, PAGE, RW, MAP.SHARED, 0n), 'mmap', 'EBADF');
    fails(host.mmap(fd, 0n, RW, MAP.SHARED, 0n), 'mmap', 'EINVAL');
    fails(host.munmap(1n, PAGE), 'munmap', 'EINVAL');
    fails(host.checkExtension(234, fd), 'KVM_CHECK_EXTENSION', 'ENOTTY');
    fails(host.createVm(0), 'KVM_CREATE_VM', 'EBADF');
    fails(host.createGuestMemfd(fd, 2n * MiB, 3n), 'KVM_CREATE_GUEST_MEMFD', 'ENOTTY');
    const region: MemoryRegion = { slot: 0, flags: 0, guestPhysAddr: 0n, memorySize: PAGE, userspaceAddr: 0n,
      guestMemfdOffset: 0n, guestMemfd: -1 };
    fails(host.setUserMemoryRegion2(fd, region), 'KVM_SET_USER_MEMORY_REGION2', 'ENOTTY');
    const req = { gpa: 0x2000n, codeGpa: 0x1000n, codeSlot: 1 };
    fails(host.probe(fd, req), 'KVM_CREATE_VCPU', 'ENOTTY');
    fails(host.probe(fd, req), 'KVM_CREATE_VCPU', 'ENOTTY'); // nothing was cached for a non-VM
    fails(host.probe(fd, { ...req, gpa: 1n << 32n }), 'KVM_RUN', 'EINVAL');
    fails(host.probe(fd, { ...req, gpa: 0x1010n }), 'KVM_RUN', 'EINVAL'); // inside the code page
    ok(host.close(fd));
  });

  test('heldFds lists this process fds with their inode; heldMappings only gmem', () => {
    const fd = memfd(host, PAGE);
    const addr = ok(host.mmap(fd, PAGE, RW, MAP.SHARED, 0n));
    const held = ok(host.heldFds()).find((h) => h.fd === fd);
    assert.deepEqual(held, { fd, kind: 'other', ino: ok(host.fstat(fd)).ino });
    assert.deepEqual(ok(host.heldMappings()), []);
    ok(host.munmap(addr, PAGE));
    ok(host.close(fd));
  });

  test('parseGmemMappings reads the /proc/PID/maps line format', () => {
    const maps = [
      '7f3a40000000-7f3a40200000 rw-s 00100000 00:10 821536                     anon_inode:[kvm-gmem]',
      '7f3a40200000-7f3a40201000 rw-s 00000000 00:01 2050                       /memfd:x (deleted)',
      '7f3a40400000-7f3a40401000 rw-s 00000000 00:10 18                         anon_inode:kvm-vcpu:0',
    ].join('\n');
    assert.deepEqual(parseGmemMappings(maps), [
      { start: 0x7f3a40000000n, end: 0x7f3a40200000n, offset: 0x100000n, ino: 821536n },
    ]);
  });

  test('probe program: the bytes of probe-protected-mode.c, as objdump decodes them', (t) => {
    const program = (gpa: number, write?: number) => {
      const code = Buffer.alloc(32);
      return code.subarray(0, encodeProbeProgram(code, gpa, write));
    };
    assert.deepEqual(program(0xc0000123, 0x66), Buffer.from(
      'c6052301 00c066 a0230100c0 e610 f4'.replace(/ /g, ''), 'hex'));
    assert.deepEqual(program(0x80000000), Buffer.from('a0 00000080 e610 f4'.replace(/ /g, ''), 'hex'));
    // binutils comes with gcc, which npm ci needs for better-sqlite3: a missing objdump is a broken host.
    assert.ok(!spawnSync('objdump', ['--version']).error, 'objdump (binutils) is required');
    const { dir, cleanup } = tempDir('gmemd-probe-');
    t.after(cleanup);
    writeFileSync(join(dir, 'p.bin'), program(0xc0000123, 0x66));
    const dis = spawnSync('objdump', ['-D', '-b', 'binary', '-mi386', '-Mintel', join(dir, 'p.bin')], { encoding: 'utf8' });
    const insns = dis.stdout.split('\n').map((l) => l.split('\t')[2]?.trim().replace(/\s+/g, ' ')).filter(Boolean);
    assert.deepEqual(insns, ['mov BYTE PTR ds:0xc0000123,0x66', 'mov al,ds:0xc0000123', 'out 0x10,al', 'hlt']);
  });

  test('openNativeHost: a missing device is ENOENT; a non-KVM device is refused and closed', () => {
    const missing = openNativeHost('/nonexistent/kvm');
    assert.equal(missing.ok, false);
    if (!missing.ok) assert.match(missing.reason, /ENOENT/);
    const before = fdsOn('/dev/null');
    const notKvm = openNativeHost('/dev/null');
    assert.equal(notKvm.ok, false);
    if (!notKvm.ok) assert.match(notKvm.reason, /ENOTTY/);
    assert.equal(fdsOn('/dev/null'), before);
  });
});
