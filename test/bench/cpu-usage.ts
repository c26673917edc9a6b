// Where the machine's CPU went during a measured run: the whole machine (/proc/stat), the
// server process and its main thread (/proc/PID/stat, /proc/PID/task/PID/stat), and the
// load generator (this process). A scenario whose cores are all busy cannot go faster by
// moving work to another thread of the same machine, only by doing less of it; one whose
// server main thread is near 1.0 core is bound by its event loop. Linux only; a field that
// cannot be read is null.
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/** Cores in use on average over the run (1.0 = one core busy the whole time). */
export interface CpuUsage {
  cores: number;
  machineBusy: number | null;
  server: number | null;
  serverMainThread: number | null;
  loadGenerator: number;
}

// USER_HZ: the unit of the tick counts in /proc (100 on every Linux ABI that Node runs on).
const TICKS_PER_SECOND = 100;

function machineTicks(): { busy: number; total: number } | null {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already inside user)
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: total - f[3]! - f[4]!, total };
  } catch { return null; }
}

/** utime + stime of a process or thread, in ticks (fields 14 and 15, after the comm in parentheses). */
function taskTicks(path: string): number | null {
  try {
    const s = readFileSync(path, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch { return null; }
}

/** Starts counting; the returned function stops and gives the averages over the interval. */
export function cpuMeter(serverPid: number | null): () => CpuUsage {
  const t0 = performance.now();
  const m0 = machineTicks();
  const s0 = serverPid === null ? null : taskTicks(`/proc/${serverPid}/stat`);
  const th0 = serverPid === null ? null : taskTicks(`/proc/${serverPid}/task/${serverPid}/stat`);
  const l0 = process.cpuUsage();
  return () => {
    const seconds = (performance.now() - t0) / 1000;
    const m1 = machineTicks();
    const s1 = serverPid === null ? null : taskTicks(`/proc/${serverPid}/stat`);
    const th1 = serverPid === null ? null : taskTicks(`/proc/${serverPid}/task/${serverPid}/stat`);
    const l = process.cpuUsage(l0);
    const cores = cpus().length;
    const per = (a: number | null, b: number | null) => (a === null || b === null ? null : (b - a) / TICKS_PER_SECOND / seconds);
    return {
      cores,
      machineBusy: m0 && m1 && m1.total > m0.total ? ((m1.busy - m0.busy) / (m1.total - m0.total)) * cores : null,
      server: per(s0, s1),
      serverMainThread: per(th0, th1),
      loadGenerator: (l.user + l.system) / 1e6 / seconds,
    };
  };
}

const c = (v: number | null) => (v === null ? 'n/a' : v.toFixed(2));

export function describeCpu(u: CpuUsage): string {
  return `machine ${c(u.machineBusy)} of ${u.cores} cores busy; its server ${c(u.server)} (main thread ${c(u.serverMainThread)}), load generator ${c(u.loadGenerator)}`;
}
