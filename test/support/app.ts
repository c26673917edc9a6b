// A gmemd app for one test: its own database file in a temp dir, the chosen backend,
// the real buildApp, and an admin token. HTTP goes through app.inject or supertest against
// app.server; call() sends the token unless the test passes its own Authorization.
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { KvmHost } from '../../src/kvm/kvm-host.js';
import { openNativeHost } from '../../src/kvm/native/native-host.js';
import { createSimulatedHost } from '../../src/kvm/simulated/sim-host.js';
import { Store } from '../../src/store/store.js';
import { createContext, type ServiceContext } from '../../src/services/context.js';
import { buildApp, type App } from '../../src/http/app.js';
import { needsGuestMemfd } from './kvm.js';
import type { Limits } from '../../src/domain/limits.js';
import { tempDir } from './tmp.js';
import type { Role } from '../../src/domain/roles.js';
import { newId } from '../../src/store/ids.js';
import { hashSecret, newSecret } from '../../src/services/token-secrets.js';

export type BackendKind = 'native' | 'simulated';

/** The backends a suite runs on: the real kernel (gated by needsGuestMemfd: /dev/kvm with guest_memfd) and the simulator. */
export const BACKENDS: { kind: BackendKind; options: { skip?: string } }[] = [
  { kind: 'native', options: needsGuestMemfd() },
  { kind: 'simulated', options: {} },
];

export function openHost(kind: BackendKind): KvmHost {
  if (kind === 'simulated') return createSimulatedHost();
  const r = openNativeHost();
  if (!r.ok) throw new Error(`native backend unavailable: ${r.reason}`);
  return r.host;
}

export interface TestApp {
  app: App; ctx: ServiceContext; store: Store; kvm: KvmHost; dbPath: string;
  /** The secret of the admin token `test-admin`, and the header that sends it. */
  token: string; headers: { authorization: string };
  close(): Promise<void>;
}

/** A live token written straight to the ledger (no event): the fixture, not the behaviour under test. */
export function insertToken(store: Store, name: string, role: Role): string {
  const secret = newSecret();
  // A second Store over a ledger that has one (a restart in-process): its secret is gone with the first.
  const old = store.tokens.liveByName(name);
  if (old) store.tokens.revoke(old.id, store.now());
  store.tokens.insert({ id: newId('tok'), name, role, secretHash: hashSecret(secret), createdAt: store.now(), revokedAt: null });
  return secret;
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

// By store: several apps over one ledger (a restart in-process) share its token.
const TOKENS = new WeakMap<Store, string>();
export const TEST_ACTOR = 'token:test-admin';

/** The admin header for an app: makeApp's token, or (an app a test built itself) one issued now. */
export function authOf(app: App): { authorization: string } {
  const { store } = app.gmemd.ctx;
  let token = TOKENS.get(store);
  if (!token) TOKENS.set(store, token = insertToken(store, 'test-admin', 'admin'));
  return bearer(token);
}

export async function makeApp(kind: BackendKind, opts: { now?: () => number; limits?: Partial<Limits> } = {}): Promise<TestApp> {
  const tmp = tempDir();
  const dbPath = join(tmp.dir, 'gmemd.db');
  const kvm = openHost(kind);
  const store = Store.open(dbPath, opts.now);
  const ctx = createContext(store, kvm, { limits: opts.limits });
  const app = await buildApp({ ctx });
  await app.ready();
  const token = authOf(app).authorization.slice('Bearer '.length);
  return {
    app, ctx, store, kvm, dbPath, token, headers: bearer(token),
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

/** app.inject with a JSON body and the app's admin token; returns status, parsed JSON and headers. */
export async function call(app: App, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await app.inject({ method, url, payload: body as object | undefined, headers: { ...authOf(app), ...headers } });
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
