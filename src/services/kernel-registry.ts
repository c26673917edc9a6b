// What gmemd holds in the kernel right now, keyed by ledger id. Not persisted: kernel
// objects die with the process, and start-up reconcile compares this (empty, after a
// crash) with the ledger.
import type { MemoryRegion } from '../kvm/kvm-host.js';
import { pointsInto, type Mapping } from '../domain/userspace-addr.js';

export interface GmemHandle {
  fd: number;
  /** The ledger VM whose kernel VM created the gmem; only it can bind gmem memslots. Null after a handover. */
  kernelOriginVmId: string | null;
  size: number;
  /** gmemd's MAP_SHARED mapping of a shareable inode: the memory every view points at. */
  mapping: { addr: bigint; length: bigint } | null;
}

// Changed only through its methods: readers get read-only views of the maps (the type
// system refuses a set or delete through them).
export class KernelRegistry {
  readonly #vms = new Map<string, number>();
  readonly #gmems = new Map<string, GmemHandle>();
  /**
   * The memslots gmemd itself created and has not deleted, per VM id then slot id, with the
   * exact region it issued. The kernel has no memslot listing: this is what lets reconcile
   * find memslots the kernel has and the ledger lacks (each checked against the kernel).
   */
  readonly #memslots = new Map<string, Map<number, MemoryRegion>>();

  get vms(): ReadonlyMap<string, number> { return this.#vms; }
  get gmems(): ReadonlyMap<string, GmemHandle> { return this.#gmems; }
  get memslots(): ReadonlyMap<string, ReadonlyMap<number, MemoryRegion>> { return this.#memslots; }

  vmFd(vmId: string): number | undefined { return this.#vms.get(vmId); }
  gmem(inodeId: string): GmemHandle | undefined { return this.#gmems.get(inodeId); }

  setGmem(inodeId: string, handle: GmemHandle): void { this.#gmems.set(inodeId, handle); }
  forgetGmem(inodeId: string): void { this.#gmems.delete(inodeId); }

  /** The memslots gmemd issued whose userspace range overlaps `mapping`, on any VM. */
  memslotsInto(mapping: Mapping): { vmId: string; slot: number }[] {
    const out: { vmId: string; slot: number }[] = [];
    for (const [vmId, slots] of this.#memslots) {
      for (const r of slots.values()) if (pointsInto(r.userspaceAddr, r.memorySize, mapping)) out.push({ vmId, slot: r.slot });
    }
    return out;
  }

  addVm(vmId: string, fd: number): void { this.#vms.set(vmId, fd); }
  /** Forgets a VM's fd and the memslots tracked on it (closing the fd is the caller's). */
  dropVm(vmId: string): void { this.#vms.delete(vmId); this.#memslots.delete(vmId); }
  /** Forgets the memslots tracked on a VM this process no longer holds. */
  forgetMemslots(vmId: string): void { this.#memslots.delete(vmId); }

  trackMemslot(vmId: string, region: MemoryRegion): void {
    let slots = this.#memslots.get(vmId);
    if (!slots) this.#memslots.set(vmId, (slots = new Map()));
    slots.set(region.slot, region);
  }

  untrackMemslot(vmId: string, slot: number): void {
    const slots = this.#memslots.get(vmId);
    if (slots?.delete(slot) && slots.size === 0) this.#memslots.delete(vmId);
  }
}
