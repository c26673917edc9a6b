// Intra-host migration, prepare and abort. Prepare records pending files for the target
// (they reserve the target's place on each inode and cannot be bound) and a plan mirroring
// the source's memslots; no kernel call happens until commit (migration-commit.ts).
import { err, ok, type Result } from '../domain/result.js';
import { planMigration, type MigrationPlan } from '../domain/migration-plan.js';
import { newId } from '../store/ids.js';
import type { FileRow, MigrationRow } from '../store/rows.js';
import type { Caller, ServiceContext } from './context.js';
import { check, deny, event } from './outcomes.js';
import { activeVm } from './vm-service.js';

export function buildPlan(ctx: ServiceContext, sourceVmId: string, targetVmId: string): Result<MigrationPlan> {
  const { store } = ctx;
  const files = store.files.byVm(sourceVmId, ['open']).map((f) => ({
    sourceFileId: f.id, inodeId: f.inodeId, role: f.role, permissions: f.permissions, shareable: store.inodes.get(f.inodeId)!.shareable,
  }));
  const targetInodes = new Set(store.files.byVm(targetVmId, ['open']).map((f) => f.inodeId));
  return planMigration(files, store.bindings.activeByVm(sourceVmId), store.bindings.activeByVm(targetVmId), targetInodes);
}

export function prepareMigration(ctx: ServiceContext, caller: Caller, input: { sourceVmId: string; targetVmId: string }): Result<MigrationRow> {
  const { store } = ctx;
  const subjects = { vmId: input.sourceVmId };
  const denyWith = (code: 'migration.same_vm' | 'migration.vm_busy', message: string, details?: Record<string, unknown>) =>
    deny(ctx, caller, 'migration.prepare', subjects, { code, message, details });
  if (input.sourceVmId === input.targetVmId) return denyWith('migration.same_vm', 'source and target are the same VM');
  for (const id of [input.sourceVmId, input.targetVmId]) {
    const vm = check(ctx, caller, 'migration.prepare', subjects, activeVm(ctx, id));
    if (!vm.ok) return vm;
    const busy = store.migrations.unfinishedFor(id);
    if (busy) return denyWith('migration.vm_busy', `VM ${id} takes part in migration ${busy.id}`, { migrationId: busy.id });
  }
  const plan = check(ctx, caller, 'migration.prepare', subjects, buildPlan(ctx, input.sourceVmId, input.targetVmId));
  if (!plan.ok) return plan;

  const t = ctx.now();
  const mig: MigrationRow = {
    id: newId('mig', t), sourceVmId: input.sourceVmId, targetVmId: input.targetVmId, kind: 'migration',
    state: 'prepared', plan: plan.value, createdAt: t, endedAt: null,
  };
  store.uow.run(() => {
    store.migrations.insert(mig);
    for (const f of plan.value.files) {
      const source = store.files.get(f.sourceFileId)!;
      const pending: FileRow = {
        id: newId('file', t), inodeId: f.inodeId, vmId: input.targetVmId, role: f.role, permissions: f.permissions,
        grantedByFileId: source.grantedByFileId, migrationId: mig.id, state: 'pending', createdAt: t, endedAt: null,
      };
      store.files.insert(pending);
    }
    store.chain.append(event(caller, 'migration.prepare', { vmId: input.sourceVmId, migrationId: mig.id },
      { sourceVmId: input.sourceVmId, targetVmId: input.targetVmId, files: plan.value.files.length, memslots: plan.value.memslots.length }));
  });
  return ok(mig);
}

export function preparedMigration(ctx: ServiceContext, id: string): Result<MigrationRow> {
  const mig = ctx.store.migrations.get(id);
  if (!mig) return err('migration.not_found', `no migration ${id}`, { migrationId: id });
  if (mig.state !== 'prepared') return err('migration.not_prepared', `migration ${id} is ${mig.state}`, { state: mig.state });
  return ok(mig);
}

export function abortMigration(ctx: ServiceContext, caller: Caller, id: string): Result<MigrationRow> {
  const { store } = ctx;
  const mig = check(ctx, caller, 'migration.abort', { migrationId: id }, preparedMigration(ctx, id));
  if (!mig.ok) return mig;
  const t = ctx.now();
  store.uow.run(() => {
    for (const f of store.files.byMigration(id)) if (f.state === 'pending') store.files.update(f.id, { state: 'closed', endedAt: t });
    store.migrations.setState(id, 'aborted', t);
    store.chain.append(event(caller, 'migration.abort', { vmId: mig.value.sourceVmId, migrationId: id }, { targetVmId: mig.value.targetVmId }));
  });
  return ok(store.migrations.get(id)!);
}
