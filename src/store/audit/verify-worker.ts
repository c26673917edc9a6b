// Worker thread entry of the parallel verify: opens the ledger file read-only (its own
// connection, its own snapshot), walks one seq range and posts the RangeResult back.
import { parentPort, workerData } from 'node:worker_threads';
import { openLedgerReadOnly } from '../read-only.js';
import { walkRange, type SeqRange } from './verify-range.js';

const { path, range } = workerData as { path: string; range: SeqRange };
const db = openLedgerReadOnly(path);
try {
  parentPort!.postMessage(walkRange(db, range));
} finally {
  db.close();
}
