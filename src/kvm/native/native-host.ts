// The KvmHost port over the real kernel: libc calls through koffi on /dev/kvm. Every failure
// is kfail(operation, errno) with errno read right after the failing call. Host memory
// access goes through mappings this adapter made and tracks, because a real fault (SIGBUS
// beyond EOF or on a private gmem page, SIGSEGV on a read-only mapping) would kill the process.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { errnoName, kfail, kok, type KResult } from '../kernel-error.js';
import { whileInterrupted, whileInterruptedAsync } from './eintr.js';
import type {
  FileStat, HeldFd, HeldMapping, HostCapabilities, KvmHost, MemoryRegion, ProbeOutcome, ProbeRequest,
} from '../kvm-host.js';
import { CAP, GMEM_FLAG, KVM, MAP, O, PAGE_SIZE, PROT, SIZEOF } from '../uapi.js';
import { GuestProbe } from './guest-probe.js';
import { MappingTable } from './mapping-table.js';
import { classifyFdTarget, parseFdinfoIno, parseMaps } from '../procfs.js';
import {
  MAP_FAILED, StructBuf, decodeStat, encodeCreateGuestMemfd, encodeRegion2, errno, ioctlAsync, mmapAsync, nativeView, sys,
} from './libc.js';
import { guestMemfdSupport } from './gmem-support.js';

const roundUp = (n: bigint) => (n + PAGE_SIZE - 1n) / PAGE_SIZE * PAGE_SIZE;

export class NativeKvmHost implements KvmHost {
  readonly backend = 'native' as const;
  private readonly mappings = new MappingTable();
  // Indexed by fd (small, dense integers): a Map's set and delete cost more than the close.
  private readonly gmemFlags: (bigint | undefined)[] = [];
  private readonly probes: GuestProbe;
  private readonly regionBuf = new StructBuf(SIZEOF.kvm_userspace_memory_region2);
  private readonly gmemBuf = new StructBuf(SIZEOF.kvm_create_guest_memfd);
  private readonly statBuf = Buffer.alloc(SIZEOF.stat);

  /** kvmFd -1 gives a host whose file and memory primitives work without /dev/kvm. */
  constructor(readonly kvmFd = -1) {
    this.probes = new GuestProbe(kvmFd);
  }

  checkExtension(cap: number, vmFd?: number): KResult<number> {
    const r = sys.ioctlInt(vmFd ?? this.kvmFd, KVM.CHECK_EXTENSION, cap);
    return r < 0 ? kfail('KVM_CHECK_EXTENSION', errno()) : kok(r);
  }

  capabilities(): KResult<HostCapabilities> {
    const caps = { guestMemfd: CAP.GUEST_MEMFD, guestMemfdFlags: CAP.GUEST_MEMFD_FLAGS, vmTypes: CAP.VM_TYPES,
      nrMemslots: CAP.NR_MEMSLOTS, readonlyMem: CAP.READONLY_MEM, userMemory2: CAP.USER_MEMORY2 };
    const out: Record<string, number> = {};
    for (const [k, cap] of Object.entries(caps)) {
      const r = this.checkExtension(cap);
      if (!r.ok) return r;
      out[k] = r.value;
    }
    return kok(out as unknown as HostCapabilities);
  }

  createVm(type: number): KResult<number> {
    const r = whileInterrupted(() => sys.ioctlInt(this.kvmFd, KVM.CREATE_VM, type));
    return r.ret < 0 ? kfail('KVM_CREATE_VM', r.errno) : kok(r.ret);
  }

  async createVmAsync(type: number): Promise<KResult<number>> {
    const r = await whileInterruptedAsync(() => ioctlAsync(this.kvmFd, KVM.CREATE_VM, type));
    return r.ret < 0 ? kfail('KVM_CREATE_VM', r.errno) : kok(r.ret);
  }

  createGuestMemfd(vmFd: number, size: bigint, flags: bigint): KResult<number> {
    encodeCreateGuestMemfd(this.gmemBuf, size, flags);
    const fd = sys.ioctlInt(vmFd, KVM.CREATE_GUEST_MEMFD, this.gmemBuf.addr);
    if (fd < 0) return kfail('KVM_CREATE_GUEST_MEMFD', errno());
    this.gmemFlags[fd] = flags;
    return kok(fd);
  }

  setUserMemoryRegion2(vmFd: number, region: MemoryRegion): KResult<void> {
    encodeRegion2(this.regionBuf, region);
    const r = sys.ioctlInt(vmFd, KVM.SET_USER_MEMORY_REGION2, this.regionBuf.addr);
    return r < 0 ? kfail('KVM_SET_USER_MEMORY_REGION2', errno()) : kok(undefined);
  }

