// The kernel oracle for machines without /dev/kvm: every transcript recorded on a KVM host
// (../shared/kernel-transcripts/*.jsonl, written by `npm run kernel:record`) is replayed
// against the simulator, step by step. A divergence is a simulator bug to fix, never a
// transcript to edit. GMEMD_TRANSCRIPTS names another folder (e.g. a fresh recording).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { createSimulatedHost } from '../../src/kvm/simulated/sim-host.js';
import { decodeLine, encodeLine, replaySequence, TRANSCRIPT_FORMAT, type SequenceLine, type TranscriptHeader } from './transcript.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DIR = resolve(ROOT, process.env.GMEMD_TRANSCRIPTS ?? '../shared/kernel-transcripts');
const files = existsSync(DIR) ? readdirSync(DIR).filter((f) => f.endsWith('.jsonl')).sort() : [];

if (files.length === 0) {
  test('kernel transcripts: replay against the simulator', { skip: `no *.jsonl transcripts in ${DIR}` }, () => {});
}

for (const file of files) {
  test(`kernel transcript ${file}: the simulator answers every recorded step as the kernel did`, () => {
    const lines = readFileSync(join(DIR, file), 'utf8').split('\n').filter((l) => l.length > 0);
    const header = decodeLine<TranscriptHeader>(lines[0]!);
    assert.equal(header.format, TRANSCRIPT_FORMAT, `${file}:1: unknown format`);
    assert.equal(lines.length - 1, header.sequences, `${file}: header announces ${header.sequences} sequences`);
    let steps = 0;
    for (let n = 1; n < lines.length; n++) {
      const line = decodeLine<SequenceLine>(lines[n]!);
      const d = replaySequence(line, () => ({ host: createSimulatedHost() }));
      if (d) {
        const at = d.step === 'held' ? 'held fds and mappings at the end' : `step ${d.step}: ${encodeLine(d.command)}`;
        assert.fail(`${file}:${n + 1} (sequence ${line.i}), ${at}\n  kernel:    ${encodeLine(d.expected)}\n  simulator: ${encodeLine(d.actual)}`);
      }
      steps += line.steps.filter((s) => !('skip' in s)).length;
    }
    assert.ok(steps > 0, `${file}: no step was run`);
  });
}
