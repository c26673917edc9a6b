// What in-flight commands have reserved against the quotas. With group commit a decision may
// run while an earlier create's record still waits for its batch, so the ledger alone would
// let two creates both pass a budget that fits only one. A create reserves in its decision
// and releases when its record is written (inside the transaction: the row then counts) or
// when it ends without one; a decision counts the ledger plus what is reserved.
export interface Reservation { vms?: number; inodes?: number; inodeBytes?: number }

export class PendingQuota {
  vms = 0;
  inodes = 0;
  inodeBytes = 0;

  /** Reserves `r`; the returned release is idempotent. */
  hold(r: Reservation): () => void {
    this.add(r, 1);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.add(r, -1);
    };
  }

  private add(r: Reservation, sign: 1 | -1): void {
    this.vms += sign * (r.vms ?? 0);
    this.inodes += sign * (r.inodes ?? 0);
    this.inodeBytes += sign * (r.inodeBytes ?? 0);
  }
}