  async setUserMemoryRegion2Async(vmFd: number, region: MemoryRegion): Promise<KResult<void>> {
    // A buffer per call: the worker thread reads it while the next call is being encoded.
    const buf = encodeRegion2(new StructBuf(SIZEOF.kvm_userspace_memory_region2), region);
    const r = await ioctlAsync(vmFd, KVM.SET_USER_MEMORY_REGION2, buf);
    return r.ret < 0 ? kfail('KVM_SET_USER_MEMORY_REGION2', r.errno) : kok(undefined);
  }

  fstat(fd: number): KResult<FileStat> {
    if (sys.fstat(fd, this.statBuf) < 0) return kfail('fstat', errno());
    return kok(decodeStat(this.statBuf));
  }

  fallocate(fd: number, mode: number, offset: bigint, length: bigint): KResult<void> {
    const r = whileInterrupted(() => sys.fallocate(fd, mode, offset, length));
    return r.ret < 0 ? kfail('fallocate', r.errno) : kok(undefined);
  }

  mmap(fd: number, length: bigint, prot: number, flags: number, offset: bigint): KResult<bigint> {
    const addr = sys.mmap(length, prot, flags, fd, offset);
    if (addr === MAP_FAILED) return kfail('mmap', errno());
    return this.mapped(addr, fd, length, prot, flags, offset);
  }

  async mmapAsync(fd: number, length: bigint, prot: number, flags: number, offset: bigint): Promise<KResult<bigint>> {
    const r = await mmapAsync(length, prot, flags, fd, offset);
    // Tracked once it has landed, on the event loop, as the synchronous form does: the
    // caller holds the fd open until then.
    return r.addr === MAP_FAILED ? kfail('mmap', r.errno) : this.mapped(r.addr, fd, length, prot, flags, offset);
  }

  /** A mapping the kernel made: tracked, so host access through it can be checked. */
  private mapped(addr: bigint, fd: number, length: bigint, prot: number, flags: number, offset: bigint): KResult<bigint> {
    const anonymous = (flags & MAP.ANONYMOUS) !== 0;
    const st = anonymous ? undefined : this.fstat(fd);
    const gmem = this.gmemFlags[fd];
    this.mappings.add({
      start: addr, end: addr + roundUp(length), fd: anonymous ? -1 : fd, anonymous, offset, prot,
      ino: st?.ok ? st.value.ino : -1n,
      faultable: gmem === undefined || (gmem & GMEM_FLAG.INIT_SHARED) !== 0n,
    });
    return kok(addr);
  }

  munmap(addr: bigint, length: bigint): KResult<void> {
    if (sys.munmap(addr, length) < 0) return kfail('munmap', errno());
    this.mappings.cut(addr, addr + roundUp(length));
    return kok(undefined);
  }

  close(fd: number): KResult<void> {
    this.probes.release(fd); // a VM's cached vCPU must not outlive its fd number
    if (sys.close(fd) < 0) return kfail('close', errno());
    this.gmemFlags[fd] = undefined;
    // The mapping stays valid, but its i_size can no longer be checked through this fd.
    this.mappings.forgetFd(fd);
    return kok(undefined);
  }

  readMemory(addr: bigint, length: number): KResult<Buffer> {
    if (!this.accessible(addr, length, PROT.READ)) return kfail('memory', 'EFAULT');
    const out = Buffer.alloc(length);
    if (length > 0) nativeView(addr, length).copy(out);
    return kok(out);
  }

  writeMemory(addr: bigint, data: Buffer): KResult<void> {
    if (!this.accessible(addr, data.length, PROT.WRITE)) return kfail('memory', 'EFAULT');
    if (data.length > 0) data.copy(nativeView(addr, data.length));
    return kok(undefined);
  }

  probe(vmFd: number, request: ProbeRequest): KResult<ProbeOutcome> {
    return this.probes.probe(vmFd, request);
  }

  heldFds(): KResult<HeldFd[]> {
    let names: string[];
    try {
      names = readdirSync('/proc/self/fd');
    } catch (e) {
      return kfail('open', (e as NodeJS.ErrnoException).code ?? 'EIO');
    }
    const held: HeldFd[] = [];
    for (const name of names) {
      const fd = Number(name);
      let target: string, info: string;
      try {
        target = readlinkSync(`/proc/self/fd/${fd}`);
        info = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
      } catch {
        continue; // gone meanwhile, e.g. the directory handle readdir itself used
      }
      const ino = parseFdinfoIno(info);
      held.push({ fd, kind: fdKind(target), ino: ino !== null ? BigInt(ino) : this.inoOf(fd) });
    }
    return kok(held.sort((a, b) => a.fd - b.fd));
  }

