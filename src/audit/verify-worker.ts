// Worker thread entry of the parallel verify: opens the ledger file read-only (its own
// connection, its own snapshot), walks one seq range and posts the RangeResult back.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { walkRange, type SeqRange } from './verify-range.js';

const { path, range } = workerData as { path: string; range: SeqRange };
const db = new Database(path, { readonly: true, fileMustExist: true });
try {
  parentPort!.postMessage(walkRange(db, range));
} finally {
  db.close();
}
