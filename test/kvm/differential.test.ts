// The simulator earns its place only by being faithful (DESIGN.md §3): fast-check generates
// operation sequences mixing valid and invalid calls, each runs on a fresh native host over
// /dev/kvm and a fresh simulated host, and every step must end the same way. Needs /dev/kvm.
import { test } from 'node:test';
import fc from 'fast-check';
import { openNativeHost } from '../../src/kvm/native/native-host.js';
import { createSimulatedHost } from '../../src/kvm/simulated/sim-host.js';
import { needsGuestMemfd } from '../support/kvm.js';
import { sequence } from './differential-commands.js';
import { runDifferential, type Backend } from './differential-harness.js';

function native(): Backend {
  const opened = openNativeHost();
  if (!opened.ok) throw new Error(`native host unavailable: ${opened.reason}`);
  const host = opened.host;
  return { host, dispose: () => host.close(host.kvmFd) };
}

test('differential: generated operation sequences end identically on the native and the simulated host', needsGuestMemfd(), () => {
  fc.assert(fc.property(sequence, (seq) => runDifferential(seq, native, () => ({ host: createSimulatedHost() }))), { numRuns: 200 });
});
