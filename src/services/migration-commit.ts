// Migration commit: every view moves in one step. Kernel first — the source's memslots are
// deleted and the target's created from the plan; a refused target memslot undoes every step
// before it (the source is restored) — then one record closes the source's files, opens the
// target's, moves ownership and records every binding. The memory never moves.
import { err, ok, type Result } from '../domain/result.js';
import { newId } from '../store/ids.js';
import type { BindingRow, MigrationRow } from '../store/rows.js';
import type { Caller, ServiceContext } from './context.js';
import { buildPlan, preparedMigration } from './migration-service.js';
import { createMemslot, deleteMemslot, slotKind, type SlotSpec } from './memslots.js';
import type { Step } from './pipeline/command.js';
import { run } from './pipeline/run.js';

export function commitMigration(ctx: ServiceContext, caller: Caller, id: string): Promise<Result<MigrationRow>> {
  const { store } = ctx;
  return run(ctx, caller, {
    action: 'migration.commit', subjects: { migrationId: id }, keys: 'global',
    decide: (scope) => {
      const mig = preparedMigration(ctx, id);
      if (!mig.ok) return mig;
      const { sourceVmId, targetVmId } = mig.value;
      scope.about({ vmId: sourceVmId });
      const pending = store.files.byMigration(id).filter((f) => f.state === 'pending');
      const plan = buildPlan(ctx, sourceVmId, targetVmId);
      if (!plan.ok) return plan;
      const byInode = new Map(pending.map((f) => [f.inodeId, f]));
      if (plan.value.files.length !== pending.length || plan.value.files.some((f) => !byInode.has(f.inodeId))) {
        return err('migration.conflict', 'the source VM\'s files changed since prepare; abort and prepare again');
      }
      const sourceBindings = store.bindings.activeByVm(sourceVmId);
      const targetSpecs: (SlotSpec & { fileId: string })[] = plan.value.memslots.map((s) => {
        const file = byInode.get(s.inodeId)!;
        const writable = file.permissions.includes('write');
        const kind = slotKind(ctx, s.inodeId, targetVmId, writable)!;
        return { vmId: targetVmId, inodeId: s.inodeId, fileId: file.id, slot: s.slot, gpa: s.gpa, offset: s.offset, size: s.size, kind, readonly: kind === 'view' && !writable };
      });
      const steps: Step[] = [
        // A source memslot the kernel refuses to delete does not stop the move: the target's
        // memslots are what the ledger records next.
        ...sourceBindings.map((b): Step => ({ id: `delete:${b.id}`, onError: 'continue', run: () => deleteMemslot(ctx, b), undo: () => createMemslot(ctx, b) })),
        { crash: 'migration.commit:source_deleted' },
        ...targetSpecs.map((s, i): Step => ({ id: `create:${i}`, run: () => createMemslot(ctx, s), undo: () => deleteMemslot(ctx, s) })),
        { crash: 'migration.commit:target_created' },
      ];
      return ok({
        intent: { kind: 'migration.commit', payload: { migrationId: id, sourceBindings: sourceBindings.map((b) => b.id) }, crash: 'migration.commit:intent' },
        steps,
        record: (rec) => {
          const t = rec.time;
          for (const b of sourceBindings) rec.bindingDeleted(b, { cause: 'migration.commit', migrationId: id });
          for (const spec of targetSpecs) {
            const row: BindingRow = { id: newId('bind', t), ...spec, state: 'active', createdAt: t, endedAt: null };
            rec.bindingCreated(row, { cause: 'migration.commit', migrationId: id });
          }
          for (const pf of plan.value.files) {
            const source = store.files.get(pf.sourceFileId)!;
            const target = byInode.get(pf.inodeId)!;
            store.files.update(source.id, { state: 'closed', endedAt: t });
            store.files.update(target.id, { state: 'open' });
            if (pf.role === 'owner') store.inodes.setOwner(pf.inodeId, targetVmId);
            const e = rec.event('file.migrate', { vmId: targetVmId, inodeId: pf.inodeId, fileId: target.id, migrationId: id },
              { fromVmId: sourceVmId, toVmId: targetVmId, fromFileId: source.id, toFileId: target.id, role: pf.role });
            store.access.close(source.id, { time: e.time, seq: e.seq });
            store.access.open(target, { time: e.time, seq: e.seq });
          }
          store.migrations.setState(id, 'committed', t);
          rec.event('migration.commit', { vmId: sourceVmId, migrationId: id }, { targetVmId, files: plan.value.files.length, memslots: targetSpecs.length });
          return store.migrations.get(id)!;
        },
      });
    },
  });
}
