// Section 1: kernel ioctl rates. On a KVM host the native adapter (koffi) and the C loop of
// kvm-rates.c run in alternating rounds, so drift on a noisy 2-core machine hits both alike,
// and each loop reports median ops/s and the Node/C ratio. Without a usable /dev/kvm the
// native part says "skipped" and reports nothing. The simulator runs the same loops
// everywhere, as a cost reference for the model, never as a kernel number.
// The create+close loop is also timed in C inside this process (kvm-rates.c built as a shared
// library, called once a round through koffi): the kernel's part of a create+close need not
// cost the same in a process with Node's threads, fds and mappings as in the small C
// process, and against the in-process loop only the FFI and the adapter differ. close(-1)
// in C and through koffi gives the per-call overhead itself.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import koffi from 'koffi';
import { fileURLToPath } from 'node:url';
import { openNativeHost, type NativeKvmHost } from '../../src/kvm/native/native-host.js';
import { sys } from '../../src/kvm/native/libc.js';
import { createSimulatedHost } from '../../src/kvm/simulated/sim-host.js';
import { LOOPS, LOOP_LABELS, runLoops, type LoopName, type LoopRun } from './kvm-loops.js';
import { fmtInt, fmtRatio, indent, median, table } from './stats.js';

const C_SOURCE = fileURLToPath(new URL('./kvm-rates.c', import.meta.url));
const MMAP_LOCK_SOURCE = fileURLToPath(new URL('./mmap-lock.c', import.meta.url));

export interface LoopStats { medianOps: number; minOps: number; maxOps: number; fails: number }
type PerLoop = Record<LoopName, LoopStats>;

export interface KvmReport {
  iterations: number;
  rounds: number;
  compile: { ok: boolean; detail: string };
  native: { ran: true; c: PerLoop; node: PerLoop; ratio: Record<LoopName, number>;
    /** The C create+close loop run inside this process, and koffi's ratio against it. */
    inProcess: { c: LoopStats; ratio: number; closeInvalidNs: { c: number; koffi: number } } } | { ran: false; skipped: string };
  simulated: PerLoop;
  /** test/bench/mmap-lock.c: an mmap while another thread creates VMs (native only). */
  mmapLock: { mappings: number; vmCreates: boolean; meanUs: number; worstUs: number }[] | { skipped: string };
}

const opsOf = (r: LoopRun) => r.n / r.seconds;

function stats(runs: LoopRun[]): LoopStats {
  const ops = runs.map(opsOf);
  return { medianOps: median(ops), minOps: Math.min(...ops), maxOps: Math.max(...ops), fails: runs.reduce((s, r) => s + r.fails, 0) };
}

function summarize(rounds: Record<LoopName, LoopRun>[]): PerLoop {
  return Object.fromEntries(LOOPS.map((loop) => [loop, stats(rounds.map((r) => r[loop]))])) as PerLoop;
}

export function compileC(dir: string, source = C_SOURCE, name = 'kvm-rates', extra: string[] = []): { ok: boolean; detail: string; bin: string } {
  const bin = join(dir, name);
  try {
    execFileSync('gcc', ['-O2', '-Wall', '-Werror', ...extra, '-o', bin, source], { stdio: ['ignore', 'pipe', 'pipe'] });
    return { ok: true, detail: `gcc -O2 test/bench/${name}.c`, bin };
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    return { ok: false, detail: (err.stderr?.toString() || err.message).trim(), bin };
  }
}

