// One gmemd process per ledger. A second one started on the same GMEMD_DB (a unit restarted
// while the old process lingers, two containers on one volume) holds no kernel object, so its
// start-up reconcile would mark every VM and inode lost while the first still serves them,
// and both would append to one audit chain from different heads. So the process holds an
// exclusive flock(2) on <ledger>.lock for its lifetime and refuses to start without it. The
// kernel drops the lock when the process dies, however it dies: a crash leaves no stale
// lock. A handover successor inherits the open lock file (stdio, as the guest_memfds): the
// same open file description, so the same lock, which passes from one process to the next
// with no moment when neither holds it. Nothing ever unlocks it (LOCK_UN on a shared
// description would release the successor's lock too): it ends with the last descriptor.
import { closeSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { errno, sys } from '../kvm/native/libc.js';
import { ERRNO, errnoName } from '../kvm/kernel-error.js';
import { LOCK } from '../kvm/uapi.js';
import { LEDGER_FILE_MODE, makeLedgerDir } from '../store/database.js';

export interface LedgerLock { path: string; fd: number }

export const lockPathOf = (dbPath: string): string => `${dbPath}.lock`;

/**
 * Takes the ledger's lock, or the inherited one (`inheritedFd`, a successor's). The lock file
 * names the holder's pid, for the message a refused start prints.
 */
export function lockLedger(dbPath: string, inheritedFd?: number): { ok: true; value: LedgerLock } | { ok: false; error: string } {
  const path = lockPathOf(dbPath);
  let fd = inheritedFd;
  if (fd === undefined) {
    try {
      makeLedgerDir(path);
      fd = openSync(path, 'a+', LEDGER_FILE_MODE);
    } catch (e) {
      return { ok: false, error: `cannot open the ledger lock ${path}: ${(e as Error).message}` };
    }
  }
  if (sys.flock(fd, LOCK.EX | LOCK.NB) !== 0) {
    const e = errno();
    if (inheritedFd === undefined) closeSync(fd);
    if (e !== ERRNO.EAGAIN) return { ok: false, error: `cannot lock the ledger (${path}): flock failed with ${errnoName(e)}` };
    const holder = readFileSync(path, 'utf8').trim();
    return { ok: false, error: `another gmemd process${holder ? ` (pid ${holder})` : ''} holds the ledger ${dbPath} (flock on ${path}); stop it first, or hand over to a new one with SIGUSR2` };
  }
  ftruncateSync(fd, 0);
  writeSync(fd, `${process.pid}\n`);
  return { ok: true, value: { path, fd } };
}
