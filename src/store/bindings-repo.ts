import type Database from 'better-sqlite3';
import { getTableName } from 'drizzle-orm';
import type { Db } from './database.js';
import { bindings } from './schema.js';
import type { BindingRow, BindingState } from './rows.js';
import { toPage, type Page } from './pagination.js';
import { clientOf, RowReader } from './row-reader.js';
import { RowWriter } from './row-writer.js';
import { StateMarker } from './bulk.js';

export class BindingsRepo {
  // Reads and writes go through prepared statements (row-reader.ts, row-writer.ts).
  private readonly read: RowReader<BindingRow>;
  private readonly write: RowWriter<BindingRow>;
  private readonly lost: StateMarker;
  private readonly activeSlots: Database.Statement<[string], number>;

  constructor(db: Db) {
    this.read = new RowReader(clientOf(db), bindings);
    this.write = new RowWriter(clientOf(db), bindings);
    this.lost = new StateMarker(clientOf(db), bindings, ['active']);
    // Answered from bindings_active_slot_uq alone (vm_id, slot where active): no row is read.
    this.activeSlots = clientOf(db).prepare<[string], number>(`SELECT "slot" FROM "${getTableName(bindings)}"
      WHERE "${bindings.vmId.name}" = ? AND "state" = 'active'`).pluck();
  }

  /**
   * Bindings whose memslot the kernel already holds but whose record waits for its batch
   * (group commit). Decisions read them with the recorded ones (claimedBy*), so two binds in
   * one batch never pick one slot or overlapping ranges; reads served to clients do not.
   */
  private readonly claims = new Map<string, BindingRow>();

  claim(row: BindingRow): () => void {
    this.claims.set(row.id, row);
    return () => { this.claims.delete(row.id); };
  }

  claimedByVm(vmId: string): BindingRow[] { return this.withClaims(this.activeByVm(vmId), (b) => b.vmId === vmId); }

  /** The slots of the VM's active and claimed bindings: what a new binding may not take. */
  claimedSlots(vmId: string): number[] {
    const slots = this.activeSlots.all(vmId);
    for (const b of this.claims.values()) if (b.vmId === vmId) slots.push(b.slot);
    return slots;
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

  /** Active bindings among `ids` become lost, in one statement. */
  markLost(ids: readonly string[], endedAt: number): number { return this.lost.mark(ids, 'lost', endedAt); }

  insert(row: BindingRow): void { this.write.insert(row); }

  update(id: string, set: Partial<Pick<BindingRow, 'state' | 'endedAt' | 'readonly' | 'kind'>>): void {
    this.write.update(id, set);
  }

  list(q: { vmId?: string; fileId?: string; inodeId?: string; state?: BindingState; after?: string; limit: number }): Page<BindingRow> {
    const rows = this.read.page([[bindings.vmId.name, q.vmId || undefined], [bindings.fileId.name, q.fileId || undefined],
      [bindings.inodeId.name, q.inodeId || undefined], [bindings.state.name, q.state]], q.after, q.limit);
    return toPage(rows, q.limit, (r) => r.id);
  }
}
