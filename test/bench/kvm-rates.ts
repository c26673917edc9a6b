// Section 1: kernel ioctl rates. On a KVM host the native adapter (koffi) and the C loop of
// kvm-rates.c run in alternating rounds, so drift on a noisy 2-core machine hits both alike,
// and each loop reports median ops/s and the Node/C ratio. Without a usable /dev/kvm the
// native part says "skipped" and reports nothing. The simulator runs the same loops
// everywhere, as a cost reference for the model, never as a kernel number.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openNativeHost, type NativeKvmHost } from '../../src/kvm/native/native-host.js';
import { createSimulatedHost } from '../../src/kvm/simulated/sim-host.js';
import { LOOPS, LOOP_LABELS, runLoops, type LoopName, type LoopRun } from './kvm-loops.js';
import { fmtInt, fmtRatio, median, table } from './stats.js';

const C_SOURCE = fileURLToPath(new URL('./kvm-rates.c', import.meta.url));
const MMAP_LOCK_SOURCE = fileURLToPath(new URL('./mmap-lock.c', import.meta.url));

export interface LoopStats { medianOps: number; minOps: number; maxOps: number; fails: number }
type PerLoop = Record<LoopName, LoopStats>;

export interface KvmReport {
  iterations: number;
  rounds: number;
  compile: { ok: boolean; detail: string };
  native: { ran: true; c: PerLoop; node: PerLoop; ratio: Record<LoopName, number> } | { ran: false; skipped: string };
  simulated: PerLoop;
  /** test/bench/mmap-lock.c: an mmap while another thread creates VMs (native only). */
  mmapLock: { mappings: number; vmCreates: boolean; meanUs: number; worstUs: number }[] | { skipped: string };
}

const opsOf = (r: LoopRun) => r.n / r.seconds;

function summarize(rounds: Record<LoopName, LoopRun>[]): PerLoop {
  const out = {} as PerLoop;
  for (const loop of LOOPS) {
    const ops = rounds.map((r) => opsOf(r[loop]));
    out[loop] = { medianOps: median(ops), minOps: Math.min(...ops), maxOps: Math.max(...ops),
      fails: rounds.reduce((s, r) => s + r[loop].fails, 0) };
  }
  return out;
}

function compileC(dir: string, source = C_SOURCE, name = 'kvm-rates', extra: string[] = []): { ok: boolean; detail: string; bin: string } {
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
    const c: Record<LoopName, LoopRun>[] = [], node: Record<LoopName, LoopRun>[] = [];
    runLoops(host, Math.min(n, 2000)); // warm-up: JIT the loops and fault in koffi's call stubs
    for (let i = 0; i < rounds; i++) {
      c.push(runC(compiled.bin, n));
      node.push(runLoops(host, n));
    }
    host.close(host.kvmFd);
    const cs = summarize(c), ns = summarize(node);
    const ratio = Object.fromEntries(LOOPS.map((l) => [l, ns[l].medianOps / cs[l].medianOps])) as Record<LoopName, number>;
    native = { ran: true, c: cs, node: ns, ratio };
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

const indent = (s: string) => s.split('\n').map((l) => `   ${l}`).join('\n');
