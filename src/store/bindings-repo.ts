import type Database from 'better-sqlite3';
import { getTableName } from 'drizzle-orm';
import type { Db } from './database.js';
import { bindings, vmBindingTotals } from './schema.js';
import type { ActiveBindingRef, BindingRow, BindingState } from './rows.js';
import type { SlotTable } from '../domain/slots.js';
import { toPage, type Page } from './pagination.js';
import { clientOf, RowReader } from './row-reader.js';
import { RowWriter } from './row-writer.js';
import { StateMarker } from './bulk.js';

export class BindingsRepo {
  // Reads and writes go through prepared statements (row-reader.ts, row-writer.ts).
  private readonly read: RowReader<BindingRow>;
  private readonly activeRefsRead: RowReader<ActiveBindingRef>;
  private readonly write: RowWriter<BindingRow>;
  private readonly lost: StateMarker;
  private readonly activeCount: Database.Statement<[string], number>;
  private readonly slotActive: Database.Statement<[string, number], number>;
  private readonly slotOf: Database.Statement<[string], { vmId: string; slot: number }>;
  /**
   * Per VM, an id below which every slot is in use (recorded or claimed). It only saves
   * the search from re-checking those: whatever it returns is checked against the ledger and
   * the claims, so a hint that is too high costs a lower free slot, never a taken one. It is
   * lowered whenever a slot may have come free (a claim dropped, a binding leaving `active`)
   * and forgotten by the set-based lost marking.
   */
  private readonly lowestFreeHint = new Map<string, number>();

  constructor(db: Db) {
    this.read = new RowReader(clientOf(db), bindings);
    this.activeRefsRead = this.read.fields(['id', 'vmId', 'inodeId', 'fileId', 'slot', 'gpa'] as const);
    this.write = new RowWriter(clientOf(db), bindings);
    this.lost = new StateMarker(clientOf(db), bindings, ['active']);
    const table = getTableName(bindings);
    // One row, kept by triggers (migration 0009); a VM without one has never had an active binding.
    this.activeCount = clientOf(db).prepare<[string], number>(`SELECT "${vmBindingTotals.bindingsActive.name}"
      FROM "${getTableName(vmBindingTotals)}" WHERE "${vmBindingTotals.vmId.name}" = ?`).pluck();
    // The slot lookup is answered from bindings_active_slot_uq alone (vm_id, slot where active).
    this.slotActive = clientOf(db).prepare<[string, number], number>(`SELECT 1 FROM "${table}"
      WHERE "${bindings.vmId.name}" = ? AND "state" = 'active' AND "slot" = ?`).pluck();
    this.slotOf = clientOf(db).prepare<[string], { vmId: string; slot: number }>(`SELECT "${bindings.vmId.name}" AS vmId, "slot"
      FROM "${table}" WHERE "id" = ?`);
  }

  /**
   * Bindings whose memslot the kernel already holds but whose record waits for its batch
   * (group commit). Decisions read them with the recorded ones (claimed*, slotsOf), so two binds in
   * one batch never pick one slot or overlapping ranges; reads served to clients do not.
   */
  private readonly claims = new Map<string, BindingRow>();

  claim(row: BindingRow): () => void {
    this.claims.set(row.id, row);
    return () => {
      this.claims.delete(row.id);
      // Dropped once its record is durable too: only a slot no active binding holds came free
      // (lowering the hint to a recorded slot would send the next search over the batch in flight).
      if (this.slotActive.get(row.vmId, row.slot) === undefined) this.mayBeFree(row.vmId, row.slot);
    };
  }

  claimedByVm(vmId: string): BindingRow[] { return this.withClaims(this.activeByVm(vmId), (b) => b.vmId === vmId); }

  /**
   * The slots of the VM's active and claimed bindings (what a new binding may not take),
   * without listing them: a count (the VM's row of vm_binding_totals plus its claims; a binding
   * both recorded and still claimed counts twice, as the list did), a lookup of one slot on
   * bindings_active_slot_uq, and the lowest free one, searched from the VM's hint. Listing
   * them cost 120-150 µs a bind at 1,000 bindings in a VM, and a VM may hold 32,763.
   */
  slotsOf(vmId: string): SlotTable {
    const claimed = new Set<number>();
    let claims = 0;
    for (const b of this.claims.values()) if (b.vmId === vmId) { claimed.add(b.slot); claims++; }
    const has = (slot: number) => claimed.has(slot) || this.slotActive.get(vmId, slot) !== undefined;
    return {
      count: (this.activeCount.get(vmId) ?? 0) + claims,
      has,
      lowestFree: (limit) => {
        let s = this.lowestFreeHint.get(vmId) ?? 0;
        while (s < limit && has(s)) s++;
        this.lowestFreeHint.set(vmId, s); // every slot below s is in use now
        return s < limit ? s : undefined;
      },
    };
  }

