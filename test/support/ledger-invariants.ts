// One reusable statement of "the ledger is consistent", read straight from a SQLite file (or
// an open connection): SQLite's own integrity check, the audit chain, no intent left open,
// and the cross-table rules DESIGN §1 states (nothing live hangs off something dead).
// Returns every violation found, so a failing test names them all.
import Database from 'better-sqlite3';
import { verifyLedger } from '../../src/store/audit/verify.js';

type Db = Database.Database;

/** Each rule: a description and a query returning the offending rows' ids. */
const RULES: [string, string][] = [
  ['intent left open', `SELECT id FROM intents WHERE state = 'open'`],
  ['active binding on a VM that is not active', `SELECT b.id FROM bindings b JOIN vms v ON v.id = b.vm_id WHERE b.state = 'active' AND v.state <> 'active'`],
  ['active binding on a file that is not open', `SELECT b.id FROM bindings b JOIN files f ON f.id = b.file_id WHERE b.state = 'active' AND f.state <> 'open'`],
  ['active binding on an inode that is not live', `SELECT b.id FROM bindings b JOIN inodes i ON i.id = b.inode_id WHERE b.state = 'active' AND i.state <> 'live'`],
  ['binding VM differs from its file\'s VM', `SELECT b.id FROM bindings b JOIN files f ON f.id = b.file_id WHERE b.vm_id <> f.vm_id OR b.inode_id <> f.inode_id`],
  ['open or pending file on a VM that is not active', `SELECT f.id FROM files f JOIN vms v ON v.id = f.vm_id WHERE f.state IN ('open','pending') AND v.state <> 'active'`],
  ['open or pending file on an inode that is not live', `SELECT f.id FROM files f JOIN inodes i ON i.id = f.inode_id WHERE f.state IN ('open','pending') AND i.state <> 'live'`],
  ['live inode without exactly one open owner file', `SELECT i.id FROM inodes i WHERE i.state = 'live'
      AND (SELECT count(*) FROM files f WHERE f.inode_id = i.id AND f.role = 'owner' AND f.state = 'open') <> 1`],
  ['live inode owned by a VM other than its owner file\'s', `SELECT i.id FROM inodes i JOIN files f ON f.inode_id = i.id
      WHERE i.state = 'live' AND f.role = 'owner' AND f.state = 'open' AND f.vm_id <> i.owner_vm_id`],
  ['pending file outside a prepared migration', `SELECT f.id FROM files f LEFT JOIN migrations m ON m.id = f.migration_id
      WHERE f.state = 'pending' AND (m.id IS NULL OR m.state <> 'prepared')`],
  ['prepared migration with a VM that is not active', `SELECT m.id FROM migrations m JOIN vms s ON s.id = m.source_vm_id JOIN vms t ON t.id = m.target_vm_id
      WHERE m.state = 'prepared' AND (s.state <> 'active' OR t.state <> 'active')`],
  ['gpa overlap between active bindings of one VM', `SELECT a.id FROM bindings a JOIN bindings b ON a.vm_id = b.vm_id AND a.id < b.id
      WHERE a.state = 'active' AND b.state = 'active' AND a.gpa < b.gpa + b.size AND b.gpa < a.gpa + a.size`],
  ['open access period for a file that is not open', `SELECT a.file_id FROM access_intervals a JOIN files f ON f.id = a.file_id WHERE a.to_seq IS NULL AND f.state <> 'open'`],
  ['open file without an open access period', `SELECT f.id FROM files f WHERE f.state = 'open'
      AND NOT EXISTS (SELECT 1 FROM access_intervals a WHERE a.file_id = f.id AND a.to_seq IS NULL)`],
  ['live_totals differs from a count of the rows', `SELECT 'live_totals' FROM live_totals t WHERE t.id = 1 AND (
      t.vms_active <> (SELECT count(*) FROM vms WHERE state = 'active')
      OR t.inodes_live <> (SELECT count(*) FROM inodes WHERE state = 'live')
      OR t.inode_bytes_live <> (SELECT coalesce(sum(size), 0) FROM inodes WHERE state = 'live'))
      UNION ALL SELECT 'live_totals row missing' WHERE NOT EXISTS (SELECT 1 FROM live_totals WHERE id = 1)`],
  ['vm_binding_totals differs from a count of the rows', `SELECT v.id FROM vms v
      WHERE coalesce((SELECT t.bindings_active FROM vm_binding_totals t WHERE t.vm_id = v.id), 0)
        <> (SELECT count(*) FROM bindings b WHERE b.vm_id = v.id AND b.state = 'active')`],
  ['ended object without an end time', `SELECT id FROM vms WHERE state <> 'active' AND ended_at IS NULL
      UNION ALL SELECT id FROM inodes WHERE state <> 'live' AND ended_at IS NULL
      UNION ALL SELECT id FROM files WHERE state IN ('closed','lost') AND ended_at IS NULL
      UNION ALL SELECT id FROM bindings WHERE state <> 'active' AND ended_at IS NULL`],
];

export function ledgerViolations(db: Db): string[] {
  const out: string[] = [];
  const integrity = (db.pragma('integrity_check') as { integrity_check: string }[])[0]!.integrity_check;
  if (integrity !== 'ok') out.push(`integrity_check: ${integrity}`);
  const chain = verifyLedger(db);
  if (!chain.ok) out.push(`audit chain breaks at seq ${chain.firstBadSeq}: ${chain.message}`);
  for (const [what, sql] of RULES) {
    const ids = (db.prepare(sql).all() as Record<string, string>[]).map((r) => Object.values(r)[0]);
    if (ids.length > 0) out.push(`${what}: ${ids.join(', ')}`);
  }
  return out;
}

/** Opens the file read-only, checks it, closes it. */
export function ledgerViolationsAt(path: string): string[] {
  const db = new Database(path, { readonly: true });
  try { return ledgerViolations(db); } finally { db.close(); }
}
