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
import { deny, event, failKernel } from '../../services/outcomes.js';
import type { HandoverPort, HandoverSummary } from '../lifecycle.js';
import { runReconcile } from '../../reconcile/run.js';
import { HANDOVER_ENV, type HandoverManifest } from './manifest.js';

export interface SenderDeps {
  ctx: ServiceContext;
  log: { info: (o: object, msg: string) => void; error: (o: object, msg: string) => void };
  /** The listening socket's fd, for the successor to accept on; null when not listening. */
  listenFd: () => number | null;
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
    const live = store.inodes.listByState('live');
    const priv = live.filter((i) => !i.shareable).map((i) => i.id);
    if (priv.length > 0 && !opts.force) {
      return deny(ctx, caller, 'handover.start', {}, { code: 'handover.private_inodes', details: { inodes: priv },
        message: `private inodes cannot survive a handover on this kernel (no mmap, and KVM ties their VM to this process): ${priv.join(', ')}; destroy them or force` });
    }
    this.state = 'running';
    const handoverId = randomUUID();
    const dir = mkdtempSync(join(tmpdir(), 'gmemd-handover-'));
    const handed = live.filter((i) => i.shareable && registry.gmem(i.id));
    const stateFile = join(dir, 'sim-state.json');
    const exp = ctx.kvm.exportGmems(handed.map((i) => registry.gmem(i.id)!.fd), stateFile);
    if (!exp.ok) { this.resume(dir); return failKernel(ctx, caller, 'handover.start', {}, exp.error, { handoverId }); }

    const listenFd = this.deps.listenFd();
    const inherit = exp.value;
    const manifest: HandoverManifest = {
      version: 1, handoverId, fromPid: process.pid, backend: ctx.kvm.backend, startedAt: ctx.now(),
      inodes: handed.map((i) => ({ inodeId: i.id, kernelInode: i.kernelInode, size: i.size })),
      gmemFds: inherit.map((_, i) => 3 + i), stateFile,
      listenFd: listenFd === null ? null : 3 + inherit.length,
      readyFd: 3 + inherit.length + (listenFd === null ? 0 : 1), dir,
    };
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
    store.uow.run(() => store.chain.append(event(caller, 'handover.start', {}, {
      handoverId, inodes: manifest.inodes.map((i) => i.inodeId), vms: [...registry.vms.keys()], force: opts.force, privateInodes: priv,
    })));

    const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!], {
      env: { ...process.env, [HANDOVER_ENV]: join(dir, 'manifest.json') },
      stdio: ['ignore', 'inherit', 'inherit', ...inherit, ...(listenFd === null ? [] : [listenFd]), 'pipe'],
    });
    const line = await readyLine(child, child.stdio[manifest.readyFd] as Readable, this.deps.timeoutMs ?? 120_000);
    if (!line.ok) {
      child.kill('SIGKILL');
      this.recover(caller, handoverId, line.error.message);
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
  private recover(caller: Caller, handoverId: string, reason: string): void {
    const { store } = this.deps.ctx;
    const head = store.ledger.sqlite.prepare('SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string };
    store.chain.resetHead(head);
    const adopted = store.ledger.sqlite.prepare("SELECT count(*) n FROM events WHERE action = 'handover.adopt' AND details LIKE ?").get(`%${handoverId}%`) as { n: number };
    store.uow.run(() => store.chain.append({ ...event(caller, 'handover.start', {}, { handoverId, reason, successorRecorded: adopted.n > 0 }), outcome: 'failed', errorCode: 'handover.failed' }));
    this.deps.log.error({ handoverId, reason }, 'handover failed; resuming');
    // A successor that recorded its adoption before failing left the ledger describing its
    // kernel objects: realign it with this process's (reconcile.* events say what changed).
    if (adopted.n > 0) runReconcile(this.deps.ctx, caller, { repair: true });
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
