// Calls the kernel gives up on when a signal arrives (EINTR), made again (native-host.ts).
import { ERRNO } from '../kernel-error.js';
import { errno } from './libc.js';

// KVM_CREATE_VM and fallocate give up with EINTR when a signal reaches the calling thread
// while they work (probed on 6.18 under a flood of a handled signal: 200 of 200 VM creates
// and fallocates, no guest_memfd create and no memslot change). Neither has done anything a
// second call would not do again: no fd is installed, and pages allocated before the signal
// stay allocated. So they are called again, up to EINTR_CALLS times in all: a signal can come
// at any moment (a handover successor's SIGCHLD, an operator's SIGUSR2), and a VM create first
// walks every mapping of the process, milliseconds at 10,000 inodes. Past that, EINTR is reported.
export const EINTR_CALLS = 32;

/** The call's result, made again while it fails with EINTR; errno is read right after a failing call. */
export function whileInterrupted(call: () => number): { ret: number; errno: number } {
  for (let n = 1; ; n++) {
    const ret = call();
    if (ret >= 0) return { ret, errno: 0 };
    const e = errno();
    if (e !== ERRNO.EINTR || n >= EINTR_CALLS) return { ret, errno: e };
  }
}

/** The same for a call made off the event loop (libc.ts's async calls report their errno). */
export async function whileInterruptedAsync(call: () => Promise<{ ret: number; errno: number }>): Promise<{ ret: number; errno: number }> {
  for (let n = 1; ; n++) {
    const r = await call();
    if (r.ret >= 0 || r.errno !== ERRNO.EINTR || n >= EINTR_CALLS) return r;
  }
}
