// A gmemd app for one test: its own database file in a temp dir, the chosen backend,
// the real buildApp. HTTP goes through app.inject or supertest against app.server.
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { KvmHost } from '../../src/kvm/kvm-host.js';
import { openNativeHost } from '../../src/kvm/native/native-host.js';
import { createSimulatedHost } from '../../src/kvm/simulated/sim-host.js';
import { Store } from '../../src/store/store.js';
import { createContext, type ServiceContext } from '../../src/services/context.js';
import { buildApp, type App } from '../../src/http/app.js';
import { needsKvm } from './kvm.js';
import type { Limits } from '../../src/domain/limits.js';
import { tempDir } from './tmp.js';

export type BackendKind = 'native' | 'simulated';

/** The backends a suite runs on: the real kernel (gated by needsKvm) and the simulator. */
export const BACKENDS: { kind: BackendKind; options: { skip?: string } }[] = [
  { kind: 'native', options: needsKvm() },
  { kind: 'simulated', options: {} },
];

export function openHost(kind: BackendKind): KvmHost {
  if (kind === 'simulated') return createSimulatedHost();
  const r = openNativeHost();
  if (!r.ok) throw new Error(`native backend unavailable: ${r.reason}`);
  return r.host;
}

export interface TestApp { app: App; ctx: ServiceContext; store: Store; kvm: KvmHost; dbPath: string; close(): Promise<void> }

export async function makeApp(kind: BackendKind, opts: { now?: () => number; limits?: Partial<Limits> } = {}): Promise<TestApp> {
  const tmp = tempDir();
  const dbPath = join(tmp.dir, 'gmemd.db');
  const kvm = openHost(kind);
  const store = Store.open(dbPath, opts.now);
  const ctx = createContext(store, kvm, { limits: opts.limits });
  const app = await buildApp({ ctx });
  await app.ready();
  return {
    app, ctx, store, kvm, dbPath,
    async close() {
      await app.close();
      // Release kernel objects this test created, so a native run leaks no fds.
      for (const gm of ctx.registry.gmems.values()) {
        if (gm.mapping) kvm.munmap(gm.mapping.addr, gm.mapping.length);
        kvm.close(gm.fd);
      }
      for (const fd of ctx.registry.vms.values()) kvm.close(fd);
      store.close();
      tmp.cleanup();
    },
  };
}

/** app.inject with a JSON body; returns status, parsed JSON and headers. */
export async function call(app: App, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await app.inject({ method, url, payload: body as object | undefined, headers });
  const json = res.body ? JSON.parse(res.body) : undefined;
  return { status: res.statusCode, json, headers: res.headers };
}

export const MiB = 1024 * 1024;

/**
 * One describe() per backend. A backend that cannot run here is reported as one skipped
 * test carrying the reason, so the runner's summary counts it (a skipped describe alone
 * does not show in node 20's totals).
 */
export function describeBackends(title: string, body: (kind: BackendKind) => void): void {
  for (const { kind, options } of BACKENDS) {
    if (options.skip) test(`${title} (${kind})`, options, () => {});
    else describe(`${title} (${kind})`, () => body(kind));
  }
}
