// Reads that decisions repeat between two writes, answered once. Group commit lets many
// decisions run while no write happens (their writes wait for the batch), and each bind
// decision read every active binding of its VM and of its inode: 30 rows twice per request
// in the bind bench, a fifth of the event loop's CPU. An entry holds only while the ledger's
// version (data-version.ts: this connection's changes, other connections' commits) is the
// one it was read at.
import type Database from 'better-sqlite3';

export class VersionedMemo<V> {
  private version = '';
  private readonly entries = new Map<string, V>();

  constructor(private readonly sqlite: Database.Database, private readonly versionOf: () => string,
    private readonly maxEntries = 1024) {}

  get(key: string, load: () => V): V {
    // Inside a transaction a read sees writes a rollback may take back, and the version (a
    // count of changes) never goes back: such a read is not kept.
    if (this.sqlite.inTransaction) return load();
    const v = this.versionOf();
    if (v !== this.version) { this.entries.clear(); this.version = v; }
    let e = this.entries.get(key);
    if (e === undefined) {
      e = load();
      if (this.entries.size < this.maxEntries) this.entries.set(key, e);
    }
    return e;
  }
}
