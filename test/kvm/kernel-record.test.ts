// npm run kernel:record: on /dev/kvm it writes a transcript the simulator replays cleanly;
// without KVM it exits 2 with one line saying why (shown here with a device that does not exist).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { createSimulatedHost } from '../../src/kvm/simulated/sim-host.js';
import { needsGuestMemfd } from '../support/kvm.js';
import { tempDir } from '../support/tmp.js';
import { decodeLine, replaySequence, TRANSCRIPT_FORMAT, type SequenceLine, type TranscriptHeader } from './transcript.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const record = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'test/kvm/kernel-record.ts', ...args],
  { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });

test('kernel:record without KVM exits 2 with one clear line', () => {
  const tmp = tempDir('gmemd-record-nokvm-');
  after(tmp.cleanup);
  const r = record('--runs', '1', '--device', '/nonexistent/kvm', '--out', tmp.dir);
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^kernel:record: needs \/dev\/kvm .*open \/nonexistent\/kvm: ENOENT\n$/);
});

test('kernel:record on /dev/kvm writes a transcript that the simulator replays', needsGuestMemfd(), () => {
  const tmp = tempDir('gmemd-record-');
  after(tmp.cleanup);
  const out = tmp.dir;
  const r = record('--runs', '12', '--seed', '42', '--out', out);
  assert.equal(r.status, 0, r.stderr);
  const [file] = readdirSync(out);
  const lines = readFileSync(join(out, file!), 'utf8').trimEnd().split('\n');
  const header = decodeLine<TranscriptHeader>(lines[0]!);
  assert.equal(header.format, TRANSCRIPT_FORMAT);
  assert.equal(header.sequences, 12);
  assert.equal(header.capabilities.guestMemfd, 1);
  assert.match(header.generator, /fast-check seed 42$/);
  assert.equal(lines.length, 13);
  for (const l of lines.slice(1)) {
    const line = decodeLine<SequenceLine>(l);
    assert.equal(line.steps.length, line.seq.length);
    assert.equal(replaySequence(line, () => ({ host: createSimulatedHost() })), null, `sequence ${line.i}`);
  }
  // The same seed gives the same sequences (the README's "byte-identical sequence lines").
  const again = record('--runs', '12', '--seed', '42', '--out', out);
  assert.equal(again.status, 0, again.stderr);
  const second = readdirSync(out).find((f) => f !== file)!;
  const seqs = (f: string) => readFileSync(join(out, f), 'utf8').trimEnd().split('\n').slice(1).map((l) => JSON.stringify(JSON.parse(l).seq));
  assert.deepEqual(seqs(second), seqs(file!));
});
