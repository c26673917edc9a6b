// Whether a /dev/kvm fd can make guest_memfds: the native backend needs them, and the tests
// that need them are skipped only where the kernel proves it has none (test/support/kvm.ts).
import { ERRNO, errnoName } from '../kernel-error.js';
import { CAP, KVM, SIZEOF } from '../uapi.js';
import { whileInterrupted } from './eintr.js';
import { StructBuf, encodeCreateGuestMemfd, errno, sys } from './libc.js';

/**
 * `confirmed`: two kernel answers agree that guest_memfd is not built in. Anything less
 * (an errno from the capability check, a VM that cannot be created, another errno from the
 * create) says only that it cannot be used now, which a test must not treat as absence.
 */
export type GmemSupport = { present: true } | { present: false; confirmed: boolean; reason: string };

export function guestMemfdSupport(kvmFd: number, path: string): GmemSupport {
  const cap = sys.ioctlInt(kvmFd, KVM.CHECK_EXTENSION, CAP.GUEST_MEMFD);
  if (cap < 0) return { present: false, confirmed: false, reason: `KVM_CHECK_EXTENSION(GUEST_MEMFD) on ${path}: ${errnoName(errno())}` };
  if (cap > 0) return { present: true };
  // On /dev/kvm (no VM) 6.18 answers 1 whenever it was built with CONFIG_KVM_GUEST_MEMFD; a
  // PVM build without it was seen on 2026-12-04 (6.18.44-fc-v1272, README "Tests"). A kernel
  // without the config has no such VM ioctl at all, so a valid create gets ENOTTY; one that
  // has it and refuses gets EINVAL or another errno (KERNEL.md §2.1).
  const said = `${path} answered 0 to KVM_CHECK_EXTENSION(KVM_CAP_GUEST_MEMFD)`;
  const vm = whileInterrupted(() => sys.ioctlInt(kvmFd, KVM.CREATE_VM, 0));
  if (vm.ret < 0) return { present: false, confirmed: false, reason: `${said}; KVM_CREATE_VM to confirm it: ${errnoName(vm.errno)}` };
  try {
    const args = new StructBuf(SIZEOF.kvm_create_guest_memfd);
    encodeCreateGuestMemfd(args, 2n << 20n, 0n);
    const gf = sys.ioctlInt(vm.ret, KVM.CREATE_GUEST_MEMFD, args.addr);
    const e = gf < 0 ? errno() : 0;
    if (gf >= 0) sys.close(gf);
    if (e !== ERRNO.ENOTTY) return { present: false, confirmed: false, reason: `${said}; KVM_CREATE_GUEST_MEMFD on a VM then gave ${gf >= 0 ? 'an fd' : errnoName(e)}` };
    return {
      present: false, confirmed: true,
      reason: `${path} has no guest_memfd: it answered 0 to KVM_CHECK_EXTENSION(KVM_CAP_GUEST_MEMFD) and ENOTTY to KVM_CREATE_GUEST_MEMFD on a VM; this kernel was built without CONFIG_KVM_GUEST_MEMFD`,
    };
  } finally {
    sys.close(vm.ret);
  }
}
