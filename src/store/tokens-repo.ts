// Bearer tokens. The hot path is `live(hash)`, run on every authenticated request. Its
// answers are kept while the ledger's data version is unchanged (data-version.ts): any write
// by this connection, through any code path, and any commit by another one empties the
// cache, so a revoked token is refused on the very next request. A miss is one prepared
// statement on the unique hash index.
import { asc, eq } from 'drizzle-orm';
import type { Db } from './database.js';
import { tokens } from './schema.js';
import type { TokenRow } from './rows.js';
import { clientOf, RowReader } from './row-reader.js';

export class TokensRepo {
  private readonly read: RowReader<TokenRow>;

  private cachedAt = '';
  // null: no live token has this hash (bad tokens are answered from here too, bounded).
  private readonly cache = new Map<string, TokenRow | null>();

  /** `version`: the store's ledger version (Store#dataVersion). */
  constructor(private readonly db: Db, private readonly version: () => string) {
    this.read = new RowReader(clientOf(db), tokens);
  }

  /** The live token whose secret hashes to `secretHash`, as of ledger version `v` (read now when not given). */
  live(secretHash: string, v: string = this.version()): TokenRow | undefined {
    if (v !== this.cachedAt) { this.cache.clear(); this.cachedAt = v; }
    let t = this.cache.get(secretHash);
    if (t === undefined) {
      t = this.read.get('WHERE "secret_hash" = ? AND "revoked_at" IS NULL', secretHash) ?? null;
      if (this.cache.size >= 1024) this.cache.clear();
      this.cache.set(secretHash, t);
    }
    return t ?? undefined;
  }

  get(id: string): TokenRow | undefined { return this.read.get('WHERE "id" = ?', id); }
  liveByName(name: string): TokenRow | undefined { return this.read.get('WHERE "name" = ? AND "revoked_at" IS NULL', name); }

  liveAdmins(): TokenRow[] { return this.read.all('WHERE "role" = ? AND "revoked_at" IS NULL ORDER BY "id"', 'admin'); }

  list(): TokenRow[] { return this.db.select().from(tokens).orderBy(asc(tokens.id)).all(); }

  insert(row: TokenRow): void { this.db.insert(tokens).values(row).run(); }

  revoke(id: string, at: number): void { this.db.update(tokens).set({ revokedAt: at }).where(eq(tokens.id, id)).run(); }
}
