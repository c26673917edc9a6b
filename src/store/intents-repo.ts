// Intents: a record, written before kernel calls that cannot be undone in the same step,
// of what a multi-step operation is about to do. A crash leaves it open; start-up
// reconcile resolves it.
import { asc, eq } from 'drizzle-orm';
import type { Db } from './database.js';
import { intents } from './schema.js';
import type { IntentRow } from './rows.js';
import { newId } from './ids.js';
import { clientOf } from './row-reader.js';
import { RowWriter } from './row-writer.js';

export class IntentsRepo {
  private readonly write: RowWriter<IntentRow>;

  constructor(private readonly db: Db, private readonly now: () => number) {
    this.write = new RowWriter(clientOf(db), intents);
  }

  open(kind: string, payload: unknown): IntentRow {
    const row: IntentRow = { id: newId('int'), kind, payload, state: 'open', createdAt: this.now(), endedAt: null };
    this.write.insert(row);
    return row;
  }

  finish(id: string, state: 'done' | 'resolved' = 'done'): void {
    this.write.update(id, { state, endedAt: this.now() });
  }

  listOpen(): IntentRow[] {
    return this.db.select().from(intents).where(eq(intents.state, 'open')).orderBy(asc(intents.id)).all();
  }
}
