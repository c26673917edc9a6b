// Intents: a record, written before kernel calls that cannot be undone in the same step,
// of what a multi-step operation is about to do. A crash leaves it open; start-up
// reconcile resolves it.
import { asc, eq } from 'drizzle-orm';
import type { Db } from './database.js';
import { intents } from './schema.js';
import type { IntentRow } from './rows.js';
import { newId } from './ids.js';

export class IntentsRepo {
  constructor(private readonly db: Db, private readonly now: () => number) {}

  open(kind: string, payload: unknown): IntentRow {
    const row: IntentRow = { id: newId('int'), kind, payload, state: 'open', createdAt: this.now(), endedAt: null };
    this.db.insert(intents).values(row).run();
    return row;
  }

  finish(id: string, state: 'done' | 'resolved' = 'done'): void {
    this.db.update(intents).set({ state, endedAt: this.now() }).where(eq(intents.id, id)).run();
  }

  listOpen(): IntentRow[] {
    return this.db.select().from(intents).where(eq(intents.state, 'open')).orderBy(asc(intents.id)).all();
  }
}
