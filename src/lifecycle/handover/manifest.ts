// What an old gmemd tells its successor: which ledger inodes it hands over and where their
// guest_memfds arrive, where the listening socket is, and the pipe to report back on. The
// manifest is a file in a private temp dir named by GMEMD_HANDOVER (an env var has a size
// limit; thousands of inodes would pass it); the successor removes the dir once it adopted.
import { readFileSync, rmSync } from 'node:fs';
import type { BackendName } from '../../kvm/kvm-host.js';

export const HANDOVER_ENV = 'GMEMD_HANDOVER';

export interface HandedInode { inodeId: string; kernelInode: number; size: number }

export interface HandoverManifest {
  version: 1;
  handoverId: string;
  fromPid: number;
  backend: BackendName;
  startedAt: number;
  /** In export order; gmemFds[i] is where inodes[i]'s guest_memfd was inherited (native). */
  inodes: HandedInode[];
  gmemFds: number[];
  /** The simulator's state file (its stand-in for inherited fds); unused by the native backend. */
  stateFile: string;
  /** The inherited listening socket, or null when the old process was not listening. */
  listenFd: number | null;
  /** The inherited ledger lock (ledger-lock.ts); absent from a predecessor without one, which held none. */
  lockFd?: number | null;
  /** Write end of a pipe: one JSON line once the successor serves, then EOF. */
  readyFd: number;
  dir: string;
}

export function readManifest(env: NodeJS.ProcessEnv = process.env): HandoverManifest | null {
  const path = env[HANDOVER_ENV];
  if (!path) return null;
  const m = JSON.parse(readFileSync(path, 'utf8')) as HandoverManifest;
  if (m.version !== 1) throw new Error(`${HANDOVER_ENV}: manifest version ${String(m.version)} is not 1`);
  return m;
}

export function removeManifestDir(m: HandoverManifest): void {
  rmSync(m.dir, { recursive: true, force: true });
}
