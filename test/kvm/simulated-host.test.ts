// Pins the simulated adapter to KERNEL.md §1 (capabilities, VM types), §2.0 (generic ioctl
// rules) and §2.1 (KVM_CREATE_GUEST_MEMFD, fstat, inode numbers). Expected values are the
// probed rows (kernel-probes/probe-gmem2.out), not what the implementation happens to do.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readlinkSync } from 'node:fs';
import { createSimulatedHost } from '../../src/kvm/simulated/sim-host.js';
import { parseBackend, selectBackend } from '../../src/kvm/select-backend.js';
import { CAP, MAP } from '../../src/kvm/uapi.js';
import { GiB, MiB, RW, fails, fixture, ok, outcome } from './simulated-fixture.js';

describe('§1 capabilities and VM types', () => {
  // probe-gmem2.out "== caps": identical on /dev/kvm and on a type-0 VM fd.
  const probed: [number, number][] = [
    [10, 32764], [81, 1], [118, 0], [197, 1], [206, 1], [231, 1], [232, 1], [233, 0], [234, 1], [235, 1], [236, 0], [244, 3],
  ];
  test('§1 caps: KVM_CHECK_EXTENSION on /dev/kvm and on a VM fd report the "This host" column', () => {
    const { host, vm } = fixture();
    for (const [cap, value] of probed) {
      assert.equal(ok(host.checkExtension(cap)), value, `cap ${cap} on /dev/kvm`);
      assert.equal(ok(host.checkExtension(cap, vm)), value, `cap ${cap} on the VM fd`);
    }
  });

  test('§1 caps: capabilities() gathers the same values', () => {
    assert.deepEqual(ok(createSimulatedHost().capabilities()),
      { guestMemfd: 1, guestMemfdFlags: 3, vmTypes: 1, nrMemslots: 32764, readonlyMem: 1, userMemory2: 1 });
  });

  test('§1 VM types: KVM_CREATE_VM type 0 works, types 1-6 give EINVAL', () => {
    const host = createSimulatedHost();
    assert.equal(typeof ok(host.createVm(0)), 'number');
    for (let t = 1; t <= 6; t++) fails(host.createVm(t), 'EINVAL', 'KVM_CREATE_VM');
  });

  test('§1 backend: GMEMD_BACKEND=simulated, and auto without a usable /dev/kvm, give the simulator and say why', () => {
    const forced = selectBackend(parseBackend('simulated'));
    assert.equal(forced.host.backend, 'simulated');
    assert.equal(forced.fellBack, false, 'asked for: nothing to warn about');
    const fallback = selectBackend(parseBackend('auto'), '/nonexistent/kvm');
    assert.equal(fallback.host.backend, 'simulated');
    assert.match(fallback.note, /\/nonexistent\/kvm is unusable \(open \/nonexistent\/kvm: ENOENT\)/);
    assert.equal(fallback.fellBack, true, 'the server warns when auto fell back');
    // GMEMD_BACKEND=native never falls back: the server turns this into exit 2 and one line.
    assert.throws(() => selectBackend(parseBackend('native'), '/nonexistent/kvm'),
      /^Error: GMEMD_BACKEND=native but \/nonexistent\/kvm is unusable: open \/nonexistent\/kvm: ENOENT$/);
    // The simulator, not a relabelled native host: its VM fd is no kernel kvm-vm file.
    const fd = ok(forced.host.createVm(0));
    let link = '';
    try { link = readlinkSync(`/proc/self/fd/${fd}`); } catch { /* no such fd in this process */ }
    assert.notEqual(link, 'anon_inode:kvm-vm');
  });
});

