import type { Db } from './database.js';
import { bindings } from './schema.js';
import type { BindingRow, BindingState } from './rows.js';
import { toPage, type Page } from './pagination.js';
import { clientOf, RowReader } from './row-reader.js';
import { RowWriter } from './row-writer.js';
import { StateMarker } from './bulk.js';
import { VersionedMemo } from './versioned-memo.js';

export class BindingsRepo {
  // Reads and writes go through prepared statements (row-reader.ts, row-writer.ts).
  private readonly read: RowReader<BindingRow>;
  private readonly write: RowWriter<BindingRow>;
  private readonly lost: StateMarker;
  /** The recorded side of claimedBy*, per VM or inode, for the decisions made between two writes. */
  private readonly recorded: VersionedMemo<readonly BindingRow[]>;

  /** `version`: the store's ledger version (Store#dataVersion). */
  constructor(db: Db, version: () => string) {
    this.read = new RowReader(clientOf(db), bindings);
    this.write = new RowWriter(clientOf(db), bindings);
    this.lost = new StateMarker(clientOf(db), bindings, ['active']);
    this.recorded = new VersionedMemo(clientOf(db), version);
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

  /** Shared between the decisions of one ledger version: read, never changed. */
  claimedByVm(vmId: string): readonly BindingRow[] {
    return this.withClaims(this.recorded.get(`vm:${vmId}`, () => this.activeByVm(vmId)), (b) => b.vmId === vmId);
  }
  claimedByInode(inodeId: string): readonly BindingRow[] {
    return this.withClaims(this.recorded.get(`inode:${inodeId}`, () => this.activeByInode(inodeId)), (b) => b.inodeId === inodeId);
  }

  private withClaims(recorded: readonly BindingRow[], match: (b: BindingRow) => boolean): readonly BindingRow[] {
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
