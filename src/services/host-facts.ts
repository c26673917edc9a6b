// What the host reports for the limits that default from it: its memory (os.totalmem(), the
// same figure as /proc/meminfo MemTotal) and KVM_CAP_NR_MEMSLOTS (0 or unreadable: the
// kernel's usual 32764, domain/slots.ts).
import { totalmem } from 'node:os';
import type { HostFacts } from '../domain/limits.js';
import type { KvmHost } from '../kvm/kvm-host.js';
import { NR_MEMSLOTS } from '../domain/slots.js';

export function hostFacts(kvm: KvmHost): HostFacts {
  const caps = kvm.capabilities();
  return { totalMemBytes: totalmem(), nrMemslots: caps.ok && caps.value.nrMemslots > 0 ? caps.value.nrMemslots : NR_MEMSLOTS };
}
