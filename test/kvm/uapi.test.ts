// The uapi numbers and layouts, checked three ways: against the table in KERNEL.md §1, against
// the koffi struct declarations, and against gcc compiling test/kvm/fixtures/uapi-layout.c
// with the system's kernel headers and <asm-generic/ioctl.h>'s _IO/_IOW/_IOWR.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import koffi from 'koffi';
import { CAP, FALLOC, KVM, KVM_EXIT, MAP, MEM, O, PROT, SIZEOF, ioc } from '../../src/kvm/uapi.js';
import * as L from '../../src/kvm/native/libc.js';
import { tempDir } from '../support/tmp.js';
import { needsKvm } from '../support/kvm.js';

test('ioctl numbers equal KERNEL.md §1', () => {
  assert.equal(KVM.CREATE_VM, 0xae01);
  assert.equal(KVM.CHECK_EXTENSION, 0xae03);
  assert.equal(KVM.SET_USER_MEMORY_REGION2, 0x40a0ae49);
  assert.equal(KVM.CREATE_GUEST_MEMFD, 0xc040aed4);
  assert.equal(ioc(1, 0xae, 0x46, 32), 0x4020ae46);  // KVM_SET_USER_MEMORY_REGION
  assert.equal(ioc(1, 0xae, 0xd2, 32), 0x4020aed2);  // KVM_SET_MEMORY_ATTRIBUTES
  assert.equal(ioc(1, 0xae, 0xa3, 104), 0x4068aea3); // KVM_ENABLE_CAP
});

test('vCPU ioctl numbers, computed by hand from _IOC', () => {
  assert.equal(KVM.GET_API_VERSION, 0xae00);
  assert.equal(KVM.GET_VCPU_MMAP_SIZE, 0xae04);
  assert.equal(KVM.CREATE_VCPU, 0xae41);
  assert.equal(KVM.RUN, 0xae80);
  assert.equal(KVM.GET_REGS, 0x8090ae81);   // _IOR(0xae, 0x81, 144)
  assert.equal(KVM.SET_REGS, 0x4090ae82);   // _IOW(0xae, 0x82, 144)
  assert.equal(KVM.GET_SREGS, 0x8138ae83);  // _IOR(0xae, 0x83, 312)
  assert.equal(KVM.SET_SREGS, 0x4138ae84);  // _IOW(0xae, 0x84, 312)
});

test('koffi struct sizes equal SIZEOF', () => {
  assert.equal(koffi.sizeof(L.kvm_userspace_memory_region2), SIZEOF.kvm_userspace_memory_region2);
  assert.equal(koffi.sizeof(L.kvm_create_guest_memfd), SIZEOF.kvm_create_guest_memfd);
  assert.equal(koffi.sizeof(L.kvm_regs), SIZEOF.kvm_regs);
  assert.equal(koffi.sizeof(L.kvm_sregs), SIZEOF.kvm_sregs);
  assert.equal(koffi.sizeof(L.kvm_segment), SIZEOF.kvm_segment);
  assert.equal(koffi.sizeof(L.kvm_dtable), 16);
  assert.equal(koffi.sizeof(L.stat), SIZEOF.stat);
});

const gccMissing = spawnSync('gcc', ['--version']).error !== undefined;

