// npm run kernel:record [-- --runs N --seed S --out DIR --device PATH]: records what the real kernel answers
// to the differential generator's sequences (differential-commands.ts `sequence`), on the
// native host only, as a transcript in format gmemd-kernel-transcript/1
// (../shared/kernel-transcripts/README.md). Machines without /dev/kvm replay it against the
// simulator (kernel-transcripts.test.ts). Needs /dev/kvm: without it, exits 2 with one line.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { openNativeHost } from '../../src/kvm/native/native-host.js';
import { sequence } from './differential-commands.js';
import { encodeLine, recordSequence, TRANSCRIPT_FORMAT, type TranscriptHeader } from './transcript.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '500' },
    device: { type: 'string', default: '/dev/kvm' },
    seed: { type: 'string', default: String(Date.now() % 2 ** 31) },
    // Ignored by git: transcripts are kept beside the project (../shared/kernel-transcripts/).
    out: { type: 'string', default: '.tmp/kernel-transcripts' },
  },
});
const runs = Number(values.runs), seed = Number(values.seed);
if (!Number.isSafeInteger(runs) || runs < 1 || !Number.isSafeInteger(seed)) {
  console.error('kernel:record: --runs must be a positive integer and --seed an integer');
  process.exit(2);
}

const probe = openNativeHost(values.device);
if (!probe.ok) {
  console.error(`kernel:record: needs /dev/kvm with KVM_CAP_GUEST_MEMFD on this host: ${probe.reason}`);
  process.exit(2);
}
const caps = probe.host.capabilities();
probe.host.close(probe.host.kvmFd);
if (!caps.ok) {
  console.error(`kernel:record: KVM_CHECK_EXTENSION failed: ${caps.error.message}`);
  process.exit(2);
}

const native = () => {
  const opened = openNativeHost(values.device);
  if (!opened.ok) throw new Error(`native host unavailable: ${opened.reason}`);
  const host = opened.host;
  return { host, dispose: () => host.close(host.kvmFd) };
};

let commit = 'unknown';
try { commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim(); } catch { /* not a checkout */ }

// The same sequences fast-check would generate for this seed, in order.
const seqs = fc.sample(sequence, { numRuns: runs, seed });
const recordedAt = new Date().toISOString();
const header: TranscriptHeader = {
  format: TRANSCRIPT_FORMAT, kernelRelease: release(), capabilities: caps.value, recordedAt,
  generator: `test/kvm/differential-commands.ts sequence at ${commit}, fast-check seed ${seed}`, sequences: runs,
};
const lines = [encodeLine(header)];
let run = 0, skipped = 0;
seqs.forEach((seq, i) => {
  const { steps, held } = recordSequence(seq, native);
  for (const s of steps) if ('skip' in s) skipped++; else run++;
  lines.push(encodeLine({ i, seq, steps, held }));
});

const dir = resolve(values.out!);
mkdirSync(dir, { recursive: true });
const name = `${release()}-${recordedAt.slice(0, 10)}`;
// Never overwrite an earlier recording of the same day.
const file = [join(dir, `${name}.jsonl`), join(dir, `${name}-seed${seed}.jsonl`)].find((f) => !existsSync(f)) ?? join(dir, `${name}-seed${seed}-${Date.now()}.jsonl`);
writeFileSync(file, lines.join('\n') + '\n');
console.log(`kernel:record: ${runs} sequences, ${run} steps run, ${skipped} skipped -> ${file}`);
