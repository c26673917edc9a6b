// Quota rules: pure verdicts over what the ledger holds now (plus what in-flight commands
// have reserved, services/pending-quota.ts) against the limits in force (limits.ts). Each
// refusal is a 409 with a closed code and says the limit, what is used and what was asked.
import { err, ok, type Result } from './result.js';
import { maxInodeSize, type Limits } from './limits.js';

export interface InodeUsage { inodes: number; bytes: number }

export function checkVmQuota(activeVms: number, l: Pick<Limits, 'maxVms'>): Result<void> {
  if (activeVms >= l.maxVms) {
    return err('quota.vms', `${activeVms} VMs are active; the limit is ${l.maxVms} (GMEMD_MAX_VMS)`, { limit: l.maxVms, used: activeVms });
  }
  return ok(undefined);
}

/** A new inode of `size` bytes: one more live inode, and its bytes inside the memory budget. */
export function checkInodeQuota(used: InodeUsage, size: number, l: Pick<Limits, 'maxInodes' | 'memoryBudgetBytes'>): Result<void> {
  if (used.inodes >= l.maxInodes) {
    return err('quota.inodes', `${used.inodes} inodes are live; the limit is ${l.maxInodes} (GMEMD_MAX_INODES)`, { limit: l.maxInodes, used: used.inodes });
  }
  const budget = l.memoryBudgetBytes;
  // An inode larger than the whole budget can never fit, whatever is released first.
  if (size > maxInodeSize(l) || used.bytes + size > budget) {
    const free = Math.max(0, budget - used.bytes);
    return err('quota.memory', `an inode of ${size} bytes does not fit in the memory budget: ${used.bytes} of ${budget} bytes are live, ${free} free (GMEMD_MEMORY_BUDGET_BYTES)`,
      { limit: budget, used: used.bytes, requested: size, free });
  }
  return ok(undefined);
}

/** `adding` more bindings on a VM that has `vmBindings` (a migration brings all of its source's). */
export function checkBindingQuota(vmBindings: number, l: Pick<Limits, 'maxBindingsPerVm'>, adding = 1): Result<void> {
  if (vmBindings + adding > l.maxBindingsPerVm) {
    return err('quota.bindings', `the VM has ${vmBindings} bindings and ${adding} more would pass the limit of ${l.maxBindingsPerVm} per VM (GMEMD_MAX_BINDINGS_PER_VM)`,
      { limit: l.maxBindingsPerVm, used: vmBindings, requested: adding });
  }
  return ok(undefined);
}
