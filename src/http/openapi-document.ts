// The OpenAPI document as buildApp produces it, without listening and without KVM: the
// simulated backend and an in-memory ledger are enough to register every route.
import { createSimulatedHost } from '../kvm/simulated/sim-host.js';
import { Store } from '../store/store.js';
import { createContext } from '../services/context.js';
import { buildApp } from './app.js';

export async function openapiDocument(): Promise<string> {
  const store = Store.open(':memory:', () => 0);
  const app = await buildApp({ ctx: createContext(store, createSimulatedHost()), service: { version: '0.1.0', startedAt: 0, dbPath: ':memory:' } });
  await app.ready();
  const doc = JSON.stringify(app.swagger(), null, 2) + '\n';
  await app.close();
  store.close();
  return doc;
}
