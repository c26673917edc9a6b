// Keys a command holds alone from its decision until its record is durable. With group
// commit a decision may run while an earlier command's write is still queued; a command
// whose decision reads what another in-flight command will change names a shared key (a VM
// name, an inode and VM pair), or is 'global' (destroy, revoke, narrow, donate, migrations,
// reconcile) and runs alone. Waiters are served in arrival order, so a global command is not
// starved by a stream of small ones.
type Keys = readonly string[] | 'global';

interface Holder { keys: Keys }
interface Waiter extends Holder { wake: () => void }

const conflict = (a: Keys, b: Keys) => a === 'global' || b === 'global' || a.some((k) => b.includes(k));

export class KeyLocks {
  private readonly holders = new Set<Holder>();
  private readonly waiters: Waiter[] = [];

  get inFlight(): number { return this.holders.size; }

  /** Resolves with a release function once no earlier holder or waiter conflicts. */
  acquire(keys: Keys): Promise<() => void> | (() => void) {
    if (this.free(keys, this.waiters.length)) return this.take(keys);
    return new Promise((resolve) => {
      const w: Waiter = { keys, wake: () => resolve(this.take(keys)) };
      this.waiters.push(w);
    });
  }

  private free(keys: Keys, before: number): boolean {
    for (const h of this.holders) if (conflict(h.keys, keys)) return false;
    for (let i = 0; i < before; i++) if (conflict(this.waiters[i]!.keys, keys)) return false;
    return true;
  }

  private take(keys: Keys): () => void {
    const h: Holder = { keys };
    this.holders.add(h);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.holders.delete(h);
      this.wakeReady();
    };
  }

  private wakeReady(): void {
    for (let i = 0; i < this.waiters.length; i++) {
      const w = this.waiters[i]!;
      if (!this.free(w.keys, i)) continue;
      this.waiters.splice(i, 1);
      i -= 1;
      w.wake();
    }
  }
}