  /** A slot of the VM may have come free: the search starts no higher than it. */
  private mayBeFree(vmId: string, slot: number): void {
    const hint = this.lowestFreeHint.get(vmId);
    if (hint !== undefined && slot < hint) this.lowestFreeHint.set(vmId, slot);
  }

  /**
   * The VM's bindings a new guest range ending at `end` could overlap: its claimed ones, and
   * of the recorded ones the one that starts highest below `end`. Recorded active bindings of
   * a VM never overlap one another (the kernel refuses with EEXIST, and the ledger checks this
   * before), so any that overlaps [start, end) implies that one does. O(log n) on
   * bindings_vm_idx, where reading all of them made each bind cost O(bindings of the VM).
   */
  claimedBelow(vmId: string, end: number): BindingRow[] {
    const nearest = this.read.get(`WHERE "${bindings.vmId.name}" = ? AND "state" = 'active' AND "gpa" < ? ORDER BY "gpa" DESC LIMIT 1`, vmId, end);
    return this.withClaims(nearest ? [nearest] : [], (b) => b.vmId === vmId);
  }

  /**
   * The inode's gmem bindings a new file range ending at `end` could overlap: its claimed
   * ones, and of the recorded ones the one that starts highest below `end`. As for guest
   * ranges, recorded active gmem bindings of an inode never overlap in offset (EINVAL in the
   * kernel, checked by the ledger before), so that one is the only candidate. O(log n) on the
   * partial index bindings_gmem_offset_idx.
   */
  claimedGmemBelow(inodeId: string, end: number): BindingRow[] {
    const nearest = this.read.get(`WHERE "${bindings.inodeId.name}" = ? AND "state" = 'active' AND "kind" = 'gmem' AND "offset" < ? ORDER BY "offset" DESC LIMIT 1`, inodeId, end);
    return this.withClaims(nearest ? [nearest] : [], (b) => b.inodeId === inodeId && b.kind === 'gmem');
  }

  private withClaims(recorded: BindingRow[], match: (b: BindingRow) => boolean): BindingRow[] {
    if (this.claims.size === 0) return recorded;
    const seen = new Set(recorded.map((b) => b.id));
    return [...recorded, ...[...this.claims.values()].filter((b) => match(b) && !seen.has(b.id))];
  }

  get(id: string): BindingRow | undefined { return this.read.get('WHERE "id" = ?', id); }
  activeByVm(vmId: string): BindingRow[] { return this.read.all(`WHERE "${bindings.vmId.name}" = ? AND "state" = 'active' ORDER BY "gpa"`, vmId); }
  activeByFile(fileId: string): BindingRow[] { return this.read.all(`WHERE "${bindings.fileId.name}" = ? AND "state" = 'active' ORDER BY "id"`, fileId); }
  activeByInode(inodeId: string): BindingRow[] { return this.read.all(`WHERE "${bindings.inodeId.name}" = ? AND "state" = 'active' ORDER BY "id"`, inodeId); }
  allActive(): BindingRow[] { return this.read.all(`WHERE "state" = 'active' ORDER BY "id"`); }
  /** What the lost marking needs of every active binding (reconcile/lost.ts), oldest first. */
  activeRefs(): ActiveBindingRef[] { return this.activeRefsRead.all(`WHERE "state" = 'active' ORDER BY "id"`); }

  /** Active bindings among `ids` become lost, in one statement. */
  markLost(ids: readonly string[], endedAt: number): number {
    this.lowestFreeHint.clear();
    return this.lost.mark(ids, 'lost', endedAt);
  }

  insert(row: BindingRow): void { this.write.insert(row); }

  update(id: string, set: Partial<Pick<BindingRow, 'state' | 'endedAt' | 'readonly' | 'kind'>>): void {
    if (set.state !== undefined && set.state !== 'active') {
      const was = this.slotOf.get(id);
      if (was) this.mayBeFree(was.vmId, was.slot);
    }
    this.write.update(id, set);
  }

  list(q: { vmId?: string; fileId?: string; inodeId?: string; state?: BindingState; after?: string; limit: number }): Page<BindingRow> {
    const rows = this.read.page([[bindings.vmId.name, q.vmId || undefined], [bindings.fileId.name, q.fileId || undefined],
      [bindings.inodeId.name, q.inodeId || undefined], [bindings.state.name, q.state]], q.after, q.limit);
    return toPage(rows, q.limit, (r) => r.id);
  }
}
