// Starting one of the audit's worker threads (verify-worker.ts, queries/export-worker.ts)
// from the compiled build or from the TypeScript sources. Compiled (dist/), the worker is a
// plain module. Under tsx (tests, `npm run dev`), a worker on Node 20 does not inherit the
// loader that --import tsx installed (it fails with "Unknown file extension .ts", execArgv
// or not), so it registers tsx's hooks before importing its module. execArgv []: a worker
// needs none of the parent's flags, and some (--input-type) refuse a worker file.
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

/** Starts the worker module `name` (without extension) beside the module at `beside`. */
export function startWorker(beside: string, name: string, workerData: unknown): Worker {
  const ext = extname(fileURLToPath(beside));
  const file = new URL(`./${name}${ext}`, beside);
  if (ext !== '.ts') return new Worker(file, { workerData, execArgv: [] });
  const api = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(file.href)}); })`;
  return new Worker(boot, { eval: true, workerData, execArgv: [] });
}
