// The non-destructive memslot existence check, on both backends: it finds gmem and plain
// (read-only or not) memslots, never creates one where none exists (whatever the GPA), and a
// bad VM fd is an error, not "absent".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KvmHost, MemoryRegion } from '../../src/kvm/kvm-host.js';
import { listMemslots, memslotExists } from '../../src/kvm/memslot-probe.js';
import { GMEM_FLAGS_SHAREABLE, MAP, MEM, PROT } from '../../src/kvm/uapi.js';
import { describeBackends, openHost } from '../support/app.js';
import { ok } from './simulated-fixture.js';

const MiB = 1n << 20n;
const region = (p: Partial<MemoryRegion>): MemoryRegion =>
  ({ slot: 0, flags: 0, guestPhysAddr: 0n, memorySize: 2n * MiB, userspaceAddr: 0n, guestMemfdOffset: 0n, guestMemfd: 0, ...p });

describeBackends('memslot existence probe', (kind) => {
  const setup = () => {
    const kvm: KvmHost = openHost(kind);
    const vm = ok(kvm.createVm(0));
    const gm = ok(kvm.createGuestMemfd(vm, 4n * MiB, GMEM_FLAGS_SHAREABLE));
    const mem = ok(kvm.mmap(gm, 4n * MiB, PROT.READ | PROT.WRITE, MAP.SHARED, 0n));
    ok(kvm.setUserMemoryRegion2(vm, region({ slot: 3, flags: MEM.GUEST_MEMFD, guestPhysAddr: 0n, guestMemfd: gm })));
    ok(kvm.setUserMemoryRegion2(vm, region({ slot: 7, guestPhysAddr: 8n * MiB, userspaceAddr: mem + 2n * MiB })));
    ok(kvm.setUserMemoryRegion2(vm, region({ slot: 9, flags: MEM.READONLY, guestPhysAddr: 16n * MiB, userspaceAddr: mem })));
    const close = () => { kvm.munmap(mem, 4n * MiB); kvm.close(gm); kvm.close(vm); };
    return { kvm, vm, close };
  };

  test('gmem, plain and read-only memslots exist; other ids do not', () => {
    const { kvm, vm, close } = setup();
    try {
      for (const slot of [3, 7, 9]) assert.equal(ok(memslotExists(kvm, vm, slot)), true, `slot ${slot}`);
      for (const slot of [0, 1, 8, 32763]) assert.equal(ok(memslotExists(kvm, vm, slot)), false, `slot ${slot}`);
      assert.equal(ok(memslotExists(kvm, vm, 32764)), false, 'ids from NR_MEMSLOTS up cannot exist');
    } finally { close(); }
  });

  test('asking changes nothing: absent slots stay absent, present ones keep their GPA range', () => {
    const { kvm, vm, close } = setup();
    try {
      // The probe request uses GPA 0, where slot 3 lives: absent ids there answer EEXIST, not a create.
      for (let i = 0; i < 3; i++) assert.equal(ok(memslotExists(kvm, vm, 0)), false);
      assert.deepEqual(ok(listMemslots(kvm, vm)), [3, 7, 9]);
      // Slot 7 still occupies its range: an overlapping create is EEXIST; deleting it works once.
      const clash = kvm.setUserMemoryRegion2(vm, region({ slot: 20, guestPhysAddr: 8n * MiB, userspaceAddr: 0n }));
      assert.equal(clash.ok ? 'OK' : clash.error.errno, 'EEXIST');
      ok(kvm.setUserMemoryRegion2(vm, region({ slot: 7, guestPhysAddr: 8n * MiB, memorySize: 0n })));
      assert.equal(ok(memslotExists(kvm, vm, 7)), false);
      assert.deepEqual(ok(listMemslots(kvm, vm)), [3, 9]);
    } finally { close(); }
  });

  test('a bad VM fd is an error, not an absent slot', () => {
    const { kvm, vm, close } = setup();
    close();
    const r = memslotExists(kvm, vm, 3);
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.error.errno, 'EBADF');
  });
});
