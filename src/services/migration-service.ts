// Intra-host migration, prepare and abort. Prepare records pending files for the target
// (they reserve the target's place on each inode and cannot be bound) and a plan mirroring
// the source's memslots; no kernel call happens until commit (migration-commit.ts).
import { err, ok, type Result } from '../domain/result.js';
import { planMigration, type MigrationPlan } from '../domain/migration-plan.js';
import { checkBindingQuota } from '../domain/quotas.js';
import { newId } from '../store/ids.js';
import type { FileRow, MigrationRow } from '../store/rows.js';
import type { Caller, ServiceContext } from './context.js';
import { run } from './pipeline/run.js';
import { activeVm } from './vm-service.js';

export function buildPlan(ctx: ServiceContext, sourceVmId: string, targetVmId: string): Result<MigrationPlan> {
  const { store } = ctx;
  const files = store.files.byVm(sourceVmId, ['open']).map((f) => ({
    sourceFileId: f.id, inodeId: f.inodeId, role: f.role, permissions: f.permissions, shareable: store.inodes.get(f.inodeId)!.shareable,
  }));
  const targetInodes = new Set(store.files.byVm(targetVmId, ['open']).map((f) => f.inodeId));
  const targetBindings = store.bindings.activeByVm(targetVmId);
  const plan = planMigration(files, store.bindings.activeByVm(sourceVmId), targetBindings, targetInodes);
  if (!plan.ok) return plan;
  // The target ends up with its own bindings and every one of the source's (prepare and commit both check).
  const quota = checkBindingQuota(targetBindings.length, ctx.limits, plan.value.memslots.length);
  return quota.ok ? plan : quota;
}

export function prepareMigration(ctx: ServiceContext, caller: Caller, input: { sourceVmId: string; targetVmId: string }): Promise<Result<MigrationRow>> {
  const { store } = ctx;
  return run(ctx, caller, {
    action: 'migration.prepare', subjects: { vmId: input.sourceVmId }, keys: 'global',
    decide: () => {
      if (input.sourceVmId === input.targetVmId) return err('migration.same_vm', 'source and target are the same VM');
      for (const id of [input.sourceVmId, input.targetVmId]) {
        const vm = activeVm(ctx, id);
        if (!vm.ok) return vm;
        const busy = store.migrations.unfinishedFor(id);
        if (busy) return err('migration.vm_busy', `VM ${id} takes part in migration ${busy.id}`, { migrationId: busy.id });
      }
      const plan = buildPlan(ctx, input.sourceVmId, input.targetVmId);
      if (!plan.ok) return plan;
      return ok({
        record: (rec) => {
          const t = rec.time;
          const mig: MigrationRow = {
            id: newId('mig', t), sourceVmId: input.sourceVmId, targetVmId: input.targetVmId, kind: 'migration',
            state: 'prepared', plan: plan.value, createdAt: t, endedAt: null,
          };
          store.migrations.insert(mig);
          for (const f of plan.value.files) {
            const source = store.files.get(f.sourceFileId)!;
            const pending: FileRow = {
              id: newId('file', t), inodeId: f.inodeId, vmId: input.targetVmId, role: f.role, permissions: f.permissions,
              grantedByFileId: source.grantedByFileId, migrationId: mig.id, state: 'pending', createdAt: t, endedAt: null,
            };
            store.files.insert(pending);
          }
          rec.event('migration.prepare', { vmId: input.sourceVmId, migrationId: mig.id },
            { sourceVmId: input.sourceVmId, targetVmId: input.targetVmId, files: plan.value.files.length, memslots: plan.value.memslots.length });
          return mig;
        },
      });
    },
  });
}

export function preparedMigration(ctx: ServiceContext, id: string): Result<MigrationRow> {
  const mig = ctx.store.migrations.get(id);
  if (!mig) return err('migration.not_found', `no migration ${id}`, { migrationId: id });
  if (mig.state !== 'prepared') return err('migration.not_prepared', `migration ${id} is ${mig.state}`, { state: mig.state });
  return ok(mig);
}

export function abortMigration(ctx: ServiceContext, caller: Caller, id: string): Promise<Result<MigrationRow>> {
  const { store } = ctx;
  return run(ctx, caller, {
    action: 'migration.abort', subjects: { migrationId: id }, keys: 'global',
    decide: () => {
      const mig = preparedMigration(ctx, id);
      if (!mig.ok) return mig;
      return ok({
        record: (rec) => {
          for (const f of store.files.byMigration(id)) if (f.state === 'pending') store.files.update(f.id, { state: 'closed', endedAt: rec.time });
          store.migrations.setState(id, 'aborted', rec.time);
          rec.event('migration.abort', { vmId: mig.value.sourceVmId, migrationId: id }, { targetVmId: mig.value.targetVmId });
          return store.migrations.get(id)!;
        },
      });
    },
  });
}
