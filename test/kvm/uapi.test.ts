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
