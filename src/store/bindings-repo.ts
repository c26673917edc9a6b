import type { Db } from './database.js';
import { bindings } from './schema.js';
import type { BindingRow, BindingState } from './rows.js';
import { toPage, type Page } from './pagination.js';
import { clientOf, RowReader } from './row-reader.js';
import { RowWriter } from './row-writer.js';

export class BindingsRepo {
  // Reads and writes go through prepared statements (row-reader.ts, row-writer.ts).
  private readonly read: RowReader<BindingRow>;
  private readonly write: RowWriter<BindingRow>;

  constructor(db: Db) {
    this.read = new RowReader(clientOf(db), bindings);
    this.write = new RowWriter(clientOf(db), bindings);
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
  claimedByInode(inodeId: string): BindingRow[] { return this.withClaims(this.activeByInode(inodeId), (b) => b.inodeId === inodeId); }

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
