// WAL checkpoints off the event loop. With SQLite's automatic checkpoint, the commit that
// pushes the WAL past 1000 pages copies them into the database file and fsyncs it, inside
// that commit, on the main thread: every request of that batch, and every one queued behind
// it, waits milliseconds (the p99 of a write). Here a worker thread with its own connection
// runs PASSIVE checkpoints (they never block the writer) every `everyMs`, and the writer's
// own automatic checkpoint is off. Should frames still pile up past `maxFrames` (a reader
// pinning old frames, a worker starved of CPU), the writer's automatic checkpoint comes back
// until a checkpoint has caught up, so the WAL is bounded whatever happens. Durability is unchanged:
// every commit still fsyncs the WAL (synchronous=FULL); a checkpoint only moves pages.
//
// A checkpoint moves pages but does not make the WAL start over: SQLite writes from the start
// of the file again only when a write transaction begins with every frame already copied,
// and under steady writes a commit always lands while the worker copies. The file then grew
// by every commit (23 MB in 10 s of the bind bench, 104 MB after building the scale set),
// each append past its end zeroing and allocating new pages (5% of the event loop under the
// bind bench). So once the WAL holds `restartFrames` and the worker has copied all but a
// little of it, the writer runs one RESTART checkpoint itself, between transactions and
// without waiting on any lock: it copies that little, and the next commit writes from the start.
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import type Database from 'better-sqlite3';

// CommonJS source, run with eval: it loads the same better-sqlite3 build as the main thread,
// and needs no loader, so it runs alike from dist/ and from the TypeScript sources.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = 0');
// A checkpoint copies frames through its own buffer, not this connection's page cache.
db.pragma('cache_size = -256');
const timer = setInterval(() => {
  try {
    const [r] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ log: r.log, checkpointed: r.checkpointed });
  } catch (e) { parentPort.postMessage({ error: String(e) }); }
}, workerData.everyMs);
parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/** Checkpoints run by the worker, how often the writer's own had to come back, and the
 *  writer's RESTARTs (done, or refused by a busy connection); GET /metrics shows them. */
export interface WalStats { checkpoints: number; fallbacks: number; restarts: number; restartsRefused: number; lastLogFrames: number }

export interface WalCheckpointer {
  readonly stats: Readonly<WalStats>;
  stop(): Promise<void>;
}

const AUTO_PAGES = 1000; // SQLite's default wal_autocheckpoint

/** The most frames a restart may still have to copy on the event loop (1 MiB at 4 KiB pages). */
const RESTART_BACKLOG = 256;

/** What a worker's checkpoint found: the WAL's frames, and those it could not copy yet (the
 *  part of the WAL that keeps it growing). */
export interface CheckpointReport { log: number; backlog: number }

/**
 * A worker's message as a report, or null: an error, or a checkpoint that could not run at
 * all. PRAGMA wal_checkpoint(PASSIVE) answers -1 frames in the log and -1 copied when it is
 * SQLITE_BUSY before it starts (the checkpoint lock held by another connection's checkpoint,
 * e.g. the writer's own while the fallback is on, or the WAL-index header unreadable). That
 * says nothing about the backlog: read as "0 behind", it switched the fallback off between
 * two reports that each switched it on.
 */
export function reportOf(m: { log?: number; checkpointed?: number }): CheckpointReport | null {
  const checkpointed = m.checkpointed ?? 0;
  if (m.log === undefined || m.log < 0 || checkpointed < 0) return null;
  return { log: m.log, backlog: m.log - checkpointed };
}

/** Whether a report's backlog turns the writer's own checkpoints on or off, or leaves them (null). */
export function fallbackSwitch(fallback: boolean, backlog: number, maxFrames: number): 'on' | 'off' | null {
  if (!fallback && backlog > maxFrames) return 'on';
  if (fallback && backlog === 0) return 'off';
  return null;
}