describe('§2.0 generic VM-fd ioctl rules', () => {
  test('§2.0 an ioctl on a gmem fd gives ENOTTY (KVM_CHECK_EXTENSION, KVM_CREATE_GUEST_MEMFD)', () => {
    const f = fixture();
    const g = f.gmem(4n * MiB, 3n);
    fails(f.host.checkExtension(CAP.GUEST_MEMFD, g), 'ENOTTY', 'KVM_CHECK_EXTENSION');
    fails(f.host.createGuestMemfd(g, 4096n, 0n), 'ENOTTY', 'KVM_CREATE_GUEST_MEMFD');
    fails(f.host.setUserMemoryRegion2(g, { slot: 0, flags: 0, guestPhysAddr: 0n, memorySize: 4096n, userspaceAddr: 0n,
      guestMemfdOffset: 0n, guestMemfd: 0 }), 'ENOTTY', 'KVM_SET_USER_MEMORY_REGION2');
  });

  test('§2.0 an ioctl on a closed VM fd gives EBADF; closing an unknown fd gives EBADF', () => {
    const f = fixture();
    ok(f.host.close(f.vm));
    fails(f.host.createGuestMemfd(f.vm, 4096n, 0n), 'EBADF', 'KVM_CREATE_GUEST_MEMFD');
    fails(f.host.checkExtension(CAP.GUEST_MEMFD, f.vm), 'EBADF', 'KVM_CHECK_EXTENSION');
    fails(f.set({ slot: 0 }), 'EBADF', 'KVM_SET_USER_MEMORY_REGION2');
    fails(f.host.close(f.vm), 'EBADF', 'close');
    fails(f.host.close(9999), 'EBADF', 'close');
  });
});

