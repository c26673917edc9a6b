// The gmemd process: reads configuration from the environment, opens the SQLite ledger
// (GMEMD_DB), picks the kernel backend (GMEMD_BACKEND), and serves the HTTP API on
// GMEMD_LISTEN (TCP host:port, default 127.0.0.1:7420, or unix:/path). SIGTERM/SIGINT
// close gracefully: stop accepting, finish in-flight requests, close the ledger.
import closeWithGrace from 'close-with-grace';
import { unlinkSync } from 'node:fs';
import { loadConfig } from './config.js';
import { selectBackend } from './kvm/select-backend.js';
import { Store } from './store/store.js';
import { createContext } from './services/context.js';
import { buildApp } from './http/app.js';

const config = loadConfig();
const startedAt = Date.now();
const { host: kvm, note } = selectBackend(config.backend);
const store = Store.open(config.db);
const ctx = createContext(store, kvm, { crashAt: config.crashAt });
let ready = false;

const app = await buildApp({
  ctx,
  logger: { level: config.logLevel },
  service: { version: process.env.npm_package_version ?? '0.1.0', startedAt, dbPath: config.db },
  ready: () => ready,
});
app.log.info({ backend: kvm.backend, note, db: config.db }, 'gmemd starting');

closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
  ready = false;
  if (err) app.log.error({ err }, 'closing after an error');
  else app.log.info({ signal }, 'closing');
  await app.close();
  store.close();
});

if (config.listen.kind === 'unix') {
  try { unlinkSync(config.listen.path); } catch { /* no stale socket */ }
  await app.listen({ path: config.listen.path });
} else {
  await app.listen({ host: config.listen.host, port: config.listen.port });
}
ready = true;
// A single line parents (tests, supervisors) can wait for.
app.log.info({ listen: config.listen }, 'gmemd listening');
