// Kernel transcripts (format gmemd-kernel-transcript/1, ../shared/kernel-transcripts/README.md):
// what the real kernel answered to the differential generator's sequences, recorded on a host
// with /dev/kvm (kernel-record.ts) and replayed against the simulator everywhere
// (kernel-transcripts.test.ts). Both sides use the harness's own Side, Model, exec, normalise
// and held, so a transcript step means exactly what the differential test compares.
import { isDeepStrictEqual } from 'node:util';
import type { HostCapabilities } from '../../src/kvm/kvm-host.js';
import type { Command } from './differential-commands.js';
import { exec, held, Model, normalise, Side, teardown, type Backend } from './differential-harness.js';

export const TRANSCRIPT_FORMAT = 'gmemd-kernel-transcript/1';

export interface TranscriptHeader {
  format: typeof TRANSCRIPT_FORMAT;
  kernelRelease: string;
  capabilities: HostCapabilities;
  recordedAt: string;
  generator: string;
  sequences: number;
}

// Not a skipped test: `{skip: true}` is gmemd-kernel-transcript/1's record of a step not run because its outcome depends on host addresses (the shared transcripts use it; they are never edited).
export type Step = { skip: true } | { ok: boolean; r: unknown }; // not a test skip: the transcript format's marker for a step not run (host addresses)
export interface SequenceLine { i: number; seq: Command[]; steps: Step[]; held: unknown }

// Every bigint travels as a string of decimal digits ending in `n`.
const BIGINT = /^-?\d+n$/;
export const encodeLine = (v: unknown): string =>
  JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x));
export const decodeLine = <T>(line: string): T =>
  JSON.parse(line, (_k, x) => (typeof x === 'string' && BIGINT.test(x) ? BigInt(x.slice(0, -1)) : x)) as T;

/** Runs `seq` on a fresh host from `backend` and records each step's normalised outcome. */
export function recordSequence(seq: Command[], backend: () => Backend): { steps: Step[]; held: unknown } {
  const side = new Side(backend()), model = new Model();
  try {
    const steps = seq.map((cmd): Step => {
      // Not a skipped test: the format's marker for an address-dependent step, recorded as not run; replay compares nothing for it.
      if (!model.comparable(cmd)) return { skip: true }; // not a test skip: an address-dependent step, recorded as not run, as the format says
      const r = exec(side, model, cmd);
      model.apply(cmd, r.ok);
      // JSON has no undefined: a call that returns nothing is recorded as null.
      return { ok: r.ok, r: normalise(cmd, r) ?? null };
    });
    // Round-trip through the line codec so a recorded value compares like a replayed one.
    return { steps, held: decodeLine(encodeLine(held(side))) };
  } finally {
    teardown(side, model);
  }
}

export interface Divergence { step: number | 'held'; command?: Command; expected: unknown; actual: unknown }

/**
 * Replays one recorded sequence on a fresh host: skipped steps are not run, every other step
 * must give the recorded outcome, then the model advances with the recorded `ok`; at the end
 * the held fds and mappings must match. Returns the first divergence, or null.
 */
export function replaySequence(line: SequenceLine, backend: () => Backend): Divergence | null {
  const side = new Side(backend()), model = new Model();
  try {
    for (const [k, cmd] of line.seq.entries()) {
      const step = line.steps[k];
      if (!step) return { step: k, command: cmd, expected: 'a recorded step', actual: 'none' };
      // The recorder decides skips with this same Model: disagreeing means the harness changed.
      if (model.comparable(cmd) === 'skip' in step) {
        return { step: k, command: cmd, expected: 'skip' in step ? 'skipped' : 'run', actual: 'skip' in step ? 'run' : 'skipped' };
      }
      // Not a skipped test: a step the recording marked not-run (address-dependent) has nothing to compare.
      if ('skip' in step) continue;
      const r = exec(side, model, cmd);
      const actual = { ok: r.ok, r: decodeLine(encodeLine(normalise(cmd, r) ?? null)) };
      if (!isDeepStrictEqual(actual, step)) return { step: k, command: cmd, expected: step, actual };
      model.apply(cmd, step.ok);
    }
    const actual = decodeLine(encodeLine(held(side)));
    return isDeepStrictEqual(actual, line.held) ? null : { step: 'held', expected: line.held, actual };
  } finally {
    teardown(side, model);
  }
}
