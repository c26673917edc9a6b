// Gating for tests that need the real kernel. On a host with /dev/kvm they always run; CI
// sets GMEMD_REQUIRE_KVM=1 there, and then a missing /dev/kvm makes them run and fail
// instead of skipping. Only on a host without /dev/kvm (and without that variable) do
// they skip, and the skip says why.
import { existsSync } from 'node:fs';

export const kvmPresent = existsSync('/dev/kvm');
export const kvmRequired = process.env.GMEMD_REQUIRE_KVM === '1';

/** Options for node:test's test()/describe(): run on KVM hosts or when required, else skip. */
export function needsKvm(): { skip?: string } {
  if (kvmPresent || kvmRequired) return {};
  return { skip: 'needs /dev/kvm, absent on this host (GMEMD_REQUIRE_KVM=1 makes this a failure)' };
}
