// The gmemd process: reads configuration from the environment, opens the SQLite ledger
// (GMEMD_DB), picks the kernel backend (GMEMD_BACKEND), reconciles the ledger with what this
// process holds, and serves the HTTP API on GMEMD_LISTEN (TCP host:port, default
// 127.0.0.1:7420, or unix:/path). SIGTERM/SIGINT close gracefully: stop accepting, finish
// in-flight requests, close the ledger. SIGUSR2 (or POST /v1/admin/handover) hands guest
// memory to a successor started from the code on disk; a process started with
// GMEMD_HANDOVER is such a successor and adopts it before serving (src/lifecycle/handover).
// A configuration that must not run (test-only settings without GMEMD_TEST_MODE=1, plain
// HTTP off loopback without GMEMD_INSECURE=1, ...) stops here with one line and exit 2.
import closeWithGrace from 'close-with-grace';
import { readFileSync } from 'node:fs';
import { checkConfig, loadConfig, type Config } from './config.js';
import { selectBackend } from './kvm/select-backend.js';
import { Store } from './store/store.js';
import { startWalCheckpointer } from './store/wal-checkpointer.js';
import { createContext } from './services/context.js';
import { buildApp } from './http/app.js';
import { Checkpointer } from './store/audit/checkpoints.js';
import { SYSTEM_CALLER, startupReconcile } from './reconcile/startup.js';
import { foreignHolders } from './reconcile/host-scan.js';
import type { Lifecycle } from './lifecycle/lifecycle.js';
import { readManifest, removeManifestDir } from './lifecycle/handover/manifest.js';
import { adoptKernel, recordAdoption, reportReady } from './lifecycle/handover/adopt.js';
import { HandoverSender } from './lifecycle/handover/sender.js';
import { listenOn, listeningFd } from './lifecycle/handover/socket.js';
import { ConnectionDrain } from './lifecycle/drain.js';
import { bootstrapAdminToken } from './lifecycle/admin-token.js';
import { lockLedger } from './lifecycle/ledger-lock.js';
import { compileCacheDir, flushCompileCache } from './lifecycle/compile-cache.js';

