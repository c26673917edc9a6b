// What a guest really sees at a guest-physical address, found by running it: the TypeScript
// twin of ../shared/kernel-probes/probe-protected-mode.c. The vCPU is put straight into
// flat 32-bit protected mode with KVM_SET_SREGS (no GDT in guest memory), so one `mov al,
// [moffs32]` reaches any address below 4 GiB. Each VM gets ONE cached vCPU (a vCPU cannot be
// destroyed before its VM, so one per probe would pile up), its kvm_run mapping and a code page.
import { ERRNO, errnoName, kfail, kok, type KResult } from '../kernel-error.js';
import type { MemoryRegion, ProbeOutcome, ProbeRequest } from '../kvm-host.js';
import { KVM, KVM_EXIT, MAP, PROT, SIZEOF } from '../uapi.js';
import { MAP_FAILED, REGS, RUN, SEGMENT, SREGS, StructBuf, encodeRegion2, errno, nativeView, sys } from './libc.js';

const PAGE = 4096;
const PORT = 0x10;
const IO_OUT = 1;
/** Enough for write-exit, read-exit, out-exit and hlt with EINTR retries to spare. */
const MAX_RUNS = 16;
const FOUR_GIB = 1n << 32n;

interface VmProbeState {
  vcpuFd: number;
  run?: { addr: bigint; size: number; view: Buffer };
  code?: { addr: bigint; view: Buffer };
}

export class GuestProbe {
  private readonly vms = new Map<number, VmProbeState>();
  private readonly sregs = Buffer.alloc(SIZEOF.kvm_sregs);
  private readonly regs = Buffer.alloc(SIZEOF.kvm_regs);
  private readonly region = new StructBuf(SIZEOF.kvm_userspace_memory_region2);

  constructor(private readonly kvmFd: number) {}

  /** Drop a VM's cached vCPU, kvm_run and code page; called before its VM fd is closed. */
  release(vmFd: number): void {
    const st = this.vms.get(vmFd);
    if (!st) return;
    this.vms.delete(vmFd);
    // Views die with the entry above, before the memory under them goes away.
    if (st.run) sys.munmap(st.run.addr, BigInt(st.run.size));
    if (st.code) sys.munmap(st.code.addr, BigInt(PAGE));
    sys.close(st.vcpuFd);
  }

  probe(vmFd: number, req: ProbeRequest): KResult<ProbeOutcome> {
    const { gpa, codeGpa, write } = req;
    // The program encodes gpa as a 32-bit moffs and runs at a 32-bit rip.
    if (gpa < 0n || gpa >= FOUR_GIB || codeGpa < 0n || codeGpa % BigInt(PAGE) !== 0n
      || codeGpa + BigInt(PAGE) > FOUR_GIB || (gpa >= codeGpa && gpa < codeGpa + BigInt(PAGE))
      || (write !== undefined && !(Number.isInteger(write) && write >= 0 && write <= 0xff))) {
      return kfail('KVM_RUN', 'EINVAL');
    }
    const ready = this.prepare(vmFd);
    if (!ready.ok) return ready;
    const st = ready.value;
    st.code!.view.fill(0);
    encodeProbeProgram(st.code!.view, Number(gpa), write);
    const slot = (r: Partial<MemoryRegion>) => sys.ioctlPtr(vmFd, KVM.SET_USER_MEMORY_REGION2, encodeRegion2(
      this.region, { slot: req.codeSlot, flags: 0, guestPhysAddr: codeGpa, memorySize: BigInt(PAGE),
        userspaceAddr: st.code!.addr, guestMemfdOffset: 0n, guestMemfd: 0, ...r }));
    if (slot({}) < 0) return kfail('KVM_SET_USER_MEMORY_REGION2', errno());
    let result: KResult<ProbeOutcome>;
    try {
      result = this.run(st, req);
    } finally {
      // Deleting is what gives codeSlot/codeGpa back to the caller, whatever happened above.
      if (slot({ memorySize: 0n, userspaceAddr: 0n }) < 0) result = kfail('KVM_SET_USER_MEMORY_REGION2', errno());
    }
    return result;
  }

  private prepare(vmFd: number): KResult<VmProbeState> {
    let st = this.vms.get(vmFd);
    if (!st) {
      const vcpuFd = sys.ioctlInt(vmFd, KVM.CREATE_VCPU, 0);
      if (vcpuFd < 0) return kfail('KVM_CREATE_VCPU', errno());
      st = { vcpuFd };
      this.vms.set(vmFd, st); // cached at once: vCPU id 0 can never be created again in this VM
    }
    if (!st.run) {
      const size = sys.ioctlInt(this.kvmFd, KVM.GET_VCPU_MMAP_SIZE, 0);
      if (size < 0) return kfail('KVM_GET_VCPU_MMAP_SIZE', errno());
      const addr = sys.mmap(BigInt(size), PROT.READ | PROT.WRITE, MAP.SHARED, st.vcpuFd, 0n);
      if (addr === MAP_FAILED) return kfail('mmap', errno());
      st.run = { addr, size, view: nativeView(addr, size) };
    }
    if (!st.code) {
      const addr = sys.mmap(BigInt(PAGE), PROT.READ | PROT.WRITE, MAP.SHARED | MAP.ANONYMOUS, -1, 0n);
      if (addr === MAP_FAILED) return kfail('mmap', errno());
      st.code = { addr, view: nativeView(addr, PAGE) };
    }
    return kok(st);
  }

