// Runs one command sequence (differential-commands.ts) on a reference host and a candidate host
// and requires identical outcomes step by step: success or failure, errno and operation, probe
// outcomes, fstat fields but ino and dev, and at the end the kvm fds and gmem mappings held.
// fd numbers, addresses and inode numbers legitimately differ and are compared by symbol.
import assert from 'node:assert/strict';
import type { KResult } from '../../src/kvm/kernel-error.js';
import type { KvmHost } from '../../src/kvm/kvm-host.js';
import { MAP } from '../../src/kvm/uapi.js';
import type { Command, FdRef, UaddrRef } from './differential-commands.js';

/** An fd open in neither process (KERNEL.md §2.3 row 16 probes 9999). Closed symbols map here
 * too: the numbers themselves may have been reused by then, differently on each side. */
const NOT_OPEN = 9999;
const PAGE = 4096n;
/** vm.mmap_min_addr: nothing can ever be mapped below it. */
const MMAP_MIN_ADDR = 0x10000n;
const pageAlign = (n: bigint) => (n + PAGE - 1n) / PAGE * PAGE;

export interface Backend { host: KvmHost; dispose?: () => void }

/** The concrete fds and addresses one host's symbols stand for. */
export class Side {
  readonly vms: (number | undefined)[] = [];
  readonly gmems: (number | undefined)[] = [];
  readonly maps: ({ addr: bigint; length: bigint } | undefined)[] = [];
  readonly open = new Set<number>();
  readonly inoSym = new Map<bigint, number>();
  constructor(readonly backend: Backend) {}
  get host(): KvmHost { return this.backend.host; }
}

interface SlotModel { gpa: bigint; size: bigint; flags: number; uaddr: UaddrRef; gmem?: number }
/** A mapping's still-mapped ranges, relative to its start. */
interface MapModel { gmem?: number; live: [bigint, bigint][] }

/** What both hosts agree on so far: updated only after identical outcomes. */
export class Model {
  readonly vmOpen: boolean[] = [];
  readonly slots: Map<number, SlotModel>[] = [];
  readonly gmemOpen: boolean[] = [];
  readonly gmemFlags: bigint[] = [];
  readonly maps: (MapModel | undefined)[] = [];

  fd(side: Side, ref: FdRef | { minus1: true }): number {
    if ('minus1' in ref) return -1;
    if ('vm' in ref) return this.vmOpen[ref.vm] ? side.vms[ref.vm]! : NOT_OPEN;
    if ('gmem' in ref) return this.gmemOpen[ref.gmem] ? side.gmems[ref.gmem]! : NOT_OPEN;
    return NOT_OPEN;
  }

  /** Whether [offset, offset+length) lies inside one still-mapped part of mapping `map`. */
  mapped(map: number, offset: bigint, length: bigint): boolean {
    return this.maps[map]?.live.some(([a, b]) => a <= offset && offset + length <= b) ?? false;
  }

  /**
   * Whether both hosts must agree on this command. Where the guest or the host would touch an
   * address no mapping of ours covers, the native process may have anything there (V8 and koffi
   * mmap freely, and reuse munmapped holes), so such commands are not run at all.
   */
  comparable(cmd: Command): boolean {
    switch (cmd.op) {
      case 'read': case 'write': {
        const m = this.maps[cmd.map];
        const length = cmd.op === 'read' ? BigInt(cmd.length) : 1n;
        // The native adapter refuses host access once the gmem fd is closed (it cannot check
        // i_size any more); the kernel, and so the simulator, allow it while the mapping lives.
        if (m?.gmem !== undefined && !this.gmemOpen[m.gmem]) return false;
        return this.mapped(cmd.map, cmd.offset, length);
      }
      case 'munmap':
        if (!this.maps[cmd.map]) return false;
        // Invalid arguments fail before touching anything; valid ones must stay within our pages.
        return cmd.offset % PAGE !== 0n || cmd.length === 0n || this.mapped(cmd.map, cmd.offset, pageAlign(cmd.length));
      case 'setRegion': // a mapping symbol whose mmap failed (or never ran) has no address to point at
        return 'raw' in cmd.uaddr || this.maps[cmd.uaddr.map] !== undefined;
      case 'probe': return this.probeDeterministic(cmd.vm, cmd.gpa);
      default: return true;
    }
  }