/** One run of the C binary; a non-zero exit (e.g. 2: /dev/kvm unusable) is an error, not numbers. */
function runC(bin: string, n: number): Record<LoopName, LoopRun> {
  const r = spawnSync(bin, [String(n)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`C loop exited ${r.status ?? r.signal}: ${r.stderr.trim()}`);
  const out = {} as Record<LoopName, LoopRun>;
  for (const line of r.stdout.trim().split('\n')) {
    const [name, iters, secs, fails] = line.split(' ');
    out[name as LoopName] = { n: Number(iters), seconds: Number(secs), fails: Number(fails) };
  }
  for (const loop of LOOPS) if (!out[loop]) throw new Error(`C loop printed no ${loop} line`);
  return out;
}

/** The native adapter, or why it cannot be measured here. */
function openNative(): { host: NativeKvmHost } | { skipped: string } {
  if (!existsSync('/dev/kvm')) return { skipped: '/dev/kvm absent' };
  const r = openNativeHost();
  return r.ok ? { host: r.host } : { skipped: r.reason };
}

export function benchKvm(opts: { iterations: number; rounds: number; tmpDir: string }): KvmReport {
  const { iterations: n, rounds } = opts;
  const compiled = compileC(opts.tmpDir);
  let native: KvmReport['native'];
  const opened = openNative();
  if ('skipped' in opened || !compiled.ok) {
    if ('host' in opened) opened.host.close(opened.host.kvmFd);
    native = { ran: false, skipped: 'skipped' in opened ? opened.skipped : `C reference did not compile: ${compiled.detail}` };
  } else {
    const { host } = opened;
    const inProcess = loadInProcessC(opts.tmpDir);
    const c: Record<LoopName, LoopRun>[] = [], node: Record<LoopName, LoopRun>[] = [], inC: LoopRun[] = [];
    const callC: LoopRun[] = [], callKoffi: LoopRun[] = [];
    runLoops(host, Math.min(n, 2000)); // warm-up: JIT the loops and fault in koffi's call stubs
    for (let i = 0; i < rounds; i++) {
      c.push(runC(compiled.bin, n));
      node.push(runLoops(host, n));
      inC.push(inProcess.createClose(host, n));
      const calls = inProcess.closeInvalid(10 * n);
      callC.push(calls.c);
      callKoffi.push(calls.koffi);
    }
    host.close(host.kvmFd);
    const cs = summarize(c), ns = summarize(node);
    const ratio = Object.fromEntries(LOOPS.map((l) => [l, ns[l].medianOps / cs[l].medianOps])) as Record<LoopName, number>;
    const inCs = stats(inC);
    const nsPerCall = (runs: LoopRun[]) => 1e9 / stats(runs).medianOps;
    native = { ran: true, c: cs, node: ns, ratio,
      inProcess: { c: inCs, ratio: ns['gmem-create-close'].medianOps / inCs.medianOps,
        closeInvalidNs: { c: nsPerCall(callC), koffi: nsPerCall(callKoffi) } } };
  }
  const mmapLock = native.ran ? runMmapLock(opts.tmpDir) : { skipped: native.skipped };
  const sim = createSimulatedHost();
  runLoops(sim, Math.min(n, 2000));
  const simulated = summarize(Array.from({ length: rounds }, () => {
    // Drop the dead VMs and files of earlier rounds now, so no round pays for another's
    // (the simulator otherwise prunes them only as its sets grow).
    sim.inspect();
    return runLoops(sim, n);
  }));
  return { iterations: n, rounds, compile: { ok: compiled.ok, detail: compiled.detail }, native, simulated, mmapLock };
}

/** kvm-rates.c's loops as a shared library in this process: create+close in a fresh VM of
 *  `host`, and close(-1) n times in C and through the adapter's own koffi declaration. */
function loadInProcessC(dir: string) {
  const file = join(dir, 'kvm-rates-loop.so');
  execFileSync('gcc', ['-O2', '-Wall', '-Werror', '-shared', '-fPIC', '-DKVM_RATES_LIB', '-o', file, C_SOURCE], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lib = koffi.load(file);
  const createClose = lib.func('int kvm_rates_gmem_create_close(int vm, int n)');
  const closeInvalid = lib.func('int kvm_rates_close_invalid(int n)');
  const timedCall = (n: number, call: () => number): LoopRun => {
    const t = process.hrtime.bigint();
    const fails = call();
    return { n, seconds: Number(process.hrtime.bigint() - t) / 1e9, fails };
  };
  return {
    createClose: (host: NativeKvmHost, n: number): LoopRun => {
      const vm = host.createVm(0);
      if (!vm.ok) throw new Error(`KVM_CREATE_VM: ${vm.error.message}`);
      try {
        return timedCall(n, () => createClose(vm.value, n) as number);
      } finally {
        host.close(vm.value);
      }
    },
    closeInvalid: (n: number): { c: LoopRun; koffi: LoopRun } => ({
      c: timedCall(n, () => closeInvalid(n) as number),
      koffi: timedCall(n, () => {
        let fails = 0;
        for (let i = 0; i < n; i++) fails += sys.close(-1) === 0 ? 1 : 0;
        return fails;
      }),
    }),
  };
}

function runMmapLock(dir: string): KvmReport['mmapLock'] {
  const c = compileC(dir, MMAP_LOCK_SOURCE, 'mmap-lock', ['-pthread']);
  if (!c.ok) return { skipped: `did not compile: ${c.detail}` };
  const r = spawnSync(c.bin, [], { encoding: 'utf8' });
  if (r.status !== 0) return { skipped: `exited ${r.status ?? r.signal}: ${r.stderr.trim()}` };
  return r.stdout.trim().split('\n').map((l) => {
    const [mappings, vm, mean, worst] = l.split(' ').map(Number);
    return { mappings: mappings!, vmCreates: vm === 1, meanUs: mean!, worstUs: worst! };
  });
}

const range = (s: LoopStats) => `${fmtInt(s.medianOps)} [${fmtInt(s.minOps)}–${fmtInt(s.maxOps)}]`;
const failNote = (s: LoopStats) => (s.fails ? ` (${s.fails} FAILED CALLS: invalid)` : '');

export function printKvm(r: KvmReport): void {
  console.log(`\n== 1. Kernel ioctl rates: ${fmtInt(r.iterations)} iterations x ${r.rounds} rounds, median [min–max] ops/s ==`);
  console.log('   one op = one create+close, or one create+delete pair (2 ioctls) for the memslot loops');
  console.log(`   C reference: ${r.compile.ok ? `compiled (${r.compile.detail})` : `did not compile: ${r.compile.detail}`}`);
  if (!r.native.ran) {
    console.log(`   native backend (koffi) vs C: skipped: ${r.native.skipped}`);
  } else {
    const { c, node, ratio } = r.native;
    console.log('   native backend (koffi, through NativeKvmHost) vs C, alternating rounds:');
    console.log(indent(table(['loop', 'C ops/s', 'Node+koffi ops/s', 'Node/C'],
      LOOPS.map((l) => [LOOP_LABELS[l], range(c[l]) + failNote(c[l]), range(node[l]) + failNote(node[l]), fmtRatio(ratio[l])]))));
    const inp = r.native.inProcess;
    console.log(`   the create+close loop in C inside this Node process (kvm-rates.c as a shared library): ${range(inp.c)}${failNote(inp.c)} ops/s;`);
    console.log(`   Node/C in-process ${fmtRatio(inp.ratio)} (only the FFI and the adapter differ), Node/C own process ${fmtRatio(ratio['gmem-create-close'])}`);
    const call = inp.closeInvalidNs;
    console.log(`   one close(-1) (EBADF), median ns: C ${call.c.toFixed(0)}, koffi (libc.ts's declaration) ${call.koffi.toFixed(0)}: ${(call.koffi - call.c).toFixed(0)} ns a call`);
  }
  if ('skipped' in r.mmapLock) console.log(`   mmap beside VM creates (C): skipped: ${r.mmapLock.skipped}`);
  else {
    console.log('   mmap of 64 KiB while another thread creates VMs (C, test/bench/mmap-lock.c): why gmemd maps inodes off the event loop');
    console.log(indent(table(['other mappings', 'VM creates meanwhile', 'mean µs', 'worst µs'],
      r.mmapLock.map((m) => [fmtInt(m.mappings), m.vmCreates ? 'yes' : 'no', m.meanUs.toFixed(1), fmtInt(m.worstUs)]))));
  }
  console.log('   SIMULATOR (in-process model of the kernel; a cost reference, NOT a kernel number):');
  console.log(indent(table(['loop', 'simulator ops/s', 'µs/op'],
    LOOPS.map((l) => [LOOP_LABELS[l], range(r.simulated[l]) + failNote(r.simulated[l]), (1e6 / r.simulated[l].medianOps).toFixed(2)]))));
}