  private run(st: VmProbeState, req: ProbeRequest): KResult<ProbeOutcome> {
    const fd = st.vcpuFd;
    const run = st.run!.view;
    if (sys.ioctlPtr(fd, KVM.GET_SREGS, this.sregs) < 0) return kfail('KVM_GET_SREGS', errno());
    flatSegment(this.sregs, SREGS.cs, true);
    for (const s of [SREGS.ds, SREGS.es, SREGS.fs, SREGS.gs, SREGS.ss]) flatSegment(this.sregs, s, false);
    const cr0 = this.sregs.readBigUInt64LE(SREGS.cr0);
    this.sregs.writeBigUInt64LE((cr0 | 1n) & ~(1n << 31n), SREGS.cr0); // PE on, paging off
    this.sregs.writeBigUInt64LE(0n, SREGS.efer);
    if (sys.ioctlPtr(fd, KVM.SET_SREGS, this.sregs) < 0) return kfail('KVM_SET_SREGS', errno());
    this.regs.fill(0);
    this.regs.writeBigUInt64LE(req.codeGpa, REGS.rip);
    this.regs.writeBigUInt64LE(2n, REGS.rflags);
    if (sys.ioctlPtr(fd, KVM.SET_REGS, this.regs) < 0) return kfail('KVM_SET_REGS', errno());

    let value: number | undefined;
    let trapped = false, unmapped = false;
    // After an IO or MMIO exit the instruction completes only on the next KVM_RUN.
    let pending = false;
    for (let i = 0; i < MAX_RUNS; i++) {
      if (sys.ioctlInt(fd, KVM.RUN, 0) < 0) {
        const e = errno();
        if (e === ERRNO.EINTR) continue; // a signal reached the thread; re-entering completes the exit
        return kok({ kind: 'fault', errno: errnoName(e) });
      }
      pending = false;
      const reason = run.readUInt32LE(RUN.exit_reason);
      if (reason === KVM_EXIT.HLT) {
        if (unmapped) return kok({ kind: 'unmapped' });
        if (value === undefined) break;
        if (req.write !== undefined && trapped) return kok({ kind: 'write_trapped', value });
        return kok({ kind: 'value', value, wrote: req.write !== undefined });
      }
      if (reason === KVM_EXIT.IO && run[RUN.io_direction] === IO_OUT && run.readUInt16LE(RUN.io_port) === PORT
        && run[RUN.io_size] === 1) {
        const at = Number(run.readBigUInt64LE(RUN.io_data_offset));
        if (at >= run.length) break;
        value = run[at];
        pending = true;
        continue;
      }
      if (reason === KVM_EXIT.MMIO && run.readBigUInt64LE(RUN.mmio_phys_addr) === req.gpa) {
        if (run[RUN.mmio_is_write]) trapped = true;
        else {
          unmapped = true;
          run.fill(0, RUN.mmio_data, RUN.mmio_data + 8); // the guest's `mov al` receives 0
        }
        pending = true;
        continue;
      }
      break;
    }
    // An exit this program cannot produce (shutdown, internal error, ...) or too many runs.
    if (pending) this.settle(st);
    return kfail('KVM_RUN', 'EIO');
  }

  /** Completes a pending IO/MMIO exit without running the guest on (api.rst: immediate_exit). */
  private settle(st: VmProbeState): void {
    const run = st.run!.view;
    run[RUN.immediate_exit] = 1;
    sys.ioctlInt(st.vcpuFd, KVM.RUN, 0); // EINTR expected
    run[RUN.immediate_exit] = 0;
  }
}

/** [mov byte [gpa], imm8] ; mov al, [gpa] ; out PORT, al ; hlt — 32-bit operand/address size. */
export function encodeProbeProgram(code: Buffer, gpa: number, write: number | undefined): number {
  let n = 0;
  if (write !== undefined) {
    code[n++] = 0xc6; code[n++] = 0x05; code.writeUInt32LE(gpa, n); n += 4; code[n++] = write;
  }
  code[n++] = 0xa0; code.writeUInt32LE(gpa, n); n += 4;
  code[n++] = 0xe6; code[n++] = PORT;
  code[n++] = 0xf4;
  return n;
}

/** Base 0, limit 4 GiB, 32-bit, present: selector 0x08 code (type 0xb) or 0x10 data (type 3). */
function flatSegment(buf: Buffer, at: number, code: boolean): void {
  buf.writeBigUInt64LE(0n, at + SEGMENT.base);
  buf.writeUInt32LE(0xffffffff, at + SEGMENT.limit);
  buf.writeUInt16LE(code ? 0x8 : 0x10, at + SEGMENT.selector);
  buf[at + SEGMENT.type] = code ? 0xb : 0x3;
  buf[at + SEGMENT.present] = 1;
  buf[at + SEGMENT.dpl] = 0;
  buf[at + SEGMENT.db] = 1;
  buf[at + SEGMENT.s] = 1;
  buf[at + SEGMENT.l] = 0;
  buf[at + SEGMENT.g] = 1;
  buf[at + SEGMENT.avl] = 0;
  buf[at + SEGMENT.unusable] = 0;
}
