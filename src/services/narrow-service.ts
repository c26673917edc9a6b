// Narrowing a grant. The kernel side changes first: memslots of files that lose `write`
// are re-created read-only (a memslot cannot toggle KVM_MEM_READONLY in place), files that
// lose `read` lose their memslots, and grants made from the file shrink with it.
import { ok, type Result } from '../domain/result.js';
import { checkNarrow } from '../domain/permissions.js';
import type { BindingRow, FileRow } from '../store/rows.js';
import type { Caller, ServiceContext } from './context.js';
import { check, event, failKernel } from './outcomes.js';
import { fileWithInode } from './file-service.js';
import { cascadePermissions } from './grants.js';
import { createMemslot, deleteMemslot, slotKind } from './memslots.js';

interface Change { file: FileRow; perms: string[]; rebind: BindingRow[]; drop: BindingRow[] }

export function narrowFile(ctx: ServiceContext, caller: Caller, fileId: string, input: { permissions: string[] }): Result<FileRow> {
  const { store } = ctx;
  const found = check(ctx, caller, 'file.narrow', { fileId }, fileWithInode(ctx, fileId));
  if (!found.ok) return found;
  const { file } = found.value;
  const subjects = { vmId: file.vmId, inodeId: file.inodeId, fileId };
  const perms = check(ctx, caller, 'file.narrow', subjects, checkNarrow(file, input.permissions));
  if (!perms.ok) return perms;

  const cascade = cascadePermissions(store, file, perms.value);
  const changes: Change[] = [];
  for (const [id, next] of cascade) {
    const f = id === file.id ? file : store.files.get(id)!;
    if (next.length === f.permissions.length) continue;
    const bindings = store.bindings.activeByFile(id);
    const drop = next.includes('read') ? [] : bindings;
    const rebind = next.includes('read') && f.permissions.includes('write') && !next.includes('write')
      ? bindings.filter((b) => !b.readonly) : [];
    changes.push({ file: f, perms: next, rebind, drop });
  }

  const intent = store.uow.run(() => store.intents.open('file.narrow', { fileId, permissions: perms.value }));
  ctx.crashPoint('file.narrow:intent');
  const rebound: { old: BindingRow; next: BindingRow }[] = [];
  for (const c of changes) {
    for (const b of [...c.drop, ...c.rebind]) {
      const r = deleteMemslot(ctx, b);
      if (!r.ok) { store.uow.run(() => store.intents.finish(intent.id, 'resolved')); return failKernel(ctx, caller, 'file.narrow', subjects, r.error); }
    }
    ctx.crashPoint('file.narrow:memslots_deleted');
    for (const b of c.rebind) {
      const kind = slotKind(ctx, b.inodeId, b.vmId, false)!;
      const next = { ...b, kind, readonly: kind === 'view' };
      const r = createMemslot(ctx, next);
      // The old memslot is gone either way; without its read-only replacement the
      // binding is recorded deleted below and the failure is in its event.
      if (r.ok) rebound.push({ old: b, next }); else c.drop.push(b);
    }
  }

  store.uow.run(() => {
    const t = ctx.now();
    for (const c of changes) {
      store.files.update(c.file.id, { permissions: c.perms });
      const e = store.chain.append(event(caller, 'file.narrow', { vmId: c.file.vmId, inodeId: c.file.inodeId, fileId: c.file.id },
        { from: c.file.permissions, to: c.perms, ...(c.file.id !== fileId ? { cause: fileId } : {}) }));
      store.access.change({ ...c.file, permissions: c.perms }, { time: e.time, seq: e.seq });
      for (const b of c.drop) {
        store.bindings.update(b.id, { state: 'deleted', endedAt: t });
        store.chain.append(event(caller, 'binding.delete', { vmId: b.vmId, inodeId: b.inodeId, fileId: b.fileId, bindingId: b.id }, { cause: 'file.narrow' }));
      }
    }
    for (const { old, next } of rebound) {
      store.bindings.update(old.id, { readonly: next.readonly, kind: next.kind });
      store.chain.append(event(caller, 'binding.create', { vmId: old.vmId, inodeId: old.inodeId, fileId: old.fileId, bindingId: old.id },
        { slot: old.slot, gpa: old.gpa, readonly: next.readonly, kind: next.kind, cause: 'file.narrow', recreated: true }));
    }
    store.intents.finish(intent.id);
  });
  return ok(store.files.get(fileId)!);
}