// Where start-up time goes (logged with the listening line; `npm run bench:scale` prints it):
// milliseconds since the process began, at the end of each phase.
const at = () => Math.round(performance.now());
const startupMs = { modules: at(), ledger: 0, reconcile: 0, app: 0, listening: 0 };
function refuse(e: unknown): never {
  process.stderr.write(`gmemd: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(2);
}

let config: Config;
let warnings: string[];
let https: { key: Buffer; cert: Buffer } | null = null;
try {
  config = loadConfig();
  warnings = checkConfig(config);
  if (config.tls) https = { key: readFileSync(config.tls.key), cert: readFileSync(config.tls.cert) };
} catch (e) { refuse(e); }
const startedAt = Date.now();
const inherited = readManifest();
// A successor keeps its predecessor's backend: the memory it adopts lives there.
// GMEMD_BACKEND=native on a host whose /dev/kvm cannot serve guest_memfd is a refused start.
let backend: ReturnType<typeof selectBackend>;
try { backend = selectBackend(inherited ? inherited.backend : config.backend); } catch (e) { refuse(e); }
const { host: kvm, note, fellBack } = backend;
// One process per ledger (src/lifecycle/ledger-lock.ts): before anything reads or writes it.
const lock = config.db === ':memory:' ? null : lockLedger(config.db, inherited?.lockFd ?? undefined);
if (lock && !lock.ok) refuse(lock.error);
const store = Store.open(config.db);
// WAL checkpoints on a worker thread, not inside request commits (src/store/wal-checkpointer.ts).
const walCheckpoints = startWalCheckpointer(store.ledger.sqlite, config.db);
startupMs.ledger = at();
const ctx = createContext(store, kvm, { crashAt: config.crashAt, limits: config.limits });
// With GMEMD_AUDIT_KEY, signed checkpoints of the chain's head every N events and at close
// let verify detect deletion of the newest events.
const checkpointer = config.auditKey ? Checkpointer.attach(store, { key: config.auditKey, every: config.checkpointEvery }) : null;
// Kernel work of an adoption happens before anything listens; the ledger records it once
// this process accepts on the inherited socket (until then writes get 503, see below).
const adopted = inherited ? adoptKernel(ctx, inherited) : null;
const lifecycle: Lifecycle = {
  // Nothing of the kernel survived a plain start: whatever the ledger says is held is lost.
  startup: inherited ? null : startupReconcile(ctx, { holders: kvm.backend === 'native' ? () => foreignHolders('/proc', ctx.limits.hostScanDeadlineMs) : undefined }),
  handover: null,
  testHooks: config.testHooks,
};
startupMs.reconcile = at();
let ready = false;

const app = await buildApp({
  ctx,
  logger: { level: config.logLevel },
  service: { version: process.env.npm_package_version ?? '0.1.0', startedAt, dbPath: config.db, backendNote: note },
  ready: () => ready && !handover.inProgress(),
  lifecycle,
  auditKey: config.auditKey,
  wal: walCheckpoints.stats,
  // Rate limit and request/body/idle timeouts: GMEMD_* (config.ts), defaults in domain/limits.ts.
  http: ctx.limits,
  https,
});
startupMs.app = at();
app.log.info({ backend: kvm.backend, note, db: config.db, handoverFrom: inherited?.fromPid, limits: ctx.limits, tls: https !== null, compileCache: compileCacheDir() }, 'gmemd starting');
for (const w of warnings) app.log.warn(w);
// Nobody asked for the simulator: an operator expecting real guest memory must not miss that.
if (fellBack) app.log.warn({ note }, 'no native backend: serving the simulator, which creates no real guest memory (GMEMD_BACKEND=native refuses to start instead)');
// A successor serves its predecessor's tokens; it does not issue any before it has adopted.
if (!inherited) {
  let admin: ReturnType<typeof bootstrapAdminToken>;
  try { admin = bootstrapAdminToken(ctx, config.db, config.adminToken); } catch (e) { refuse(e); }
  if (admin.kind === 'issued') app.log.warn({ tokenFile: admin.path, token: admin.name }, 'issued an admin token; its secret is in the token file (mode 0600)');
  else if (admin.kind === 'env') app.log.info('GMEMD_ADMIN_TOKEN is the admin token `admin`');
}
if (lifecycle.startup?.events) app.log.info({ reconcile: lifecycle.startup }, 'start-up reconcile');

const drain = new ConnectionDrain(app.server);
const grace = closeWithGrace({ delay: 10_000, skip: ['SIGUSR2'] }, async ({ signal, err }) => {
  ready = false;
  if (err) app.log.error({ err }, 'closing after an error');
  else app.log.info({ signal }, 'closing');
  // Stop accepting and answer what was read before anything is closed (src/lifecycle/drain.ts).
  await drain.close();
  await app.close();
  checkpointer?.checkpointNow();
  await walCheckpoints.stop();
  store.close();
});
const handover = new HandoverSender({
  ctx, log: app.log, listenFd: () => listeningFd(app), lockFd: () => (lock?.ok ? lock.value.fd : null),
  handedOver: () => void grace.close(), adopting: inherited !== null,
});
lifecycle.handover = handover;
process.on('SIGUSR2', () => {
  void handover.start(SYSTEM_CALLER, { force: false }).then((r) => {
    if (!r.ok) app.log.error({ error: r.error }, 'handover on SIGUSR2 refused or failed');
  });
});

await listenOn(app, config.listen, inherited?.listenFd ?? null, config.socketMode);
if (inherited && adopted) {
  const { summary, startup } = recordAdoption(ctx, inherited, adopted);
  lifecycle.startup = startup;
  handover.adopted();
  removeManifestDir(inherited);
  app.log.info({ handover: summary }, 'adopted guest memory from the previous gmemd');
  try { reportReady(inherited, summary); } catch (e) { app.log.error({ err: e }, 'could not report to the previous gmemd'); }
}
ready = true;
startupMs.listening = at();
// A single line parents (tests, supervisors) can wait for.
app.log.info({ listen: config.listen, startupMs }, 'gmemd listening');
// What this start compiled, written now (src/start.ts): a crash would write nothing at exit.
flushCompileCache();
