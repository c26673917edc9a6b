// Migration commit: every view moves in one step. Kernel first — the source's memslots are
// deleted and the target's created from the plan, with the source restored if any target
// memslot is refused — then one transaction closes the source's files, opens the target's,
// moves ownership and records every binding. The memory never moves.
import { ok, type Result } from '../domain/result.js';
import { newId } from '../store/ids.js';
import type { BindingRow, MigrationRow } from '../store/rows.js';
import type { Caller, ServiceContext } from './context.js';
import { check, deny, event, failKernel } from './outcomes.js';
import { buildPlan, preparedMigration } from './migration-service.js';
import { createMemslot, deleteMemslot, slotKind, type SlotSpec } from './memslots.js';

export function commitMigration(ctx: ServiceContext, caller: Caller, id: string): Result<MigrationRow> {
  const { store } = ctx;
  const mig = check(ctx, caller, 'migration.commit', { migrationId: id }, preparedMigration(ctx, id));
  if (!mig.ok) return mig;
  const { sourceVmId, targetVmId } = mig.value;
  const subjects = { vmId: sourceVmId, migrationId: id };
  const pending = store.files.byMigration(id).filter((f) => f.state === 'pending');
  const plan = check(ctx, caller, 'migration.commit', subjects, buildPlan(ctx, sourceVmId, targetVmId));
  if (!plan.ok) return plan;
  const byInode = new Map(pending.map((f) => [f.inodeId, f]));
  if (plan.value.files.length !== pending.length || plan.value.files.some((f) => !byInode.has(f.inodeId))) {
    return deny(ctx, caller, 'migration.commit', subjects, { code: 'migration.conflict',
      message: 'the source VM\'s files changed since prepare; abort and prepare again' });
  }

  const sourceBindings = store.bindings.activeByVm(sourceVmId);
  const targetSpecs: (SlotSpec & { fileId: string })[] = plan.value.memslots.map((s) => {
    const file = byInode.get(s.inodeId)!;
    const writable = file.permissions.includes('write');
    const kind = slotKind(ctx, s.inodeId, targetVmId, writable)!;
    return { vmId: targetVmId, inodeId: s.inodeId, fileId: file.id, slot: s.slot, gpa: s.gpa, offset: s.offset, size: s.size, kind, readonly: kind === 'view' && !writable };
  });

  const intent = store.uow.run(() => store.intents.open('migration.commit', { migrationId: id, sourceBindings: sourceBindings.map((b) => b.id) }));
  ctx.crashPoint('migration.commit:intent');
  for (const b of sourceBindings) deleteMemslot(ctx, b);
  ctx.crashPoint('migration.commit:source_deleted');
  const created: SlotSpec[] = [];
  for (const spec of targetSpecs) {
    const r = createMemslot(ctx, spec);
    if (r.ok) { created.push(spec); continue; }
    for (const c of created) deleteMemslot(ctx, c);
    for (const b of sourceBindings) createMemslot(ctx, b);
    store.uow.run(() => store.intents.finish(intent.id, 'resolved'));
    return failKernel(ctx, caller, 'migration.commit', subjects, r.error, { slot: spec.slot, gpa: spec.gpa });
  }
  ctx.crashPoint('migration.commit:target_created');

  const t = ctx.now();
  store.uow.run(() => {
    for (const b of sourceBindings) {
      store.bindings.update(b.id, { state: 'deleted', endedAt: t });
      store.chain.append(event(caller, 'binding.delete', { vmId: b.vmId, inodeId: b.inodeId, fileId: b.fileId, bindingId: b.id, migrationId: id }, { cause: 'migration.commit' }));
    }
    for (const spec of targetSpecs) {
      const row: BindingRow = { id: newId('bind', t), ...spec, state: 'active', createdAt: t, endedAt: null };
      store.bindings.insert(row);
      store.chain.append(event(caller, 'binding.create', { vmId: targetVmId, inodeId: row.inodeId, fileId: row.fileId, bindingId: row.id, migrationId: id },
        { slot: row.slot, gpa: row.gpa, offset: row.offset, size: row.size, kind: row.kind, readonly: row.readonly, cause: 'migration.commit' }));
    }
    for (const pf of plan.value.files) {
      const source = store.files.get(pf.sourceFileId)!;
      const target = byInode.get(pf.inodeId)!;
      store.files.update(source.id, { state: 'closed', endedAt: t });
      store.files.update(target.id, { state: 'open' });
      if (pf.role === 'owner') store.inodes.setOwner(pf.inodeId, targetVmId);
      const e = store.chain.append(event(caller, 'file.migrate', { vmId: targetVmId, inodeId: pf.inodeId, fileId: target.id, migrationId: id },
        { fromVmId: sourceVmId, toVmId: targetVmId, fromFileId: source.id, toFileId: target.id, role: pf.role }));
      store.access.close(source.id, { time: e.time, seq: e.seq });
      store.access.open(target, { time: e.time, seq: e.seq });
    }
    store.migrations.setState(id, 'committed', t);
    store.chain.append(event(caller, 'migration.commit', subjects, { targetVmId, files: plan.value.files.length, memslots: targetSpecs.length }));
    store.intents.finish(intent.id);
  });
  return ok(store.migrations.get(id)!);
}
