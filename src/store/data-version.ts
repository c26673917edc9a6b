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
// the pragma's answer then still holds. Those bytes are read from a read-only shared mapping
// of the -shm file, as SQLite's connections read them: no system call and no lock (a pread
// of them was 0.8 µs alone and ~10% of a cached GET's CPU under load, Node 26). A torn read
// differs from the last one and only sends the check to the pragma. The mapping cannot fault:
// SQLite truncates the -shm only in the first connection to open a ledger no one else has
// open, and this connection keeps it open until Store#close, which unmaps in the same call,
// right after closing it: nothing reads the mapping in between. Where the
// mapping cannot be made, one pread per check does the same.
//
// The fd is closed only after the connection: POSIX record locks belong to the process and
// the file, so closing any fd of the process on the -shm drops all the process's locks on it,
// SQLite's too (its read marks and the shared "dead man switch" byte that tells a connection
// in another process, a handover successor or an auditor's CLI, that the WAL-index is live
// and must not be rebuilt). Closing it before the connection opened that window at every close.
import { closeSync, openSync, readSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { mapFileReadOnly } from '../kvm/native/libc.js';

/** Size of one copy of the WAL-index header (walformat.html: 48 bytes; two copies follow each other). */
const WAL_INDEX_HEADER_BYTES = 48;
/** One page: SQLite makes the -shm file 32 KiB at least (walformat.html), so it holds a page. */
const SHM_MAPPED_BYTES = 4096;

export interface DataVersion {
  (): string;
  /** How other connections' commits are seen: the mapped -shm header, its pread, or the pragma alone. */
  readonly via: 'mapping' | 'pread' | 'pragma';
  /** Unmaps the header and closes the -shm file descriptor, once the connection is closed:
   *  it throws while the connection is open (see the note at the top). */
  close(): void;
}

export function dataVersionOf(sqlite: Database.Database): DataVersion {
  const changes = sqlite.prepare('SELECT total_changes()').pluck();
  const version = sqlite.prepare('PRAGMA data_version').pluck();
  let shm = openShm(sqlite);
  const seen = Buffer.alloc(WAL_INDEX_HEADER_BYTES), now = Buffer.alloc(WAL_INDEX_HEADER_BYTES);
  let others = -1;

  // The header into `now`; false if it could not be read whole.
  const header = (open: NonNullable<typeof shm>): boolean => {
    if (open.mapped) return open.mapped.view.copy(now, 0, 0, WAL_INDEX_HEADER_BYTES) === WAL_INDEX_HEADER_BYTES;
    // A short read (a header not written yet) counts as changed.
    return readSync(open.fd, now, 0, WAL_INDEX_HEADER_BYTES, 0) === WAL_INDEX_HEADER_BYTES;
  };
  const othersNow = (): number => {
    if (shm === null) return version.get() as number;
    if (header(shm) && others >= 0 && now.equals(seen)) return others;
    // The header first, then the pragma: a commit landing in between shows in the pragma
    // and, having changed the header again, sends the next read here too.
    now.copy(seen);
    return (others = version.get() as number);
  };
  const read = (() => `${changes.get() as number}:${othersNow()}`) as DataVersion & { via: DataVersion['via'] };
  read.via = shm === null ? 'pragma' : shm.mapped ? 'mapping' : 'pread';
  // Idempotent, as Store#close is.
  read.close = () => {
    if (sqlite.open && shm) throw new Error('data version: close the connection before the -shm file descriptor');
    const open = shm;
    shm = null;
    open?.mapped?.unmap();
    if (open) closeSync(open.fd);
  };
  return read;
}

/** The WAL-index file of a WAL ledger on disk, opened read-only, with its first page mapped
 *  if it can be; null otherwise (the pragma alone then). */
function openShm(sqlite: Database.Database): { fd: number; mapped: ReturnType<typeof mapFileReadOnly> } | null {
  if (sqlite.memory || sqlite.pragma('journal_mode', { simple: true }) !== 'wal') return null;
  // The connection has read the database already (migrations), so SQLite has made the file;
  // it keeps it while any connection is open, and this one is until Store#close.
  let fd: number;
  try { fd = openSync(`${sqlite.name}-shm`, 'r'); } catch { return null; }
  return { fd, mapped: mapFileReadOnly(fd, SHM_MAPPED_BYTES) };
}
