// Section 1, last table: KVM_CREATE_VM's rate in C as the process holds more mappings
// (test/bench/vm-create-scaling.c), and from it the kernel's own ceiling for the (f) mix.
// Every (f) cycle of four requests creates one VM and one mapped inode and leaves both
// behind, and each VM create walks every mapping of the process (mm_take_all_locks, under
// the mmap lock held for writing), so the rate at which the kernel alone can create VMs
// falls as the run goes on: 4 x that rate is the most (f) requests/s any server could
// answer once the process holds that many mappings, whatever it does in user space.
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { HttpReport } from './http-bench.js';
import { compileC } from './kvm-rates.js';
import { fmtInt, fmtRatio, indent, table } from './stats.js';

const SOURCE = fileURLToPath(new URL('./vm-create-scaling.c', import.meta.url));
/** Requests of the (f) mix per VM create (and per mapped inode): its chain of four steps. */
export const MIX_REQUESTS_PER_VM = 4;

export interface ScalingRow { mappings: number; threads: number; createsPerSec: number; meanUs: number }
export type VmCreateScaling = { ran: true; rows: ScalingRow[] } | { ran: false; skipped: string };

/** `nativeSkipped`: why section 1 could not measure the native backend (null when it did). */
export function benchVmCreateScaling(tmpDir: string, nativeSkipped: string | null): VmCreateScaling {
  // KVM_CREATE_VM may work where guest_memfd does not, but the mix this bounds needs the native backend.
  if (nativeSkipped !== null) return { ran: false, skipped: `the mix it bounds runs on the simulator here: ${nativeSkipped}` };
  const c = compileC(tmpDir, SOURCE, 'vm-create-scaling', ['-pthread']);
  if (!c.ok) return { ran: false, skipped: `did not compile: ${c.detail}` };
  const r = spawnSync(c.bin, [String(Math.min(16, cpus().length)), '0.5'], { encoding: 'utf8' });
  if (r.status !== 0) return { ran: false, skipped: `exited ${r.status ?? r.signal}: ${r.stderr.trim()}` };
  const rows = r.stdout.trim().split('\n').map((l) => {
    const [mappings, threads, createsPerSec, meanUs] = l.split(' ').map(Number);
    return { mappings: mappings!, threads: threads!, createsPerSec: createsPerSec!, meanUs: meanUs! };
  });
  return { ran: true, rows };
}

/** Per mapping count, the faster of the thread counts tried: the kernel's best, not a typical rate. */
export function ceilings(s: VmCreateScaling): { mappings: number; createsPerSec: number; mixReqPerSec: number }[] {
  if (!s.ran) return [];
  const best = new Map<number, number>();
  for (const r of s.rows) best.set(r.mappings, Math.max(best.get(r.mappings) ?? 0, r.createsPerSec));
  return [...best].map(([mappings, createsPerSec]) => ({ mappings, createsPerSec, mixReqPerSec: createsPerSec * MIX_REQUESTS_PER_VM }));
}

export function printVmCreateScaling(s: VmCreateScaling): void {
  if (!s.ran) { console.log(`   KVM_CREATE_VM against mappings held (C): skipped: ${s.skipped}`); return; }
  console.log('   KVM_CREATE_VM against mappings held (C, test/bench/vm-create-scaling.c; the VMs stay open, as the mix keeps them; 0.5 s or 1,500 creates a case):');
  console.log('   each create walks every mapping of the process with its mmap lock held for writing');
  const threads = [...new Set(s.rows.map((r) => r.threads))].sort((a, b) => a - b);
  const rows = ceilings(s).map((c) => {
    const at = (t: number) => s.rows.find((r) => r.mappings === c.mappings && r.threads === t);
    return [fmtInt(c.mappings), ...threads.flatMap((t) => { const r = at(t); return r ? [fmtInt(r.createsPerSec), fmtInt(r.meanUs)] : ['—', '—']; }),
      fmtInt(c.mixReqPerSec)];
  });
  console.log(indent(table(['mappings', ...threads.flatMap((t) => [`${t} thread${t > 1 ? 's' : ''}: creates/s`, 'µs a create']),
    `(f) ceiling req/s (${MIX_REQUESTS_PER_VM} x best)`], rows)));
}

/**
 * Seconds of VM creation alone, in the kernel, for `creates` creates made one after another as
 * the mappings grow by one a create (what the mix does): the time a create takes interpolated
 * between the measured mapping counts, and past the last one extended along the last two
 * (a create's time grows linearly with the mappings, mm_take_all_locks walking each).
 */
export function kernelSecondsFor(s: VmCreateScaling, creates: number): number {
  const pts = ceilings(s).map((c) => ({ n: c.mappings, us: 1e6 / c.createsPerSec })).sort((a, b) => a.n - b.n);
  if (pts.length < 2) return NaN;
  const usAt = (n: number) => {
    let i = pts.findIndex((p) => p.n >= n);
    if (i <= 0) i = i === 0 ? 1 : pts.length - 1;
    const a = pts[i - 1]!, b = pts[i]!;
    return a.us + ((b.us - a.us) * (n - a.n)) / (b.n - a.n);
  };
  const step = 100;
  let us = 0;
  for (let n = 0; n < creates; n += step) us += usAt(n + step / 2) * Math.min(step, creates - n);
  return us / 1e6;
}

/** After section 2: the (f) run beside the kernel's ceiling, both against the same run's (b). */
export function printMixCeiling(s: VmCreateScaling, http: HttpReport): void {
  const f = http.scenarios.find((x) => x.id === 'f'), b = http.scenarios.find((x) => x.id === 'b');
  const cs = ceilings(s);
  if (!f || !b || cs.length === 0) return;
  // The (f) server served the warm-up too: both leave their VMs and inodes behind.
  const mappingsAtEnd = (f.load.reqPerSec * (http.seconds + http.warmupSeconds)) / MIX_REQUESTS_PER_VM;
  const target = 2 * b.opsPerSec;
  console.log(`   (f) against the kernel's ceiling (section 1, KVM_CREATE_VM in C): (f) ran ${fmtInt(f.opsPerSec)} req/s and ended with ~${fmtInt(mappingsAtEnd)} mapped inodes;`);
  console.log(`   ${MIX_REQUESTS_PER_VM} x the kernel's VM creates/s = ${cs.map((c) => `${fmtInt(c.mixReqPerSec)} (${fmtRatio(c.mixReqPerSec / b.opsPerSec)}x (b)) at ${fmtInt(c.mappings)}`).join(', ')} mappings;`);
  const over = cs.filter((c) => c.mixReqPerSec < target).map((c) => c.mappings);
  console.log(over.length
    ? `   2 x (b) = ${fmtInt(target)} req/s is beyond the kernel alone from ${fmtInt(Math.min(...over))} mappings on, which such a run would pass within ${fmtRatio(Math.min(...over) * MIX_REQUESTS_PER_VM / target)} s.`
    : `   2 x (b) = ${fmtInt(target)} req/s is within the kernel's ceiling at every mapping count measured.`);
  const seconds = http.seconds + http.warmupSeconds;
  const creates = (target * seconds) / MIX_REQUESTS_PER_VM;
  console.log(`   the ${seconds.toFixed(0)} s of (f) (warm-up included) at 2 x (b) would create ${fmtInt(creates)} VMs: ${kernelSecondsFor(s, creates).toFixed(1)} s of KVM_CREATE_VM in the kernel alone, at the best rates above.`);
}