  private probeDeterministic(vm: number, gpa: bigint): boolean {
    if (!this.vmOpen[vm]) return true;
    const s = [...this.slots[vm].values()].find((x) => x.gpa <= gpa && gpa < x.gpa + x.size);
    if (!s) return true;
    // On this host every guest access goes through userspace_addr, through a gmem slot as
    // through a plain one (KERNEL.md, first section), so the same rule holds for both.
    const rel = gpa - s.gpa;
    if ('raw' in s.uaddr) return s.uaddr.raw + rel < MMAP_MIN_ADDR;
    return this.mapped(s.uaddr.map, s.uaddr.offset + rel, 1n);
  }

  apply(cmd: Command, ok: boolean): void {
    switch (cmd.op) {
      case 'createVm': this.vmOpen.push(ok); this.slots.push(new Map()); break;
      case 'createGmem': this.gmemOpen.push(ok); this.gmemFlags.push(cmd.flags); break;
      case 'mmap':
        this.maps.push(ok ? { gmem: 'gmem' in cmd.target ? cmd.target.gmem : undefined, live: [[0n, pageAlign(cmd.length)]] } : undefined);
        break;
      default:
        if (ok) this.applySuccess(cmd);
    }
  }

  private applySuccess(cmd: Command): void {
    if (cmd.op === 'setRegion') {
      const slots = this.slots[cmd.vm], id = cmd.slot & 0xffff, old = slots.get(id);
      if (cmd.size === 0n) slots.delete(id);
      else if (old) Object.assign(old, { gpa: cmd.gpa, flags: cmd.flags }); // a move or flags change
      else slots.set(id, { gpa: cmd.gpa, size: cmd.size, flags: cmd.flags, uaddr: cmd.uaddr, gmem: 'gmem' in cmd.fd ? cmd.fd.gmem : undefined });
    } else if (cmd.op === 'close') {
      if ('vm' in cmd.target) { this.vmOpen[cmd.target.vm] = false; this.slots[cmd.target.vm].clear(); }
      if ('gmem' in cmd.target) this.gmemOpen[cmd.target.gmem] = false;
    } else if (cmd.op === 'munmap') {
      const m = this.maps[cmd.map]!, lo = cmd.offset, hi = cmd.offset + pageAlign(cmd.length);
      m.live = m.live.flatMap(([a, b]): [bigint, bigint][] =>
        b <= lo || a >= hi ? [[a, b]] : [...(a < lo ? [[a, lo] as [bigint, bigint]] : []), ...(b > hi ? [[hi, b] as [bigint, bigint]] : [])]);
    }
  }
}

export function exec(side: Side, model: Model, cmd: Command): KResult<unknown> {
  const h = side.host;
  switch (cmd.op) {
    case 'createVm': {
      const r = h.createVm(cmd.type);
      side.vms.push(r.ok ? r.value : undefined);
      if (r.ok) side.open.add(r.value);
      return r;
    }
    case 'createGmem': {
      const r = h.createGuestMemfd(model.fd(side, { vm: cmd.vm }), cmd.size, cmd.flags);
      side.gmems.push(r.ok ? r.value : undefined);
      if (r.ok) {
        side.open.add(r.value);
        const st = h.fstat(r.value);
        if (st.ok) side.inoSym.set(st.value.ino, side.gmems.length - 1);
      }
      return r;
    }
    case 'setRegion': {
      const uaddr = 'raw' in cmd.uaddr ? cmd.uaddr.raw : (side.maps[cmd.uaddr.map]?.addr ?? 0n) + cmd.uaddr.offset;
      return h.setUserMemoryRegion2(model.fd(side, { vm: cmd.vm }), {
        slot: cmd.slot, flags: cmd.flags, guestPhysAddr: cmd.gpa, memorySize: cmd.size, userspaceAddr: uaddr,
        guestMemfdOffset: cmd.offset, guestMemfd: model.fd(side, cmd.fd),
      });
    }
    case 'fallocate': return h.fallocate(model.fd(side, cmd.target), cmd.mode, cmd.offset, cmd.length);
    case 'mmap': {
      const anon = 'anon' in cmd.target;
      const r = h.mmap(anon ? -1 : model.fd(side, cmd.target as FdRef), cmd.length, cmd.prot,
        anon ? cmd.flags | MAP.ANONYMOUS : cmd.flags, cmd.offset);
      side.maps.push(r.ok ? { addr: r.value, length: pageAlign(cmd.length) } : undefined);
      return r;
    }
    case 'munmap': return h.munmap(side.maps[cmd.map]!.addr + cmd.offset, cmd.length);
    case 'close': {
      const fd = model.fd(side, cmd.target);
      const r = h.close(fd);
      if (r.ok) side.open.delete(fd);
      return r;
    }
    case 'fstat': return h.fstat(model.fd(side, cmd.target));
    case 'read': return h.readMemory(side.maps[cmd.map]!.addr + cmd.offset, cmd.length);
    case 'write': return h.writeMemory(side.maps[cmd.map]!.addr + cmd.offset, Buffer.from([cmd.byte]));
    case 'probe':
      return h.probe(model.fd(side, { vm: cmd.vm }), { gpa: cmd.gpa, write: cmd.write, codeGpa: cmd.codeGpa, codeSlot: cmd.codeSlot });
    case 'checkExtension':
      return h.checkExtension(cmd.cap, cmd.vm === undefined ? undefined : model.fd(side, { vm: cmd.vm }));
  }
}

