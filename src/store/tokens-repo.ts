// Bearer tokens. The hot path is `live(hash)`, run on every authenticated request: one
// prepared statement on the unique hash index through a RowReader (no query building).
import { asc, eq } from 'drizzle-orm';
import type { Db } from './database.js';
import { tokens } from './schema.js';
import type { TokenRow } from './rows.js';
import { clientOf, RowReader } from './row-reader.js';

export class TokensRepo {
  private readonly read: RowReader<TokenRow>;

  constructor(private readonly db: Db) {
    this.read = new RowReader(clientOf(db), tokens);
  }

  /** The live token whose secret hashes to `secretHash`. */
  live(secretHash: string): TokenRow | undefined {
    return this.read.get('WHERE "secret_hash" = ? AND "revoked_at" IS NULL', secretHash);
  }

  get(id: string): TokenRow | undefined { return this.read.get('WHERE "id" = ?', id); }
  liveByName(name: string): TokenRow | undefined { return this.read.get('WHERE "name" = ? AND "revoked_at" IS NULL', name); }

  liveAdmins(): TokenRow[] { return this.read.all('WHERE "role" = ? AND "revoked_at" IS NULL ORDER BY "id"', 'admin'); }

  list(): TokenRow[] { return this.db.select().from(tokens).orderBy(asc(tokens.id)).all(); }

  insert(row: TokenRow): void { this.db.insert(tokens).values(row).run(); }

  revoke(id: string, at: number): void { this.db.update(tokens).set({ revokedAt: at }).where(eq(tokens.id, id)).run(); }
}