test('gcc agrees on every ioctl number, size, offset and constant',
  gccMissing ? { skip: 'gcc is not installed' } : {}, (t) => {
    const { dir, cleanup } = tempDir('gmemd-uapi-');
    t.after(cleanup);
    const src = fileURLToPath(new URL('./fixtures/uapi-layout.c', import.meta.url));
    const bin = join(dir, 'uapi-layout');
    const cc = spawnSync('gcc', ['-Wall', '-Wextra', '-Werror', '-o', bin, src], { encoding: 'utf8' });
    assert.equal(cc.status, 0, cc.stderr);
    const run = spawnSync(bin, { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const c = new Map(run.stdout.trim().split('\n').map((l) => {
      const [k, v] = l.split(' ');
      return [k!, Number(v)] as const;
    }));
    const seen = new Set<string>();
    const eq = (key: string, ts: number) => {
      assert.ok(c.has(key), `gcc printed no ${key}`);
      assert.equal(ts, c.get(key), key);
      seen.add(key);
    };

    for (const [name, num] of Object.entries(KVM)) eq(`ioctl.${name}`, num);
    eq('ioctl.SET_USER_MEMORY_REGION', ioc(1, 0xae, 0x46, 32));
    eq('ioctl.SET_MEMORY_ATTRIBUTES', ioc(1, 0xae, 0xd2, 32));
    eq('ioctl.ENABLE_CAP', ioc(1, 0xae, 0xa3, 104));

    for (const name of ['kvm_userspace_memory_region2', 'kvm_create_guest_memfd', 'kvm_regs', 'kvm_sregs',
      'kvm_segment', 'stat'] as const) {
      eq(`sizeof.${name}`, SIZEOF[name]);
      eq(`sizeof.${name}`, koffi.sizeof(L[name]));
    }
    eq('sizeof.kvm_dtable', koffi.sizeof(L.kvm_dtable));
    const offs = (struct: string, table: Record<string, number>) => {
      for (const [f, off] of Object.entries(table)) eq(`offsetof.${struct}.${f}`, off);
    };
    offs('kvm_userspace_memory_region2', L.REGION2);
    offs('kvm_create_guest_memfd', L.GMEM);
    offs('kvm_regs', { rip: L.REGS.rip, rflags: L.REGS.rflags });
    offs('kvm_segment', L.SEGMENT);
    offs('kvm_sregs', L.SREGS);
    offs('stat', L.STAT);
    offs('kvm_run', Object.fromEntries(Object.entries(L.RUN).map(([k, v]) => [k.replace(/^(io|mmio)_/, '$1.'), v])));
    eq('offsetof.kvm_run.kvm_valid_regs', koffi.sizeof(L.kvm_run_head));

    for (const [k, v] of Object.entries(KVM_EXIT)) eq(`const.KVM_EXIT_${k}`, v);
    eq('const.KVM_EXIT_IO_OUT', 1);
    eq('const.KVM_MEM_LOG_DIRTY_PAGES', MEM.LOG_DIRTY_PAGES);
    eq('const.KVM_MEM_READONLY', MEM.READONLY);
    eq('const.KVM_CAP_NR_MEMSLOTS', CAP.NR_MEMSLOTS);
    eq('const.KVM_CAP_READONLY_MEM', CAP.READONLY_MEM);
    eq('const.FALLOC_FL_KEEP_SIZE', FALLOC.KEEP_SIZE);
    eq('const.FALLOC_FL_PUNCH_HOLE', FALLOC.PUNCH_HOLE);
    for (const [k, v] of Object.entries(PROT)) eq(`const.PROT_${k}`, v);
    for (const [k, v] of Object.entries(MAP)) eq(`const.MAP_${k}`, v);
    for (const [k, v] of Object.entries(O)) eq(`const.O_${k}`, v);

    assert.deepEqual([...c.keys()].filter((k) => !seen.has(k)), [], 'lines gcc printed that nothing checked');
  });

test('the in-place encoders write what koffi writes for the same struct, wrapping as C would', () => {
  const r = { slot: 2 ** 32 + 5, flags: 4, guestPhysAddr: -4096n, memorySize: 2n ** 64n + 2n * 2n ** 20n,
    userspaceAddr: 0x7f00_1234_5000n, guestMemfdOffset: 2n ** 63n, guestMemfd: 17 };
  const s = new L.StructBuf(SIZEOF.kvm_userspace_memory_region2);
  s.buf.fill(0);
  const expected = Buffer.alloc(SIZEOF.kvm_userspace_memory_region2);
  koffi.encode(expected, L.kvm_userspace_memory_region2, {
    slot: r.slot >>> 0, flags: r.flags, guest_phys_addr: BigInt.asUintN(64, r.guestPhysAddr),
    memory_size: BigInt.asUintN(64, r.memorySize), userspace_addr: r.userspaceAddr,
    guest_memfd_offset: r.guestMemfdOffset, guest_memfd: r.guestMemfd, pad1: 0, pad2: new Array(14).fill(0n) });
  assert.deepEqual(L.encodeRegion2(s, r), expected);
  assert.equal(L.encodeRegion2(s, r).length, 160);

  const g = new L.StructBuf(SIZEOF.kvm_create_guest_memfd);
  const gExpected = Buffer.alloc(SIZEOF.kvm_create_guest_memfd);
  koffi.encode(gExpected, L.kvm_create_guest_memfd, { size: 2n * 2n ** 20n, flags: 3n, reserved: new Array(6).fill(0n) });
  assert.deepEqual(L.encodeCreateGuestMemfd(g, 2n * 2n ** 20n, 3n), gExpected);
  // `addr` is where those bytes are: what the kernel reads when it is passed as an integer.
  assert.deepEqual(L.nativeView(BigInt(g.addr), g.buf.length), gExpected);
  assert.deepEqual(L.nativeView(BigInt(s.addr), s.buf.length), expected);
});

test('the fixed-arity ioctl declarations give what the variadic one gives (x86-64 ABI)', needsKvm(), () => {
  const kvm = L.sys.open('/dev/kvm', O.RDWR | O.CLOEXEC);
  assert.ok(kvm >= 0, `open /dev/kvm: errno ${L.errno()}`);
  try {
    for (const cap of Object.values(CAP)) {
      assert.equal(L.sys.ioctlInt(kvm, KVM.CHECK_EXTENSION, cap), L.sys.ioctlAs(kvm, KVM.CHECK_EXTENSION, 'unsigned long', cap), `cap ${cap}`);
    }
    // A pointer argument: the kernel reads the struct through it, and refuses the same bad one.
    const vm = L.sys.ioctlInt(kvm, KVM.CREATE_VM, 0);
    assert.ok(vm >= 0, `KVM_CREATE_VM: errno ${L.errno()}`);
    const args = new L.StructBuf(SIZEOF.kvm_create_guest_memfd);
    for (const [size, flags] of [[2n ** 21n, 0n], [4097n, 0n], [2n ** 21n, 1n << 40n]] as const) {
      const viaFixed = L.sys.ioctlPtr(vm, KVM.CREATE_GUEST_MEMFD, L.encodeCreateGuestMemfd(args, size, flags));
      const fixedErrno = viaFixed < 0 ? L.errno() : 0;
      const viaVariadic = L.sys.ioctlAs(vm, KVM.CREATE_GUEST_MEMFD, 'void *', L.encodeCreateGuestMemfd(args, size, flags));
      const variadicErrno = viaVariadic < 0 ? L.errno() : 0;
      // The struct's address as an integer (the native host's synchronous calls).
      L.encodeCreateGuestMemfd(args, size, flags);
      const viaAddr = L.sys.ioctlInt(vm, KVM.CREATE_GUEST_MEMFD, args.addr);
      const addrErrno = viaAddr < 0 ? L.errno() : 0;
      assert.deepEqual([viaFixed >= 0, fixedErrno], [viaVariadic >= 0, variadicErrno], `size ${size} flags ${flags}`);
      assert.deepEqual([viaAddr >= 0, addrErrno], [viaVariadic >= 0, variadicErrno], `by address: size ${size} flags ${flags}`);
      for (const fd of [viaFixed, viaVariadic, viaAddr]) if (fd >= 0) L.sys.close(fd);
    }
    L.sys.close(vm);
  } finally {
    L.sys.close(kvm);
  }
});
