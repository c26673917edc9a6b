// A separate process for the host-scan tests: it holds fds of known kinds and maps one, prints
// what it holds as one JSON line, and exits when its stdin closes.
//   memfd: a memfd (MAP_SHARED) and a pipe, besides its stdin/stdout (socketpairs, as node
//          spawns them); runs anywhere.
//   kvm:   a KVM VM and a shareable guest_memfd, mapped (needs /dev/kvm).
import { fstatSync } from 'node:fs';
import koffi from 'koffi';
import { MFD_CLOEXEC, sys } from '../../src/kvm/native/libc.js';
import { NativeKvmHost, openNativeHost } from '../../src/kvm/native/native-host.js';
import { GMEM_FLAGS_SHAREABLE, MAP, PROT } from '../../src/kvm/uapi.js';

const SIZE = 2n * 1024n * 1024n;
const mode = process.argv[2];
const report: Record<string, unknown> = { pid: process.pid, stdin: { fd: 0, ino: fstatSync(0).ino }, stdout: { fd: 1, ino: fstatSync(1).ino } };

function must<T>(r: { ok: true; value: T } | { ok: false; error: Error }): T {
  if (!r.ok) throw r.error;
  return r.value;
}

if (mode === 'memfd') {
  const host = new NativeKvmHost();
  const fd = sys.memfdCreate('gmemd-scan-test', MFD_CLOEXEC);
  if (fd < 0) throw new Error('memfd_create failed');
  const addr = must(host.mmap(fd, SIZE, PROT.READ | PROT.WRITE, MAP.SHARED, 0n));
  const pipe = koffi.load('libc.so.6').func('int pipe(_Out_ int *fds)');
  const ends = new Int32Array(2);
  if (pipe(ends) !== 0) throw new Error('pipe failed');
  report.pipe = { fds: [...ends], ino: fstatSync(ends[0]!).ino };
  report.memfd = { fd, ino: Number(must(host.fstat(fd)).ino), start: `0x${addr.toString(16)}`, end: `0x${(addr + SIZE).toString(16)}` };
} else if (mode === 'kvm') {
  const opened = openNativeHost();
  if (!opened.ok) throw new Error(opened.reason);
  const host = opened.host;
  const vm = must(host.createVm(0));
  const gm = must(host.createGuestMemfd(vm, SIZE, GMEM_FLAGS_SHAREABLE));
  const addr = must(host.mmap(gm, SIZE, PROT.READ | PROT.WRITE, MAP.SHARED, 0n));
  report.vm = { fd: vm };
  report.gmem = { fd: gm, ino: Number(must(host.fstat(gm)).ino), start: `0x${addr.toString(16)}`, end: `0x${(addr + SIZE).toString(16)}` };
} else {
  throw new Error(`fd-holder: unknown mode ${mode}`);
}

process.stdout.write(`${JSON.stringify(report)}\n`);
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
