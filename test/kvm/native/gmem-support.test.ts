// Whether this /dev/kvm has guest_memfd, asked of the kernel directly, and what gmemd makes of
// the answer: the native backend where it has, and where it has not, a refusal that says so,
// the simulator under GMEMD_BACKEND=auto, and the proof that lets the gmem tests skip. It runs
// on every host with /dev/kvm, whichever answer the kernel gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ERRNO } from '../../../src/kvm/kernel-error.js';
import { StructBuf, encodeCreateGuestMemfd, errno, sys } from '../../../src/kvm/native/libc.js';
import { NativeKvmHost, openKvmDevice, openNativeHost } from '../../../src/kvm/native/native-host.js';
import { selectBackend } from '../../../src/kvm/select-backend.js';
import { CAP, KVM, SIZEOF } from '../../../src/kvm/uapi.js';
import { kernelLacksGuestMemfd, needsKvm } from '../../support/kvm.js';
import { MiB, ok } from '../native-fixture.js';

test('guest_memfd on this /dev/kvm: the kernel\'s answers, and what gmemd does with them', needsKvm(), () => {
  const opened = openKvmDevice();
  if (!opened.ok) assert.fail(opened.reason);
  const kvm = opened.host;
  const vm = ok(kvm.createVm(0));
  try {
    const onDevice = ok(kvm.checkExtension(CAP.GUEST_MEMFD));
    const onVm = ok(kvm.checkExtension(CAP.GUEST_MEMFD, vm));
    assert.equal(onVm, onDevice, 'a type-0 VM answers as /dev/kvm does');
    // Every flag set 6.18 knows (MMAP, INIT_SHARED), through the raw ioctl: the same answer.
    const args = new StructBuf(SIZEOF.kvm_create_guest_memfd);
    const creates = [0n, 1n, 2n, 3n].map((flags) => {
      const fd = sys.ioctlPtr(vm, KVM.CREATE_GUEST_MEMFD, encodeCreateGuestMemfd(args, 2n * MiB, flags));
      const e = fd < 0 ? errno() : 0;
      if (fd >= 0) sys.close(fd);
      return { flags, made: fd >= 0, errno: e };
    });
    const native = openNativeHost();
    const auto = selectBackend('auto');
    if (onDevice === 1) {
      // INIT_SHARED alone is left out: KERNEL.md has no probed answer for its create.
      assert.deepEqual(creates.filter((c) => c.flags !== 2n).map((c) => c.made), [true, true, true], 'flags 0, 1, 3');
      assert.equal(native.ok, true);
      assert.equal(kernelLacksGuestMemfd(), null);
      assert.equal(auto.host.backend, 'native');
      if (native.ok) native.host.close(native.host.kvmFd);
    } else {
      assert.equal(onDevice, 0);
      assert.deepEqual(creates.map((c) => c.errno), [ERRNO.ENOTTY, ERRNO.ENOTTY, ERRNO.ENOTTY, ERRNO.ENOTTY],
        'no guest_memfd built in: the VM has no such ioctl');
      assert.equal(native.ok, false);
      if (!native.ok) {
        assert.equal(native.noGuestMemfd, true);
        assert.match(native.reason, /^\/dev\/kvm has no guest_memfd: it answered 0 to KVM_CHECK_EXTENSION\(KVM_CAP_GUEST_MEMFD\) and ENOTTY to KVM_CREATE_GUEST_MEMFD on a VM; this kernel was built without CONFIG_KVM_GUEST_MEMFD$/);
        assert.equal(kernelLacksGuestMemfd(), native.reason);
        assert.equal(auto.note, `simulated backend: /dev/kvm is unusable (${native.reason})`);
        assert.throws(() => selectBackend('native'), { message: `GMEMD_BACKEND=native but /dev/kvm is unusable: ${native.reason}` });
      }
      assert.deepEqual([auto.host.backend, auto.fellBack], ['simulated', true]);
    }
    if (auto.host instanceof NativeKvmHost) auto.host.close(auto.host.kvmFd);
  } finally {
    ok(kvm.close(vm));
    ok(kvm.close(kvm.kvmFd));
  }
});