export function startWalCheckpointer(sqlite: Database.Database, path: string,
  opts: { everyMs?: number; maxFrames?: number; restartFrames?: number } = {}): WalCheckpointer {
  const everyMs = opts.everyMs ?? 100;
  const maxFrames = opts.maxFrames ?? 16 * AUTO_PAGES;
  // 16 MiB of frames at 4 KiB pages: a restart every few seconds of the bind bench's writes.
  const restartFrames = opts.restartFrames ?? 4 * AUTO_PAGES;
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  // It allocates next to nothing; its heap is bounded all the same, as memory the process
  // holds (README "Memory").
  const worker = new Worker(WORKER, { eval: true, workerData: { path, everyMs, driver },
    resourceLimits: { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 16 } });
  // A checkpointer must never keep the process alive on its own.
  worker.unref();
  const stats: WalStats = { checkpoints: 0, fallbacks: 0, restarts: 0, restartsRefused: 0, lastLogFrames: 0 };
  let fallback = false;
  let restartDue = false;
  // The WAL's frame count when the last RESTART succeeded. The WAL starts over at the next
  // write, not at the RESTART, so until then every report shows that same count: without this
  // an idle ledger would be RESTARTed (two fsyncs) on every report.
  let restartedAt = -1;
  // A macrotask of its own: never inside a transaction, which is synchronous. busy_timeout 0
  // for this call only, so a checkpoint the worker is running makes it give up, not wait;
  // the worker's next report brings it back. Readers still on old frames make it give up too,
  // and so does a statement of this connection still being iterated (better-sqlite3 throws:
  // the connection is busy), which must not become an uncaught exception.
  const restart = () => {
    restartDue = false;
    if (!sqlite.open || sqlite.inTransaction) return;
    let timeout: number | undefined;
    try {
      // A busy connection refuses this first statement, before anything is changed.
      timeout = sqlite.pragma('busy_timeout', { simple: true }) as number;
      sqlite.pragma('busy_timeout = 0');
      const [r] = sqlite.pragma('wal_checkpoint(RESTART)') as { busy: number; log: number }[];
      if (r?.busy === 0) { stats.restarts += 1; restartedAt = r.log; }
    } catch {
      stats.restartsRefused += 1;
    } finally {
      if (timeout !== undefined) sqlite.pragma(`busy_timeout = ${timeout}`);
    }
  };
  // The writer's own checkpoint on or off. A connection busy iterating a statement refuses
  // the pragma (better-sqlite3 throws), and a throw here would be uncaught: the switch waits
  // for the next report, or for the worker's exit, instead.
  const autoCheckpoint = (pages: number): boolean => {
    try { sqlite.pragma(`wal_autocheckpoint = ${pages}`); return true; } catch { return false; }
  };
  sqlite.pragma('wal_autocheckpoint = 0');
  worker.on('message', (m: { log?: number; checkpointed?: number; error?: string }) => {
    const r = reportOf(m);
    if (r === null || !sqlite.open) return;
    stats.checkpoints += 1;
    stats.lastLogFrames = r.log;
    const turn = fallbackSwitch(fallback, r.backlog, maxFrames);
    if (turn === 'on') {
      if (autoCheckpoint(AUTO_PAGES)) { fallback = true; stats.fallbacks += 1; }
    } else if (turn === 'off') {
      if (autoCheckpoint(0)) fallback = false;
    }
    if (!restartDue && r.log >= restartFrames && r.log !== restartedAt && r.backlog <= RESTART_BACKLOG) {
      restartDue = true;
      setImmediate(restart);
    }
  });
  // If the worker dies (or is stopped), the writer checkpoints for itself again. A connection
  // busy iterating refuses the switch, and with no worker left no report would bring it back:
  // without a retry its WAL would grow without bound.
  const restore = () => {
    if (sqlite.open && !autoCheckpoint(AUTO_PAGES)) setTimeout(restore, everyMs).unref();
  };
  worker.on('error', restore);
  const exited = new Promise<void>((resolve) => worker.once('exit', () => { restore(); resolve(); }));
  return {
    stats,
    // Held alive while it winds down, so a caller awaiting stop() sees it gone.
    stop: async () => { worker.ref(); worker.postMessage('stop'); await exited; },
  };
}
