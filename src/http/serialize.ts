// Ledger rows to wire shapes: ISO times, and nothing internal leaks.
import fastJson from 'fast-json-stringify';
import type { BindingRow, FileRow, InodeRow, VmRow } from '../store/rows.js';

// Formatting a time is most of the cost of mapping a row (a list of 100 spent more on
// toISOString than on its query), and the same instants come back on every read of the same
// rows: memoized, in a map dropped whenever it grows past ISO_MEMO entries.
const ISO_MEMO = 1 << 14;
const isoMemo = new Map<number, string>();
const iso = (t: number) => {
  let s = isoMemo.get(t);
  if (s === undefined) {
    if (isoMemo.size >= ISO_MEMO) isoMemo.clear();
    isoMemo.set(t, s = new Date(t).toISOString());
  }
  return s;
};
const isoOrNull = (t: number | null) => (t === null ? null : iso(t));

export const vmJson = (v: VmRow) => ({
  id: v.id, name: v.name, labels: v.labels, state: v.state, createdAt: iso(v.createdAt), endedAt: isoOrNull(v.endedAt),
});

export const inodeJson = (i: InodeRow) => ({
  id: i.id, size: i.size, shareable: i.shareable, kernelInode: i.kernelInode, originVmId: i.originVmId,
  ownerVmId: i.ownerVmId, labels: i.labels, state: i.state, createdAt: iso(i.createdAt), endedAt: isoOrNull(i.endedAt),
});

export const fileJson = (f: FileRow) => ({
  id: f.id, inodeId: f.inodeId, vmId: f.vmId, role: f.role, permissions: f.permissions as ('read' | 'write' | 'allocate' | 'share')[],
  grantedByFileId: f.grantedByFileId, migrationId: f.migrationId, state: f.state,
  createdAt: iso(f.createdAt), endedAt: isoOrNull(f.endedAt),
});

export const bindingJson = (b: BindingRow) => ({
  id: b.id, fileId: b.fileId, vmId: b.vmId, inodeId: b.inodeId, slot: b.slot, gpa: b.gpa, offset: b.offset,
  size: b.size, readonly: b.readonly, kind: b.kind, state: b.state, createdAt: iso(b.createdAt), endedAt: isoOrNull(b.endedAt),
});

export function pageJson<R, J>(page: { items: R[]; nextCursor: string | null }, map: (r: R) => J) {
  return { items: page.items.map(map), nextCursor: page.nextCursor };
}

/**
 * Response serializers, one fast-json-stringify function per distinct response schema,
 * shared by every route that answers with it (most routes answer problems with the same
 * `{$ref: 'Problem#'}`), and each built with only the named schemas it reaches. Fastify's
 * default builds one per route and status, and fast-json-stringify validates every external
 * schema it is handed on each build: that was a third of gmemd's start-up.
 */
export function serializerCompiler(named: readonly object[]) {
  const byId = new Map(named.map((s) => [(s as { $id: string }).$id, s]));
  const built = new Map<string, (data: unknown) => string>();
  return ({ schema }: { schema: unknown }) => {
    const key = JSON.stringify(schema);
    let f = built.get(key);
    if (!f) {
      const reached: Record<string, unknown> = {};
      const walk = (node: unknown): void => {
        if (Array.isArray(node)) { node.forEach(walk); return; }
        if (node === null || typeof node !== 'object') return;
        for (const [k, v] of Object.entries(node)) {
          if (k === '$ref' && typeof v === 'string') {
            const id = v.split('#')[0]!;
            const target = byId.get(id);
            if (target && !(id in reached)) { reached[id] = target; walk(target); }
          } else walk(v);
        }
      };
      walk(schema);
      built.set(key, f = fastJson(schema as Parameters<typeof fastJson>[0], { schema: reached as Record<string, never> }));
    }
    return f;
  };
}
