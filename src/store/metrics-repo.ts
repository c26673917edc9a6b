// What /metrics reads from the ledger at scrape time: small GROUP BY queries over indexed
// columns, prepared once. Audit and kernel-error counts are read incrementally (events after
// the last seq seen), so a scrape costs the events since the previous one, not the chain.
// Also the commit-batch hook: the unit of work reports each commit's size here, and the
// metrics histogram observes it.
import type Database from 'better-sqlite3';
import { bindings, events, vms } from './schema.js';

/** The vocabularies the gauges are labelled with, from the schema that defines them. */
export const METRIC_LABELS = {
  vmStates: vms.state.enumValues, bindingKinds: bindings.kind.enumValues, outcomes: events.outcome.enumValues,
} as const;

export interface EventCounts { outcome: string; operation: string | null; errno: string | null; n: number }

export class MetricsRepo {
  private readonly vmsByState;
  private readonly liveInodes;
  private readonly sharedBytes;
  private readonly bindingsByKind;
  private readonly head;
  private readonly eventsIn;

  constructor(private readonly sqlite: Database.Database) {
    this.vmsByState = sqlite.prepare('SELECT state, count(*) AS n FROM vms GROUP BY state');
    this.liveInodes = sqlite.prepare(`SELECT shareable, count(*) AS n, coalesce(sum(size), 0) AS bytes
      FROM inodes WHERE state = 'live' GROUP BY shareable`);
    // Reachable by more than one VM: open or pending files of distinct VMs, as the exposure query counts them.
    this.sharedBytes = sqlite.prepare(`SELECT coalesce(sum(size), 0) FROM inodes i WHERE i.state = 'live' AND
      (SELECT count(DISTINCT f.vm_id) FROM files f WHERE f.inode_id = i.id AND f.state IN ('open', 'pending')) > 1`).pluck();
    this.bindingsByKind = sqlite.prepare(`SELECT kind, count(*) AS n FROM bindings WHERE state = 'active' GROUP BY kind`);
    this.head = sqlite.prepare('SELECT coalesce(max(seq), 0) FROM events').pluck();
    this.eventsIn = sqlite.prepare(`SELECT outcome, operation, errno, count(*) AS n FROM events
      WHERE seq > ? AND seq <= ? GROUP BY outcome, operation, errno`);
  }

  get open(): boolean { return this.sqlite.open; }

  vms(): { state: string; n: number }[] { return this.vmsByState.all() as { state: string; n: number }[]; }

  inodes(): { shareable: boolean; n: number; bytes: number }[] {
    return (this.liveInodes.all() as { shareable: number; n: number; bytes: number }[]).map((r) => ({ ...r, shareable: r.shareable === 1 }));
  }

  multiVmBytes(): number { return this.sharedBytes.get() as number; }

  bindings(): { kind: string; n: number }[] { return this.bindingsByKind.all() as { kind: string; n: number }[]; }

  /** Event counts in (afterSeq, head], and the head: the caller passes it back next time. */
  eventsSince(afterSeq: number): { head: number; counts: EventCounts[] } {
    const head = this.head.get() as number;
    return { head, counts: head > afterSeq ? this.eventsIn.all(afterSeq, head) as EventCounts[] : [] };
  }
}

type BatchObserver = (size: number) => void;
const batchObservers = new WeakMap<Database.Database, Set<BatchObserver>>();

/** Called once per committed transaction with the number of units of work it carried. */
export function recordCommitBatch(sqlite: Database.Database, size: number): void {
  const observers = batchObservers.get(sqlite);
  if (observers) for (const o of observers) o(size);
}

/** Observe the commit batches of one ledger connection; returns the unsubscribe. */
export function observeCommitBatches(sqlite: Database.Database, observer: BatchObserver): () => void {
  let set = batchObservers.get(sqlite);
  if (!set) batchObservers.set(sqlite, set = new Set());
  set.add(observer);
  return () => { set!.delete(observer); };
}
