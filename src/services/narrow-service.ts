// Narrowing a grant. The kernel side changes first: memslots of files that lose `write`
// are re-created read-only (a memslot cannot toggle KVM_MEM_READONLY in place), files that
// lose `read` lose their memslots, and grants made from the file shrink with it.
import { ok, type Result } from '../domain/result.js';
import { checkNarrow } from '../domain/permissions.js';
import { planNarrow } from '../domain/narrow-plan.js';
import type { BindingRow, FileRow } from '../store/rows.js';
import type { Caller, ServiceContext } from './context.js';
import { fileWithInode } from './file-service.js';
import { cascadePermissions } from './grants.js';
import { createMemslot, deleteMemslot, slotKind } from './memslots.js';
import type { Step } from './pipeline/command.js';
import { run } from './pipeline/run.js';

export function narrowFile(ctx: ServiceContext, caller: Caller, fileId: string, input: { permissions: string[] }): Promise<Result<FileRow>> {
  const { store } = ctx;
  return run(ctx, caller, {
    action: 'file.narrow', subjects: { fileId }, keys: 'global',
    decide: (scope) => {
      const found = fileWithInode(ctx, fileId);
      if (!found.ok) return found;
      const { file } = found.value;
      scope.about({ vmId: file.vmId, inodeId: file.inodeId });
      const perms = checkNarrow(file, input.permissions);
      if (!perms.ok) return perms;
      const changes = planNarrow(cascadePermissions(store, file, perms.value), (id) => (id === file.id ? file : store.files.get(id)!),
        (id) => store.bindings.activeByFile(id));
      const readOnly = (b: BindingRow) => { const kind = slotKind(ctx, b.inodeId, b.vmId, false)!; return { ...b, kind, readonly: kind === 'view' }; };
      const steps: Step[] = [];
      for (const c of changes) {
        for (const b of [...c.drop, ...c.rebind]) steps.push({ id: `delete:${b.id}`, run: () => deleteMemslot(ctx, b), undo: () => createMemslot(ctx, b) });
        steps.push({ crash: 'file.narrow:memslots_deleted' });
        // The old memslot is gone either way; without its read-only replacement the
        // binding is recorded deleted and the refusal is in its event.
        for (const b of c.rebind) {
          const next = readOnly(b);
          steps.push({ id: `recreate:${b.id}`, onError: 'continue', run: () => createMemslot(ctx, next), undo: () => deleteMemslot(ctx, next) });
        }
      }
      return ok({
        intent: { kind: 'file.narrow', payload: { fileId, permissions: perms.value, files: changes.map((c) => c.file.id) }, crash: 'file.narrow:intent' },
        steps,
        record: (rec, log) => {
          for (const c of changes) {
            store.files.update(c.file.id, { permissions: c.perms });
            const e = rec.event('file.narrow', { vmId: c.file.vmId, inodeId: c.file.inodeId, fileId: c.file.id },
              { from: c.file.permissions, to: c.perms, ...(c.file.id !== fileId ? { cause: fileId } : {}) });
            store.access.change({ ...c.file, permissions: c.perms }, { time: e.time, seq: e.seq });
            for (const b of c.drop) rec.bindingDeleted(b, { cause: 'file.narrow' });
            for (const b of c.rebind) {
              if (!log.ok(`recreate:${b.id}`)) { rec.bindingDeleted(b, { cause: 'file.narrow', kernelErrno: log.errno(`recreate:${b.id}`) }); continue; }
              const next = readOnly(b);
              store.bindings.update(b.id, { readonly: next.readonly, kind: next.kind });
              rec.bindingEvent(next, { cause: 'file.narrow', recreated: true });
            }
          }
          return store.files.get(fileId)!;
        },
      });
    },
  });
}
