// Gating for tests that need the real kernel, at two levels.
// - needsKvm(): /dev/kvm itself (VMs, plain memslots, the probe vCPU). On a host with /dev/kvm
//   these always run; CI sets GMEMD_REQUIRE_KVM=1 there, and then a missing /dev/kvm makes
//   them run and fail instead of skipping. Only without /dev/kvm (and that variable) do they
//   skip, and the skip says why.
// - needsGuestMemfd(): guest_memfd too, which gmemd's native backend is built on. Not every
//   6.18 build has it (README "Tests"). These skip only where the kernel proves it has none:
//   two answers (the capability and the create ioctl: openNativeHost's noGuestMemfd, from
//   src/kvm/native/gmem-support.ts), and the skip quotes them. Any other failure to get a
//   guest_memfd makes them run and fail, and GMEMD_REQUIRE_GMEM=1 does so even there.
import { existsSync } from 'node:fs';
import { openNativeHost } from '../../src/kvm/native/native-host.js';

export const kvmPresent = existsSync('/dev/kvm');
export const kvmRequired = process.env.GMEMD_REQUIRE_KVM === '1';
export const gmemRequired = process.env.GMEMD_REQUIRE_GMEM === '1';

/** Options for node:test's test()/describe(): run on KVM hosts or when required, else skip. */
export function needsKvm(): { skip?: string } {
  if (kvmPresent || kvmRequired) return {};
  return { skip: 'needs /dev/kvm, absent on this host (GMEMD_REQUIRE_KVM=1 makes this a failure)' };
}

let proof: string | null | undefined;
/** The kernel's proof that it has no guest_memfd, or null (it has, or did not prove otherwise). */
export function kernelLacksGuestMemfd(): string | null {
  if (proof !== undefined) return proof;
  proof = null;
  if (!kvmPresent) return proof;
  const opened = openNativeHost();
  if (opened.ok) opened.host.close(opened.host.kvmFd);
  else if (opened.noGuestMemfd) proof = opened.reason;
  return proof;
}

/** The same for tests that need guest_memfd on /dev/kvm: the native backend's. */
export function needsGuestMemfd(): { skip?: string } {
  const kvm = needsKvm();
  if (kvm.skip || gmemRequired) return kvm;
  const lacks = kernelLacksGuestMemfd();
  return lacks ? { skip: `needs guest_memfd: ${lacks} (GMEMD_REQUIRE_GMEM=1 makes this a failure)` } : {};
}
