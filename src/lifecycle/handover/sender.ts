// The old process's side of a handover (SIGUSR2 or POST /v1/admin/handover). It stops
// changing anything (handover-gate.ts answers mutating requests 503 handover.in_progress),
// starts its successor from the code on disk now (an upgrade) with every shareable
// guest_memfd and the listening socket inherited (stdio slots 3..N; gmem fds are not
// O_CLOEXEC, and the child's copies are made by dup2 anyway), and waits until the successor
// has adopted them and serves on that same socket. Then it stops accepting, finishes what is
// in flight and exits. If the successor fails, this process resumes as it was.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { err, ok, type Result } from '../../domain/result.js';
import type { Caller, ServiceContext } from '../../services/context.js';
import { run } from '../../services/pipeline/run.js';
import type { HandoverPort, HandoverSummary } from '../lifecycle.js';
import { runReconcile } from '../../reconcile/run.js';
import { HANDOVER_ENV, type HandoverManifest } from './manifest.js';
import { successorEnv } from '../../config.js';

export interface SenderDeps {
  ctx: ServiceContext;
  log: { info: (o: object, msg: string) => void; error: (o: object, msg: string) => void };
  /** The listening socket's fd, for the successor to accept on; null when not listening. */
  listenFd: () => number | null;
  /** The ledger lock's fd (ledger-lock.ts), inherited by the successor; null without one (an in-memory ledger). */
  lockFd?: () => number | null;
  /** The successor serves: stop accepting, finish in-flight requests, exit. */
  handedOver: () => void;
  /** How long the successor may take to adopt and listen (tsx start-up included). */
  timeoutMs?: number;
  /** Set in a successor until its own adoption is recorded: it refuses writes meanwhile. */
  adopting?: boolean;
}

export class HandoverSender implements HandoverPort {
  private state: 'idle' | 'adopting' | 'running' | 'done';

  constructor(private readonly deps: SenderDeps) {
    this.state = deps.adopting ? 'adopting' : 'idle';
  }

  inProgress(): boolean { return this.state !== 'idle'; }

  /** A successor calls this once its adoption is recorded: it serves normally from now on. */
  adopted(): void { if (this.state === 'adopting') this.state = 'idle'; }

