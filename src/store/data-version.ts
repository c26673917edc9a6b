// What changes whenever anything in the ledger may have changed: the rows written by this
// connection (SQLite counts them, whatever the code path) and commits by any other
// connection (a handover successor, a tool). Equal versions mean every read would answer
// the same, which is what the caches over the ledger (tokens, served reads) rely on.
//
// Other connections' commits: `PRAGMA data_version` says, but it opens a read transaction
// (the WAL-index read-mark locks, fcntl calls on the -shm file): ~2.6 µs, and 14% of a
// cached GET's CPU under load in the profile (test/bench/profile-http.ts inode). Every commit,
// by any connection, rewrites the WAL-index header, the first 48 bytes of the -shm file, and
// increments its change counter (https://sqlite.org/walformat.html, "The WAL-Index Header").
// So while those bytes read as they did at the last pragma, no commit has happened since, and
// the pragma's answer then still holds. A read of them is one pread and takes no lock (the
// whole version read: 1.7 µs against 2.8 µs, timed in the server under load); a torn read
// differs too and only sends the check to the pragma.
import { closeSync, openSync, readSync } from 'node:fs';
import type Database from 'better-sqlite3';

/** Size of one copy of the WAL-index header (walformat.html: 48 bytes; two copies follow each other). */
const WAL_INDEX_HEADER_BYTES = 48;

export interface DataVersion {
  (): string;
  /** Releases the -shm file descriptor (the connection is closing). */
  close(): void;
}

export function dataVersionOf(sqlite: Database.Database): DataVersion {
  const changes = sqlite.prepare('SELECT total_changes()').pluck();
  const version = sqlite.prepare('PRAGMA data_version').pluck();
  let shm = openShm(sqlite);
  const seen = Buffer.alloc(WAL_INDEX_HEADER_BYTES), now = Buffer.alloc(WAL_INDEX_HEADER_BYTES);
  let others = -1;

  const othersNow = (): number => {
    if (shm === null) return version.get() as number;
    // A short read (a header not written yet) counts as changed.
    if (readSync(shm, now, 0, WAL_INDEX_HEADER_BYTES, 0) === WAL_INDEX_HEADER_BYTES && others >= 0 && now.equals(seen)) return others;
    // The header first, then the pragma: a commit landing in between shows in the pragma
    // and, having changed the header again, sends the next read here too.
    now.copy(seen);
    return (others = version.get() as number);
  };
  const read = (() => `${changes.get() as number}:${othersNow()}`) as DataVersion;
  // Idempotent, as Store#close is.
  read.close = () => { if (shm !== null) closeSync(shm); shm = null; };
  return read;
}

/** The WAL-index file of a WAL ledger on disk, opened read-only; null otherwise (the pragma alone then). */
function openShm(sqlite: Database.Database): number | null {
  if (sqlite.memory || sqlite.pragma('journal_mode', { simple: true }) !== 'wal') return null;
  // The connection has read the database already (migrations), so SQLite has made the file;
  // it keeps it while any connection is open, and this one is until Store#close.
  try { return openSync(`${sqlite.name}-shm`, 'r'); } catch { return null; }
}