describe('§2.1 KVM_CREATE_GUEST_MEMFD', () => {
  test('§2.1 row 1: flag bits 0 and 1 are accepted, every bit 2..63 gives EINVAL', () => {
    const f = fixture();
    for (let b = 0n; b < 64n; b++) {
      assert.equal(outcome(f.host.createGuestMemfd(f.vm, 4096n, 1n << b)), b < 2n ? 'OK' : 'EINVAL', `bit ${b}`);
    }
  });

  test('§2.1 row 2: sizes 0, 1, 4095, 4097, 1<<63, 0xffff...f000 give EINVAL (size is a signed loff_t)', () => {
    const f = fixture();
    for (const size of [0n, 1n, 4095n, 4097n, 1n << 63n, 0xffff_ffff_ffff_f000n]) {
      fails(f.host.createGuestMemfd(f.vm, size, 0n), 'EINVAL', 'KVM_CREATE_GUEST_MEMFD');
    }
  });

  test('§2.1 row 2: sizes 8 KiB, 1 TiB, 1<<50, 1<<62, (1<<63)-4096 are accepted (no upper bound)', () => {
    const f = fixture();
    for (const size of [8192n, 1n << 40n, 1n << 50n, 1n << 62n, (1n << 63n) - 4096n]) {
      assert.equal(ok(f.host.fstat(f.gmem(size))).size, size);
    }
  });

  test('§2.1 selftest create_guest_memfd_invalid_sizes: sizes 1..4095 give EINVAL', () => {
    const f = fixture();
    for (let size = 1n; size < 4096n; size++) assert.equal(outcome(f.host.createGuestMemfd(f.vm, size, 0n)), 'EINVAL');
  });

  test('§2.1 row 4: no free fd gives EMFILE (probed with RLIMIT_NOFILE=16)', () => {
    const host = createSimulatedHost({ fdBase: 3, fdLimit: 16 });
    const vm = ok(host.createVm(0));
    let made = 0;
    for (; made < 100; made++) if (!host.createGuestMemfd(vm, 4096n, 0n).ok) break;
    assert.equal(made, 12); // fds 4..15
    fails(host.createGuestMemfd(vm, 4096n, 0n), 'EMFILE', 'KVM_CREATE_GUEST_MEMFD');
    fails(host.createVm(0), 'EMFILE', 'KVM_CREATE_VM');
    // Flags and size are checked before an fd is taken.
    fails(host.createGuestMemfd(vm, 4096n, 4n), 'EINVAL');
  });

  test('§2.1 result: fstat gives mode 0100600, nlink 1, st_size, blksize 4096, blocks 0, dev 0x10', () => {
    const f = fixture();
    for (let i = 0; i < 4; i++) {
      const st = ok(f.host.fstat(f.gmem(8192n * BigInt(i + 1), BigInt(i & 3))));
      assert.deepEqual({ ...st, ino: 0n }, { dev: 0x10n, ino: 0n, mode: 0o100600, nlink: 1n, size: 8192n * BigInt(i + 1), blksize: 4096n, blocks: 0n });
    }
  });

  test('§2.1 result: st_blocks stays 0 after fallocate and after host writes', () => {
    const f = fixture();
    const g = f.gmem(4n * MiB, 3n);
    ok(f.host.fallocate(g, 1, 0n, MiB));
    f.write(f.map(g, 4n * MiB) + 8192n, 42);
    assert.equal(ok(f.host.fstat(g)).blocks, 0n);
  });

  test('§2.1 result: each create makes a new inode; numbers are unique and increasing (gaps allowed)', () => {
    const f = fixture();
    const inos = Array.from({ length: 20 }, () => ok(f.host.fstat(f.gmem(4096n))).ino);
    for (let i = 1; i < inos.length; i++) assert.ok(inos[i] > inos[i - 1]);
  });

  test('§2.1 result: the VM fd is the shared anon inode (ino 18, dev 0x10, mode 0600)', () => {
    const f = fixture();
    const st = ok(f.host.fstat(f.vm));
    assert.deepEqual([st.ino, st.dev, st.mode], [18n, 0x10n, 0o600]);
  });

  test('§2.1 result: /proc/self/fd kinds: kvm-vm (anon inode 18) and kvm-gmem with the gmem inode', () => {
    const f = fixture();
    const g = f.gmem(2n * MiB, 3n);
    const ino = ok(f.host.fstat(g)).ino;
    assert.deepEqual(ok(f.host.heldFds()).map(({ fd, kind, ino: i }) => [fd, kind, i]),
      [[f.vm, 'kvm-vm', 18n], [g, 'kvm-gmem', ino]]);
  });

  test('§2.1 result: /proc/self/maps shows the gmem inode once per VMA with its file offset', () => {
    const f = fixture();
    const g = f.gmem(8n * MiB, 3n);
    const ino = ok(f.host.fstat(g)).ino;
    const a = f.map(g, 2n * MiB);
    ok(f.host.munmap(a + MiB, 4096n)); // split into two VMAs, as munmap of a hole does
    f.map(-1, 4096n); // anonymous memory is not listed
    assert.deepEqual(ok(f.host.heldMappings()).map((m) => [m.start - a, m.end - a, m.ino, m.offset]),
      [[0n, MiB, ino, 0n], [MiB + 4096n, 2n * MiB, ino, MiB + 4096n]]);
  });

  test('fds are the lowest free numbers from the base (1000), as get_unused_fd_flags picks them', () => {
    const f = fixture();
    assert.equal(f.vm, 1000);
    const a = f.gmem(4096n), b = f.gmem(4096n);
    assert.deepEqual([a, b], [1001, 1002]);
    ok(f.host.close(a));
    assert.equal(f.gmem(4096n), 1001);
  });

  test('mappings are page-aligned addresses handed out from 0x7f00_0000_0000 upward', () => {
    const f = fixture();
    const a = ok(f.host.mmap(-1, 100n, RW, MAP.SHARED | MAP.ANONYMOUS, 0n));
    const b = ok(f.host.mmap(-1, 4096n, RW, MAP.PRIVATE | MAP.ANONYMOUS, 0n));
    assert.equal(a, 0x7f00_0000_0000n);
    assert.equal(b, a + 4096n);
    assert.ok(b < 128n * 1024n * GiB);
  });
});
