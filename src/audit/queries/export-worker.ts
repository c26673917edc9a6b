// Worker thread of the parallel export (export-slices.ts): writes its slices' NDJSON and
// posts each as a transferred buffer, keeping at most two slices not yet taken.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { lineWriter } from './event-line.js';
import { sliceStatement, type SlicePlan } from './export-slices.js';

const { path, plan, first, step, count } = workerData as { path: string; plan: SlicePlan; first: number; step: number; count: number };
const db = new Database(path, { readonly: true, fileMustExist: true });
const stmt = sliceStatement(db);
const line = lineWriter(stmt.columns().map((c) => c.name), plan.format);
let credits = 2;
let resume: (() => void) | null = null;
parentPort!.on('message', () => { credits++; resume?.(); });

for (let j = first; j < count; j += step) {
  while (credits === 0) await new Promise<void>((done) => { resume = done; });
  resume = null;
  const a = plan.after + j * plan.width;
  let text = '';
  for (const row of stmt.iterate(a, Math.min(a + plan.width, plan.hi), plan.since, plan.until) as Iterable<unknown[]>) text += line(row);
  const bytes = Buffer.from(text);
  // Moved, not copied, when the Buffer has its ArrayBuffer to itself (not the small-Buffer pool).
  const own = bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.length ? bytes : Uint8Array.from(bytes);
  credits--;
  parentPort!.postMessage({ slice: j, bytes: own }, [own.buffer]);
}
db.close();
parentPort!.close();
