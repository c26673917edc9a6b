// The simulated probe reports what the native one (src/kvm/native/guest-probe.ts) reports on
// the real kernel: the same argument checks, the temporary code memslot going through the
// memslot rules of KERNEL.md §2.3, and KVM_RUN's EFAULT when guest memory cannot be faulted in.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GiB, MiB, fails, fixture, ok } from './simulated-fixture.js';
import { PROT } from '../../src/kvm/uapi.js';

const req = (p: { gpa?: bigint; write?: number; codeGpa?: bigint; codeSlot?: number } = {}) =>
  ({ gpa: 0x1000n, codeGpa: 0x1000_0000n, codeSlot: 9, ...p });

describe('guest probe', () => {
  test('the code slot at an occupied guest address fails as KVM_SET_USER_MEMORY_REGION2 would: EEXIST (§2.3 row 14)', () => {
    const f = fixture();
    ok(f.set({ slot: 0, guestPhysAddr: 0n, memorySize: 2n * MiB }));
    fails(f.host.probe(f.vm, req({ codeGpa: MiB })), 'EEXIST', 'KVM_SET_USER_MEMORY_REGION2');
  });

  test('a code slot id already in use is a modification of that slot: EINVAL (§2.3 row 13)', () => {
    const f = fixture();
    ok(f.set({ slot: 9, guestPhysAddr: 0n, memorySize: 2n * MiB }));
    fails(f.host.probe(f.vm, req({ codeGpa: 4n * MiB })), 'EINVAL', 'KVM_SET_USER_MEMORY_REGION2');
  });

  test('the code slot is deleted again: its id and guest address are free after the probe', () => {
    const f = fixture();
    ok(f.host.probe(f.vm, req()));
    ok(f.set({ slot: 9, guestPhysAddr: 0x1000_0000n, memorySize: 4096n }));
  });

  test('arguments the 32-bit program cannot express are refused up front (KVM_RUN EINVAL)', () => {
    const f = fixture();
    for (const bad of [req({ gpa: 4n * GiB }), req({ gpa: 0x1000_0010n }), req({ write: 256 }), req({ codeGpa: 0x1000_0100n }),
      req({ codeGpa: 4n * GiB })]) {
      fails(f.host.probe(f.vm, bad), 'EINVAL', 'KVM_RUN');
    }
  });

  test('a closed VM fd fails at KVM_CREATE_VCPU with EBADF; a gmem fd with ENOTTY', () => {
    const f = fixture();
    const g = f.gmem(4096n);
    fails(f.host.probe(g, req()), 'ENOTTY', 'KVM_CREATE_VCPU');
    ok(f.host.close(f.vm));
    fails(f.host.probe(f.vm, req()), 'EBADF', 'KVM_CREATE_VCPU');
  });

  test('the probe\'s vCPU fd is held (kvm-vcpu) until its VM fd is closed, and it does not outlive the VM', () => {
    const f = fixture();
    ok(f.host.probe(f.vm, req()));
    ok(f.host.probe(f.vm, req())); // one cached vCPU per VM
    assert.deepEqual(ok(f.host.heldFds()).map((h) => h.kind), ['kvm-vm', 'kvm-vcpu']);
    ok(f.host.close(f.vm));
    assert.deepEqual(ok(f.host.heldFds()), []);
    assert.deepEqual(f.host.inspect().vms, []);
  });

  // Probed on this host: KVM maps a read-only hva read-only, so the guest's store exits as MMIO.
  test('a guest write through a plain slot over a read-only host mapping traps like a read-only slot', () => {
    const f = fixture();
    const m = f.map(-1, 2n * MiB, PROT.READ);
    ok(f.set({ slot: 0, userspaceAddr: m }));
    assert.deepEqual(ok(f.host.probe(f.vm, req())), { kind: 'value', value: 0, wrote: false });
    assert.deepEqual(ok(f.host.probe(f.vm, req({ write: 1 }))), { kind: 'write_trapped', value: 0 });
  });

  // Probed on this host: the host fault beyond i_size SIGBUSes, the guest's access exits as MMIO.
  test('a plain slot over a gmem mapping reaching beyond EOF sees nothing there (SIGBUS in the host -> MMIO)', () => {
    const f = fixture();
    const m = f.map(f.gmem(MiB, 3n), 2n * MiB);
    ok(f.set({ slot: 0, userspaceAddr: m }));
    assert.equal(ok(f.host.probe(f.vm, req({ gpa: MiB - 1n }))).kind, 'value');
    assert.deepEqual(ok(f.host.probe(f.vm, req({ gpa: MiB }))), { kind: 'unmapped' });
  });
});
