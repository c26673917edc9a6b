// What gmemd holds in the kernel right now, keyed by ledger id. Not persisted: kernel
// objects die with the process, and start-up reconcile compares this (empty, after a
// crash) with the ledger.
export interface GmemHandle {
  fd: number;
  /** The ledger VM whose kernel VM created the gmem; only it can bind gmem memslots. Null after a handover. */
  kernelOriginVmId: string | null;
  size: number;
  /** gmemd's MAP_SHARED mapping of a shareable inode: the memory every view points at. */
  mapping: { addr: bigint; length: bigint } | null;
}

export class KernelRegistry {
  readonly vms = new Map<string, number>();
  readonly gmems = new Map<string, GmemHandle>();

  vmFd(vmId: string): number | undefined { return this.vms.get(vmId); }
  gmem(inodeId: string): GmemHandle | undefined { return this.gmems.get(inodeId); }
}