  async start(caller: Caller, opts: { force: boolean }): Promise<Result<HandoverSummary>> {
    const { ctx } = this.deps;
    const { store, registry } = ctx;
    if (this.state !== 'idle') return err('handover.in_progress', 'a handover is already in progress');
    this.state = 'running';
    const handoverId = randomUUID();
    const dir = mkdtempSync(join(tmpdir(), 'gmemd-handover-'));
    const stateFile = join(dir, 'sim-state.json');
    const started = await run(ctx, caller, {
      action: 'handover.start', keys: 'global',
      decide: () => {
        const live = store.inodes.listByState('live');
        const priv = live.filter((i) => !i.shareable).map((i) => i.id);
        if (priv.length > 0 && !opts.force) {
          return err('handover.private_inodes', `private inodes cannot survive a handover on this kernel (no mmap, and KVM ties their VM to this process): ${priv.join(', ')}; destroy them or force`,
            { inodes: priv });
        }
        const handed = live.filter((i) => i.shareable && registry.gmem(i.id));
        return ok({
          details: { handoverId },
          // Exporting hands out fds (and, simulated, writes a state file): nothing to undo.
          steps: [{ id: 'export', effect: false, run: () => ctx.kvm.exportGmems(handed.map((i) => registry.gmem(i.id)!.fd), stateFile) }],
          record: (rec, log) => {
            const inherit = log.value<number[]>('export');
            rec.event('handover.start', {}, {
              handoverId, inodes: handed.map((i) => i.id), vms: [...registry.vms.keys()], force: opts.force, privateInodes: priv,
            });
            return { inherit, handed };
          },
        });
      },
    });
    if (!started.ok) { this.resume(dir); return started; }
    const { inherit, handed } = started.value;

    const listenFd = this.deps.listenFd();
    const lockFd = this.deps.lockFd?.() ?? null;
    // Inherited fds in stdio order: the guest_memfds, the listening socket, the ledger lock, then the ready pipe.
    const passed = [...inherit, ...(listenFd === null ? [] : [listenFd]), ...(lockFd === null ? [] : [lockFd])];
    const manifest: HandoverManifest = {
      version: 1, handoverId, fromPid: process.pid, backend: ctx.kvm.backend, startedAt: ctx.now(),
      inodes: handed.map((i) => ({ inodeId: i.id, kernelInode: i.kernelInode, size: i.size })),
      gmemFds: inherit.map((_, i) => 3 + i), stateFile,
      listenFd: listenFd === null ? null : 3 + inherit.length,
      lockFd: lockFd === null ? null : 3 + passed.length - 1,
      readyFd: 3 + passed.length, dir,
    };
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));

    const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!], {
      // Test-only settings stay with this process unless GMEMD_HANDOVER_TEST_MODE=1 (src/config.ts).
      env: { ...successorEnv(process.env), [HANDOVER_ENV]: join(dir, 'manifest.json') },
      stdio: ['ignore', 'inherit', 'inherit', ...passed, 'pipe'],
    });
    const line = await readyLine(child, child.stdio[manifest.readyFd] as Readable, this.deps.timeoutMs ?? 120_000);
    if (!line.ok) {
      child.kill('SIGKILL');
      await this.recover(caller, handoverId, line.error.message);
      this.resume(dir);
      return line;
    }
    child.unref();
    this.state = 'done';
    this.deps.log.info({ handoverId, successorPid: child.pid }, 'handed over; closing');
    // After the answer to the request that asked for it has gone out.
    setTimeout(() => this.deps.handedOver(), 50);
    return ok(line.value);
  }

  private resume(dir: string): void {
    rmSync(dir, { recursive: true, force: true });
    this.state = 'idle';
  }

  /** The successor failed: take the ledger back as it left it, and record the failure. */
  private async recover(caller: Caller, handoverId: string, reason: string): Promise<void> {
    const { ctx } = this.deps;
    const { store } = ctx;
    // The successor appended to the same chain: continue from the head it left.
    store.chain.reloadHead();
    const successorRecorded = store.chain.hasEvent('handover.adopt', handoverId);
    await run(ctx, caller, {
      action: 'handover.start', keys: 'global', maintenance: true,
      decide: () => ok({ record: (rec) => { rec.event('handover.start', {}, { handoverId, reason, successorRecorded }, { outcome: 'failed', errorCode: 'handover.failed' }); } }),
    });
    this.deps.log.error({ handoverId, reason }, 'handover failed; resuming');
    // A successor that recorded its adoption before failing left the ledger describing its
    // kernel objects: realign it with this process's (reconcile.* events say what changed).
    if (successorRecorded) await runReconcile(ctx, caller, { repair: true });
  }
}

/** The successor's one JSON line, or why it never came. */
function readyLine(child: ChildProcess, pipe: Readable, timeoutMs: number): Promise<Result<HandoverSummary>> {
  return new Promise((resolve) => {
    let buf = '';
    const done = (r: Result<HandoverSummary>) => { clearTimeout(timer); pipe.removeAllListeners(); child.removeListener('exit', onExit); pipe.destroy(); resolve(r); };
    const onExit = (code: number | null, signal: string | null) => done(err('handover.failed', `the successor exited (${signal ?? code}) before it served`));
    const timer = setTimeout(() => done(err('handover.failed', `the successor did not serve within ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', onExit);
    child.once('error', (e) => done(err('handover.failed', `could not start the successor: ${e.message}`)));
    pipe.setEncoding('utf8');
    pipe.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      try { done(ok(JSON.parse(buf.slice(0, nl)) as HandoverSummary)); } catch { done(err('handover.failed', 'the successor sent an unreadable report')); }
    });
    pipe.on('end', () => { if (!buf.includes('\n')) done(err('handover.failed', 'the successor closed its report pipe without serving')); });
  });
}
