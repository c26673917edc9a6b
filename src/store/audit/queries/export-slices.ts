// The export split over worker threads for a large range: the seqs (after, hi] are cut into
// slices of `width`; worker k of W writes slices k, k+W, k+2W, … (export-worker.ts, its own
// read-only connection) as UTF-8 Buffers handed over without a copy, and the slices are
// yielded here strictly in order. Each worker runs at most two slices ahead of what has been
// taken, so memory stays bounded whatever the reader's pace. Stopping early (a client gone)
// terminates the workers.
import type Database from 'better-sqlite3';
import type { Worker } from 'node:worker_threads';
import { EVENT_COLUMNS } from '../event-rows.js';
import { startWorker } from '../worker-start.js';
import type { LineFormat } from './event-line.js';

export interface SlicePlan { after: number; hi: number; since: number; until: number; width: number; format: LineFormat }

/** The statement a slice runs (on any connection). */
export const sliceStatement = (db: Database.Database) => db.prepare(`SELECT ${EVENT_COLUMNS} FROM events
  WHERE seq > ? AND seq <= ? AND time >= ? AND time < ? ORDER BY seq`).raw(true);

export const sliceCount = (p: SlicePlan) => Math.ceil((p.hi - p.after) / p.width);

export async function* slicesOnWorkers(path: string, plan: SlicePlan, threads: number): AsyncGenerator<Buffer> {
  const count = sliceCount(plan);
  const ready = new Map<number, Buffer>();
  let wake: (() => void) | null = null;
  let failure: Error | null = null;
  const workers: Worker[] = [];
  for (let k = 0; k < Math.min(threads, count); k++) {
    const w = startWorker(import.meta.url, 'export-worker', { path, plan, first: k, step: threads, count });
    w.on('message', (m: { slice: number; bytes: Uint8Array }) => { ready.set(m.slice, Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.length)); wake?.(); });
    w.on('error', (e) => { failure = e; wake?.(); });
    workers.push(w);
  }
  try {
    for (let j = 0; j < count; j++) {
      while (!ready.has(j)) {
        if (failure) throw failure;
        await new Promise<void>((done) => { wake = done; });
        wake = null;
      }
      const buf = ready.get(j)!;
      ready.delete(j);
      workers[j % workers.length]!.postMessage('next');
      if (buf.length > 0) yield buf;
    }
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
