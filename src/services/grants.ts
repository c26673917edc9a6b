// Grant trees: a grantee may re-share (with `share`), so narrowing or revoking a file has
// to reach the grants made from it, keeping "a grant never carries a permission its
// granter lacks" true after the change.
import type { FileRow } from '../store/rows.js';
import type { Store } from '../store/store.js';

/** Live files granted, directly or transitively, from `root`, parents before children. */
export function descendants(store: Store, root: FileRow): FileRow[] {
  const live = store.files.byInode(root.inodeId);
  const out: FileRow[] = [];
  let frontier = [root.id];
  while (frontier.length > 0) {
    const next = live.filter((f) => f.grantedByFileId !== null && frontier.includes(f.grantedByFileId));
    out.push(...next);
    frontier = next.map((f) => f.id);
  }
  return out;
}

/** New permissions for each file under `root` once root holds `rootPerms`: each keeps what its parent still has. */
export function cascadePermissions(store: Store, root: FileRow, rootPerms: string[]): Map<string, string[]> {
  const perms = new Map<string, string[]>([[root.id, rootPerms]]);
  for (const f of descendants(store, root)) {
    const parent = perms.get(f.grantedByFileId!) ?? [];
    // A parent without share can no longer back any grant.
    const allowed = parent.includes('share') ? parent : [];
    perms.set(f.id, f.permissions.filter((p) => allowed.includes(p)));
  }
  return perms;
}
