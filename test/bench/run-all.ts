// `npm run bench`: kernel ioctl rates (native vs C, and the simulator), HTTP scenarios
// against baselines measured in the same run, then the audit ledger bench if present.
// Results are ratios against those same-run baselines: these 2-core machines are too noisy
// for absolute times to mean much on their own. JSON goes to test/bench/results/<timestamp>.json.
// Env: BENCH_SECONDS (10), BENCH_WARMUP_SECONDS (1), BENCH_CONNECTIONS (32),
// BENCH_KVM_ITERS (20000), BENCH_KVM_ROUNDS (5), BENCH_SKIP_AUDIT=1, BENCH_SKIP_SCALE=1 (and
// scale-bench.ts's own BENCH_SCALE_*), BENCH_AUDIT_ARGS (passed to
// audit-bench.ts), GMEMD_BACKEND (the gmemd server's backend, default auto).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchKvm, printKvm, type KvmReport } from './kvm-rates.js';
import { benchHttp, type HttpReport } from './http-bench.js';
import { httpRatios, printHttp } from './http-report.js';
import { warnOtherHolders } from './other-holders.js';
import { benchVmCreateScaling, printMixCeiling, printVmCreateScaling, type VmCreateScaling } from './vm-create-scaling.js';

const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, not "${raw}"`);
  return n;
}

const settings = {
  seconds: envNumber('BENCH_SECONDS', 10),
  warmupSeconds: envNumber('BENCH_WARMUP_SECONDS', 1),
  connections: envNumber('BENCH_CONNECTIONS', 32),
  kvmIterations: envNumber('BENCH_KVM_ITERS', 20_000),
  kvmRounds: Math.max(1, envNumber('BENCH_KVM_ROUNDS', 5)),
};
const machine = {
  cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memGiB: +(totalmem() / 2 ** 30).toFixed(1),
  kernel: release(), node: process.version,
};
const startedAt = new Date();
const tmp = mkdtempSync(join(tmpdir(), 'gmemd-bench-'));

console.log(`gmemd bench ${startedAt.toISOString()}: ${machine.cpus} CPUs (${machine.cpuModel}), kernel ${machine.kernel}, node ${machine.node}`);
console.log('Load generator (autocannon, this process) and each server (a child process) share these cores.');
const otherHolders = warnOtherHolders('before section 1');

let kvm: KvmReport | undefined, http: HttpReport | undefined, vmCreateScaling: VmCreateScaling | undefined;
let audit: { ran: boolean; note: string; exitCode?: number | null } = { ran: false, note: 'test/bench/audit-bench.ts absent' };
let failed = false;
try {
  kvm = benchKvm({ iterations: settings.kvmIterations, rounds: settings.kvmRounds, tmpDir: tmp });
  printKvm(kvm);
  vmCreateScaling = benchVmCreateScaling(tmp, kvm.native.ran ? null : kvm.native.skipped);
  printVmCreateScaling(vmCreateScaling);

  console.log(`\n== 2. HTTP on 127.0.0.1: autocannon, ${settings.connections} connections, ${settings.seconds} s per scenario (+${settings.warmupSeconds} s warm-up) ==`);
  http = await benchHttp({ seconds: settings.seconds, warmupSeconds: settings.warmupSeconds, connections: settings.connections, tmpDir: tmp });
  printHttp(http);
  printMixCeiling(vmCreateScaling, http);
} catch (e) {
  failed = true;
  console.error('\nbench failed:', e);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

// The audit bench is another engineer's script: run it as its own process, untouched.
const auditScript = join(BENCH_DIR, 'audit-bench.ts');
if (!failed && existsSync(auditScript)) {
  if (process.env.BENCH_SKIP_AUDIT === '1') {
    audit = { ran: false, note: 'skipped (BENCH_SKIP_AUDIT=1)' };
    console.log('\n== 3. Audit ledger: skipped (BENCH_SKIP_AUDIT=1) ==');
  } else {
    const args = (process.env.BENCH_AUDIT_ARGS ?? '').split(/\s+/).filter(Boolean);
    console.log(`\n== 3. Audit ledger: test/bench/audit-bench.ts ${args.join(' ')} (building the ledger takes a while) ==`);
    const r = spawnSync(process.execPath, ['--import', 'tsx', auditScript, ...args], { stdio: 'inherit' });
    audit = { ran: true, note: `test/bench/audit-bench.ts ${args.join(' ')}`.trim(), exitCode: r.status };
    if (r.status !== 0) { failed = true; console.error(`audit bench exited ${r.status ?? r.signal}`); }
  }
}

// Section 4: the compiled service at scale (test/bench/scale-bench.ts, its own process).
let scale: { ran: boolean; note: string; exitCode?: number | null } = { ran: false, note: 'skipped (BENCH_SKIP_SCALE=1)' };
if (!failed && process.env.BENCH_SKIP_SCALE !== '1') {
  console.log('\n== 4. Scale: test/bench/scale-bench.ts (npm run bench:scale; building the ledger through HTTP takes a while) ==');
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(BENCH_DIR, 'scale-bench.ts')], { stdio: 'inherit' });
  scale = { ran: true, note: 'test/bench/scale-bench.ts', exitCode: r.status };
  if (r.status !== 0) { failed = true; console.error(`scale bench exited ${r.status ?? r.signal}`); }
}

const resultsDir = join(BENCH_DIR, 'results');
mkdirSync(resultsDir, { recursive: true });
const file = join(resultsDir, `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(file, `${JSON.stringify({
  startedAt: startedAt.toISOString(), machine, settings, otherHolders, kvm, vmCreateScaling, http, httpRatios: http && httpRatios(http), audit, scale, failed,
}, null, 2)}\n`);
console.log(`\nresults: ${file}`);
// fetch's keep-alive sockets (scenario setup) would hold the process open for seconds.
process.exit(failed ? 1 : 0);
