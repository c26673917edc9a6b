// Idempotency-Key replays: the first response to a key is stored with a fingerprint of the
// request (method, route, body) and the time; a replay with the same fingerprint gets that
// response, a different request under the same key is a conflict. A record expires after the
// TTL (GMEMD_IDEMPOTENCY_TTL_SECONDS, default 24 h): an expired one is never replayed, a new
// request under its key replaces it, and prune() deletes them (at start and periodically).
import type Database from 'better-sqlite3';
import type { Db } from './database.js';
import { clientOf } from './row-reader.js';

export interface StoredResponse { fingerprint: string; status: number; body: string }

const DAY_MS = 24 * 3600 * 1000;

export class IdempotencyRepo {
  private ttlMs = DAY_MS;
  private readonly select: Database.Statement<[string, number]>;
  private readonly upsert: Database.Statement<[string, string, number, string, number, number]>;
  private readonly deleteBefore: Database.Statement<[number]>;

  constructor(db: Db, private readonly now: () => number) {
    const sqlite = clientOf(db);
    this.select = sqlite.prepare('SELECT "fingerprint", "status", "body" FROM "idempotency" WHERE "key" = ? AND "created_at" >= ?');
    // A live record is kept (the first response wins); an expired one is replaced.
    this.upsert = sqlite.prepare(`INSERT INTO "idempotency" ("key", "fingerprint", "status", "body", "created_at") VALUES (?, ?, ?, ?, ?)
      ON CONFLICT ("key") DO UPDATE SET "fingerprint" = excluded."fingerprint", "status" = excluded."status", "body" = excluded."body",
      "created_at" = excluded."created_at" WHERE "idempotency"."created_at" < ?`);
    this.deleteBefore = sqlite.prepare('DELETE FROM "idempotency" WHERE "created_at" < ?');
  }

  /** How long a record is replayed (ServiceContext sets it from the limits). */
  expireAfter(ms: number): void { this.ttlMs = ms; }

  private cutoff(): number { return this.now() - this.ttlMs; }

  get(key: string): StoredResponse | undefined {
    return this.select.get(key, this.cutoff()) as StoredResponse | undefined;
  }

  put(key: string, r: StoredResponse): void {
    this.upsert.run(key, r.fingerprint, r.status, r.body, this.now(), this.cutoff());
  }

  /** Deletes expired records; returns how many. */
  prune(): number { return this.deleteBefore.run(this.cutoff()).changes; }
}
