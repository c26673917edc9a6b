// KernelRegistry is changed only through its methods (issue 9, sealed boundaries): what it
// hands out are read-only views. The @ts-expect-error lines are checked by `tsc -p .`, which
// npm test runs first: were a map writable again, the expected error would be missing and
// the type check would fail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KernelRegistry } from '../../src/services/kernel-registry.js';
import type { MemoryRegion } from '../../src/kvm/kvm-host.js';

const region = (slot: number): MemoryRegion =>
  ({ slot, flags: 0, guestPhysAddr: 0n, memorySize: 4096n, userspaceAddr: 0x7f0000000000n, guestMemfd: 0, guestMemfdOffset: 0n });

// For the type checker only: each line must fail to compile.
export function writesRefusedByTheTypes(r: KernelRegistry): void {
  // @ts-expect-error a read-only view
  r.vms.set('vm_b', 8);
  // @ts-expect-error a read-only view
  r.gmems.delete('ino_a');
  // @ts-expect-error a read-only view
  r.memslots.get('vm_a')!.set(4, region(4));
}

test('the registry changes through its methods; its maps are read-only views of that state', () => {
  const r = new KernelRegistry();
  r.addVm('vm_a', 7);
  r.setGmem('ino_a', { fd: 9, kernelOriginVmId: 'vm_a', size: 4096, mapping: null });
  r.trackMemslot('vm_a', region(3));
  assert.deepEqual([[...r.vms], [...r.gmems.keys()], [...r.memslots.get('vm_a')!.keys()]], [[['vm_a', 7]], ['ino_a'], [3]]);
  r.untrackMemslot('vm_a', 3);
  assert.equal(r.memslots.has('vm_a'), false, 'a VM with no tracked memslot is not listed');
  r.trackMemslot('vm_a', region(5));
  r.dropVm('vm_a');
  r.forgetGmem('ino_a');
  assert.deepEqual([r.vms.size, r.gmems.size, r.memslots.size], [0, 0, 0]);
});