/** The comparable part of a result: fds, addresses and inode numbers differ by nature. */
export function normalise(cmd: Command, r: KResult<unknown>): unknown {
  if (!r.ok) return { errno: r.error.errno, operation: r.error.operation };
  switch (cmd.op) {
    case 'createVm': case 'createGmem': return 'fd';
    case 'mmap': return 'address';
    case 'fstat': { const { ino: _i, dev: _d, ...rest } = r.value as Record<string, unknown>; return rest; }
    case 'read': return (r.value as Buffer).toString('hex');
    default: return r.value;
  }
}

/** kvm fds by kind (gmem by symbol), and per gmem symbol the bytes mapped and the file ranges covered. */
export function held(side: Side): unknown {
  const fds = side.host.heldFds();
  const maps = side.host.heldMappings();
  assert.ok(fds.ok && maps.ok);
  const sym = (ino: bigint) => `g${side.inoSym.get(ino) ?? '?'}`;
  const kinds = fds.value.filter((f) => f.kind !== 'other').map((f) => f.kind === 'kvm-gmem' ? sym(f.ino) : f.kind).sort();
  // The kernel merges adjacent VMAs with contiguous offsets and the simulator does not, so
  // mappings are compared by what they cover, not one by one.
  const byIno = new Map<string, { bytes: bigint; ranges: [bigint, bigint][] }>();
  for (const m of maps.value) {
    const e = byIno.get(sym(m.ino)) ?? { bytes: 0n, ranges: [] };
    e.bytes += m.end - m.start;
    e.ranges.push([m.offset, m.offset + m.end - m.start]);
    byIno.set(sym(m.ino), e);
  }
  const cover = (rs: [bigint, bigint][]) => rs.sort((a, b) => (a[0] < b[0] ? -1 : 1)).reduce<[bigint, bigint][]>((acc, [a, b]) => {
    const last = acc[acc.length - 1];
    if (last && a <= last[1]) last[1] = last[1] > b ? last[1] : b; else acc.push([a, b]);
    return acc;
  }, []).map(([a, b]) => `${a}-${b}`);
  return { kinds, mappings: [...byIno].sort().map(([k, v]) => [k, `${v.bytes}`, cover(v.ranges)]) };
}

export function teardown(side: Side, model: Model): void {
  for (const fd of side.open) side.host.close(fd);
  side.maps.forEach((m, i) => {
    if (!m) return;
    for (const [a, b] of model.maps[i]?.live ?? [[0n, m.length]]) side.host.munmap(m.addr + a, b - a);
  });
  side.backend.dispose?.();
}

const show = (cmd: Command) => JSON.stringify(cmd, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));

/** Run `seq` on fresh backends from both factories; throws at the first divergence. */
export function runDifferential(seq: Command[], reference: () => Backend, candidate: () => Backend): void {
  const ref = new Side(reference()), cand = new Side(candidate()), model = new Model();
  try {
    seq.forEach((cmd, i) => {
      if (!model.comparable(cmd)) return;
      const a = exec(ref, model, cmd), b = exec(cand, model, cmd);
      assert.deepEqual(normalise(cmd, b), normalise(cmd, a), `step ${i}: ${show(cmd)}`);
      model.apply(cmd, a.ok);
    });
    assert.deepEqual(held(cand), held(ref), 'held fds and mappings at the end');
  } finally {
    teardown(ref, model);
    teardown(cand, model);
  }
}
