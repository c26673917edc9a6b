// What narrowing a grant does to each file of its grant tree and to their memslots: a file
// that loses read loses its memslots; one that keeps read but loses write gets its writable
// memslots re-created read-only (a memslot cannot toggle KVM_MEM_READONLY in place).
interface FileLike { id: string; permissions: readonly string[] }
interface BindingLike { readonly: boolean }

export interface NarrowChange<F, B> { file: F; perms: string[]; rebind: B[]; drop: B[] }

export function planNarrow<F extends FileLike, B extends BindingLike>(cascade: Map<string, string[]>, fileOf: (id: string) => F,
  bindingsOf: (fileId: string) => B[]): NarrowChange<F, B>[] {
  const changes: NarrowChange<F, B>[] = [];
  for (const [id, next] of cascade) {
    const f = fileOf(id);
    if (next.length === f.permissions.length) continue;
    const bindings = bindingsOf(id);
    const keepsRead = next.includes('read');
    const drop = keepsRead ? [] : bindings;
    const rebind = keepsRead && f.permissions.includes('write') && !next.includes('write') ? bindings.filter((b) => !b.readonly) : [];
    changes.push({ file: f, perms: next, rebind, drop });
  }
  return changes;
}
