// The guest probe as the native adapter runs it (src/kvm/native/guest-probe.ts), with the guest
// modelled by guestProbe: the same argument checks, one cached vCPU fd per VM fd (it pins the
// VM and shows in heldFds), a private code page, and a temporary code memslot that goes through
// the real memslot checks, so an occupied codeGpa or codeSlot fails exactly as it would there.
import { kfail, kok, type KResult } from '../kernel-error.js';
import type { MemoryRegion, ProbeOutcome, ProbeRequest } from '../kvm-host.js';
import { MAP, PROT } from '../uapi.js';
import type { AddressSpace } from './sim-address-space.js';
import { vmIoctlTarget, type FdTable } from './sim-fd-table.js';
import { guestProbe } from './sim-guest.js';
import { setUserMemoryRegion } from './sim-memslots.js';
import { sysMmap, sysMunmap } from './sim-mmap.js';
import { pinVm, unpinVm, type SimVm } from './sim-objects.js';
import { PAGE } from './sim-pages.js';

const FOUR_GIB = 1n << 32n;

interface VmProbeState {
  vm: SimVm;
  vcpuFd: number;
  code?: bigint;
}

export class SimProbe {
  private readonly cache = new Map<number, VmProbeState>();

  constructor(private readonly fds: FdTable, private readonly space: AddressSpace) {}

  /** Drop a VM fd's cached vCPU and code page (called before any fd is closed). */
  release(vmFd: number): void {
    const st = this.cache.get(vmFd);
    if (!st) return;
    this.cache.delete(vmFd);
    if (st.code !== undefined) sysMunmap(this.space, st.code, PAGE);
    // Unless someone closed the vCPU fd by its number already (close() unpinned the VM then).
    const vcpu = this.fds.get(st.vcpuFd);
    if (vcpu?.kind !== 'vcpu' || vcpu.vm !== st.vm) return;
    this.fds.remove(st.vcpuFd);
    unpinVm(st.vm);
  }

  probe(vmFd: number, req: ProbeRequest): KResult<ProbeOutcome> {
    const { gpa, codeGpa, write } = req;
    // The native program encodes gpa as a 32-bit moffs and runs at a 32-bit rip.
    if (gpa < 0n || gpa >= FOUR_GIB || codeGpa < 0n || codeGpa % PAGE !== 0n || codeGpa + PAGE > FOUR_GIB
      || (gpa >= codeGpa && gpa < codeGpa + PAGE)
      || (write !== undefined && !(Number.isInteger(write) && write >= 0 && write <= 0xff))) {
      return kfail('KVM_RUN', 'EINVAL');
    }
    const ready = this.prepare(vmFd);
    if (!ready.ok) return ready;
    const { vm, code } = ready.value;
    const slot = (r: Partial<MemoryRegion>) => setUserMemoryRegion(vm, {
      slot: req.codeSlot, flags: 0, guestPhysAddr: codeGpa, memorySize: PAGE, userspaceAddr: code!,
      guestMemfdOffset: 0n, guestMemfd: 0, ...r,
    }, (fd) => this.fds.get(fd));
    const e = slot({});
    if (e) return kfail('KVM_SET_USER_MEMORY_REGION2', e);
    const outcome = guestProbe(vm, this.space, gpa, write);
    const d = slot({ memorySize: 0n, userspaceAddr: 0n });
    return d ? kfail('KVM_SET_USER_MEMORY_REGION2', d) : kok(outcome);
  }

  private prepare(vmFd: number): KResult<VmProbeState> {
    let st = this.cache.get(vmFd);
    if (!st) {
      const vm = vmIoctlTarget(this.fds.get(vmFd), 'KVM_CREATE_VCPU');
      if (!vm.ok) return vm;
      const vcpuFd = this.fds.next();
      if (vcpuFd === undefined) return kfail('KVM_CREATE_VCPU', 'EMFILE');
      this.fds.install(vcpuFd, { kind: 'vcpu', vm: vm.value });
      pinVm(vm.value);
      st = { vm: vm.value, vcpuFd };
      this.cache.set(vmFd, st);
    }
    if (st.code === undefined) {
      const code = sysMmap(this.fds, this.space, PAGE, PROT.READ | PROT.WRITE, MAP.SHARED | MAP.ANONYMOUS, -1, 0n);
      if (!code.ok) return code;
      st.code = code.value;
    }
    return kok(st);
  }
}
