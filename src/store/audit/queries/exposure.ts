// Memory exposure now: live inodes whose live files (open or pending) make them reachable
// by more than one VM, writable by more than the owner, re-shared by a grantee, or kept alive
// after the VM they were created on is gone. One aggregate query walks live inodes in id
// order (inodes_state_idx) and their live files, so a page stops as soon as it has `limit`
// findings. The live files come from the partial index files_one_live_per_vm_uq, which holds
// only open and pending files: files_inode_idx would also visit every closed file of the
// inode's history (3x slower at 1M events; the planner picks it unless told).
import type Database from 'better-sqlite3';
import { ok, type Result } from '../../../domain/result.js';
import { clampLimit, decodeIdCursor, pageOf, type Page } from './paging.js';

export const EXPOSURE_KINDS = ['multi_vm', 'write_shared', 'grant_of_grant', 'origin_gone'] as const;
export type ExposureKind = (typeof EXPOSURE_KINDS)[number];

export interface ExposedFile {
  fileId: string; vmId: string; role: 'owner' | 'grantee'; permissions: string[];
  state: 'open' | 'pending'; grantedByFileId: string | null;
  /** Role of the granting file: 'grantee' marks a grant of a grant. */
  grantedByRole: 'owner' | 'grantee' | null;
}

export interface Exposure {
  inodeId: string; size: number; shareable: boolean; ownerVmId: string;
  originVmId: string; originVmState: 'active' | 'destroyed' | 'lost';
  findings: ExposureKind[];
  vmIds: string[];
  files: ExposedFile[];
}

// Each finding as a condition over the per-inode aggregates below.
const FINDING_SQL: Record<ExposureKind, string> = {
  multi_vm: 'vmCount > 1',
  write_shared: '(nonOwnerWriters > 0 OR writers > 1)',
  grant_of_grant: 'grantsOfGrants > 0',
  origin_gone: `originVmState <> 'active'`,
};

// permissions is a JSON array over a fixed vocabulary in which no other name contains
// "write", so a substring test is exact, and far cheaper than json_each per file.
const WRITES = `(instr(f.permissions, '"write"') > 0)`;

interface Row {
  inodeId: string; size: number; shareable: number; ownerVmId: string; originVmId: string;
  originVmState: Exposure['originVmState']; vmCount: number; writers: number; nonOwnerWriters: number;
  grantsOfGrants: number; files: string;
}

function statementFor(sqlite: Database.Database, kind: ExposureKind | undefined): Database.Statement {
  const having = kind ? FINDING_SQL[kind] : Object.values(FINDING_SQL).join(' OR ');
  return sqlite.prepare(`
    SELECT i.id AS inodeId, i.size AS size, i.shareable AS shareable, i.owner_vm_id AS ownerVmId,
      i.origin_vm_id AS originVmId, ov.state AS originVmState,
      count(DISTINCT f.vm_id) AS vmCount,
      sum(${WRITES}) AS writers,
      sum(${WRITES} AND f.role <> 'owner') AS nonOwnerWriters,
      sum(f.role = 'grantee' AND g.role = 'grantee') AS grantsOfGrants,
      json_group_array(json_object('fileId', f.id, 'vmId', f.vm_id, 'role', f.role,
        'permissions', json(f.permissions), 'state', f.state, 'grantedByFileId', f.granted_by_file_id,
        'grantedByRole', g.role)) AS files
    FROM inodes i
      JOIN vms ov ON ov.id = i.origin_vm_id
      JOIN files f INDEXED BY files_one_live_per_vm_uq ON f.inode_id = i.id AND f.state IN ('open','pending')
      LEFT JOIN files g ON g.id = f.granted_by_file_id
    WHERE i.state = 'live' AND i.id > @after
    GROUP BY i.id
    HAVING ${having}
    ORDER BY i.id
    LIMIT @limit`);
}

export class ExposureQuery {
  private readonly statements = new Map<ExposureKind | 'any', Database.Statement>();

  constructor(private readonly sqlite: Database.Database) {}

  page(q: { kind?: ExposureKind; cursor?: string; limit?: number } = {}): Result<Page<Exposure>> {
    const after = decodeIdCursor(q.cursor);
    if (!after.ok) return after;
    const limit = clampLimit(q.limit);
    const key = q.kind ?? 'any';
    let stmt = this.statements.get(key);
    if (!stmt) { stmt = statementFor(this.sqlite, q.kind); this.statements.set(key, stmt); }
    const rows = stmt.all({ after: after.value ?? '', limit: limit + 1 }) as Row[];
    return ok(pageOf(rows, limit, (r) => r.inodeId, toExposure));
  }
}

function toExposure(r: Row): Exposure {
  const files = (JSON.parse(r.files) as ExposedFile[]).sort((a, b) => (a.fileId < b.fileId ? -1 : 1));
  return {
    inodeId: r.inodeId, size: r.size, shareable: r.shareable === 1, ownerVmId: r.ownerVmId,
    originVmId: r.originVmId, originVmState: r.originVmState,
    findings: EXPOSURE_KINDS.filter((k) => findingHolds(k, r)),
    vmIds: [...new Set(files.map((f) => f.vmId))].sort(),
    files,
  };
}

function findingHolds(kind: ExposureKind, r: Row): boolean {
  switch (kind) {
    case 'multi_vm': return r.vmCount > 1;
    case 'write_shared': return r.nonOwnerWriters > 0 || r.writers > 1;
    case 'grant_of_grant': return r.grantsOfGrants > 0;
    case 'origin_gone': return r.originVmState !== 'active';
  }
}
