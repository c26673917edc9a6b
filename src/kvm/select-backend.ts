// GMEMD_BACKEND: `native` (koffi over /dev/kvm, refuses to start without it), `simulated`
// (the in-process Linux 6.18 model, for hosts without KVM), or `auto` (native whenever
// /dev/kvm opens and reports KVM_CAP_GUEST_MEMFD, else simulated, saying why).
import type { KvmHost } from './kvm-host.js';
import { openNativeHost } from './native/native-host.js';
import { createSimulatedHost } from './simulated/sim-host.js';

export type BackendChoice = 'auto' | 'native' | 'simulated';

/** `fellBack`: `auto` found /dev/kvm unusable and chose the simulator (the server warns). */
export interface Selected { host: KvmHost; note: string; fellBack: boolean }

export function parseBackend(value: string | undefined): BackendChoice {
  const v = (value ?? 'auto').trim() || 'auto';
  if (v === 'auto' || v === 'native' || v === 'simulated') return v;
  throw new Error(`GMEMD_BACKEND must be auto, native or simulated, not "${v}"`);
}

export function selectBackend(choice: BackendChoice, kvmPath = '/dev/kvm'): Selected {
  if (choice === 'simulated') return { host: createSimulatedHost(), note: 'simulated backend (GMEMD_BACKEND=simulated)', fellBack: false };
  const native = openNativeHost(kvmPath);
  if (native.ok) return { host: native.host, note: `native backend on ${kvmPath}`, fellBack: false };
  if (choice === 'native') throw new Error(`GMEMD_BACKEND=native but ${kvmPath} is unusable: ${native.reason}`);
  return { host: createSimulatedHost(), note: `simulated backend: ${kvmPath} is unusable (${native.reason})`, fellBack: true };
}
