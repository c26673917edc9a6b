// Idempotency-Key replays: the first response to a key is stored with a fingerprint of the
// request (method, route, body); a replay with the same fingerprint gets that response,
// a different request under the same key is a conflict.
import { eq } from 'drizzle-orm';
import type { Db } from './database.js';
import { idempotency } from './schema.js';

export interface StoredResponse { fingerprint: string; status: number; body: string }

export class IdempotencyRepo {
  constructor(private readonly db: Db, private readonly now: () => number) {}

  get(key: string): StoredResponse | undefined {
    return this.db.select().from(idempotency).where(eq(idempotency.key, key)).get();
  }

  put(key: string, r: StoredResponse): void {
    this.db.insert(idempotency).values({ key, ...r, createdAt: this.now() }).onConflictDoNothing().run();
  }
}