  heldMappings(): KResult<HeldMapping[]> {
    try {
      return kok(parseGmemMappings(readFileSync('/proc/self/maps', 'utf8')));
    } catch (e) {
      return kfail('open', (e as NodeJS.ErrnoException).code ?? 'EIO');
    }
  }

  exportGmems(fds: number[]): KResult<number[]> {
    for (const fd of fds) if (!isGmemFd(fd)) return kfail('fstat', 'EINVAL');
    return kok([...fds]);
  }

  importGmems(inherited: number[]): KResult<number[]> {
    for (const fd of inherited) if (!isGmemFd(fd)) return kfail('fstat', 'EBADF');
    // gmem fds are not O_CLOEXEC, so the old process's own numbers came along besides the
    // slots it placed them in: a successor holds nothing else yet, so close those copies.
    const held = this.heldFds(), placed = new Set(inherited);
    if (held.ok) for (const h of held.value) if (h.kind === 'kvm-gmem' && !placed.has(h.fd)) this.close(h.fd);
    return kok([...inherited]);
  }

  private inoOf(fd: number): bigint {
    const st = this.fstat(fd);
    return st.ok ? st.value.ino : -1n;
  }

  /** True only if [addr, addr+length) lies in one tracked mapping and touching it cannot fault. */
  private accessible(addr: bigint, length: number, need: number): boolean {
    if (!Number.isSafeInteger(length) || length < 0) return false;
    const end = addr + BigInt(length);
    const m = this.mappings.covering(addr, end);
    if (!m || (m.prot & need) === 0) return false;
    if (m.anonymous || length === 0) return true;
    if (!m.faultable || m.fd < 0) return false;
    const st = this.fstat(m.fd);
    if (!st.ok || st.value.ino !== m.ino) return false;
    return m.offset + (end - m.start) <= st.value.size;
  }
}

/** The fd is a guest_memfd of this process (KERNEL.md §2.1: its link reads anon_inode:[kvm-gmem]). */
function isGmemFd(fd: number): boolean {
  try { return fdKind(readlinkSync(`/proc/self/fd/${fd}`)) === 'kvm-gmem'; } catch { return false; }
}

function fdKind(target: string): HeldFd['kind'] {
  const kind = classifyFdTarget(target);
  return kind === 'kvm-vm' || kind === 'kvm-gmem' || kind === 'kvm-vcpu' ? kind : 'other';
}

/** The guest_memfd mappings of a /proc/PID/maps text. */
export function parseGmemMappings(maps: string): HeldMapping[] {
  return parseMaps(maps).filter((m) => m.path === 'anon_inode:[kvm-gmem]')
    .map((m) => ({ start: m.start, end: m.end, offset: m.offset, ino: BigInt(m.ino) }));
}

export type OpenResult = { ok: true; host: NativeKvmHost } | { ok: false; reason: string; noGuestMemfd: boolean };

/**
 * Opens /dev/kvm (O_RDWR|O_CLOEXEC) without asking for guest_memfd: VMs, plain memslots and
 * the probe vCPU work on any KVM. Only the tests of those use it; gmemd needs openNativeHost.
 */
export function openKvmDevice(path = '/dev/kvm'): OpenResult {
  const fd = sys.open(path, O.RDWR | O.CLOEXEC);
  if (fd < 0) return { ok: false, reason: `open ${path}: ${errnoName(errno())}`, noGuestMemfd: false };
  const api = sys.ioctlInt(fd, KVM.GET_API_VERSION, 0);
  if (api !== 12) {
    const why = api < 0 ? `KVM_GET_API_VERSION on ${path}: ${errnoName(errno())}` : `${path}: KVM API version ${api}, not 12`;
    sys.close(fd);
    return { ok: false, reason: why, noGuestMemfd: false };
  }
  return { ok: true, host: new NativeKvmHost(fd) };
}

/**
 * Opens /dev/kvm and requires guest_memfd. `noGuestMemfd`: the kernel proved it has none
 * (gmem-support.ts), so this host serves the simulator and its gmem tests are skipped.
 */
export function openNativeHost(path = '/dev/kvm'): OpenResult {
  const opened = openKvmDevice(path);
  if (!opened.ok) return opened;
  const gmem = guestMemfdSupport(opened.host.kvmFd, path);
  if (gmem.present) return opened;
  sys.close(opened.host.kvmFd);
  return { ok: false, reason: gmem.reason, noGuestMemfd: gmem.confirmed };
}
