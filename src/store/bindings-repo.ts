import { and, asc, eq, gt, sql, type SQL } from 'drizzle-orm';
import type { Db } from './database.js';
import { bindings } from './schema.js';
import type { BindingRow, BindingState } from './rows.js';
import { toPage, type Page } from './pagination.js';

export class BindingsRepo {
  private readonly byId;
  private readonly activeOfVm;
  private readonly activeOfFile;
  private readonly activeOfInode;

  constructor(private readonly db: Db) {
    this.byId = db.select().from(bindings).where(eq(bindings.id, sql.placeholder('id'))).prepare();
    this.activeOfVm = db.select().from(bindings)
      .where(and(eq(bindings.vmId, sql.placeholder('vmId')), eq(bindings.state, 'active')))
      .orderBy(asc(bindings.gpa)).prepare();
    this.activeOfFile = db.select().from(bindings)
      .where(and(eq(bindings.fileId, sql.placeholder('fileId')), eq(bindings.state, 'active')))
      .orderBy(asc(bindings.id)).prepare();
    this.activeOfInode = db.select().from(bindings)
      .where(and(eq(bindings.inodeId, sql.placeholder('inodeId')), eq(bindings.state, 'active')))
      .orderBy(asc(bindings.id)).prepare();
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

  get(id: string): BindingRow | undefined { return this.byId.get({ id }); }
  activeByVm(vmId: string): BindingRow[] { return this.activeOfVm.all({ vmId }); }
  activeByFile(fileId: string): BindingRow[] { return this.activeOfFile.all({ fileId }); }

  activeByInode(inodeId: string): BindingRow[] { return this.activeOfInode.all({ inodeId }); }

  allActive(): BindingRow[] {
    return this.db.select().from(bindings).where(eq(bindings.state, 'active')).orderBy(asc(bindings.id)).all();
  }

  insert(row: BindingRow): void { this.db.insert(bindings).values(row).run(); }

  update(id: string, set: Partial<Pick<BindingRow, 'state' | 'endedAt' | 'readonly' | 'kind'>>): void {
    this.db.update(bindings).set(set).where(eq(bindings.id, id)).run();
  }

  list(q: { vmId?: string; fileId?: string; inodeId?: string; state?: BindingState; after?: string; limit: number }): Page<BindingRow> {
    const conds: SQL[] = [];
    if (q.vmId) conds.push(eq(bindings.vmId, q.vmId));
    if (q.fileId) conds.push(eq(bindings.fileId, q.fileId));
    if (q.inodeId) conds.push(eq(bindings.inodeId, q.inodeId));
    if (q.state) conds.push(eq(bindings.state, q.state));
    if (q.after) conds.push(gt(bindings.id, q.after));
    const rows = this.db.select().from(bindings).where(and(...conds)).orderBy(asc(bindings.id)).limit(q.limit + 1).all();
    return toPage(rows, q.limit, (r) => r.id);
  }
}
