// VM use cases: create (KVM_CREATE_VM) and destroy (memslots, files, released inodes, VM fd).
import { err, ok, type Result } from '../domain/result.js';
import { checkVmQuota } from '../domain/quotas.js';
import type { KResult } from '../kvm/kernel-error.js';
import { newId } from '../store/ids.js';
import type { VmRow } from '../store/rows.js';
import type { Caller, ServiceContext } from './context.js';
import { run } from './pipeline/run.js';
import { closeFilesPlan, type ClosedSummary } from './teardown.js';

export interface CreateVmInput { name: string; labels?: Record<string, string> }

export function createVm(ctx: ServiceContext, caller: Caller, input: CreateVmInput): Promise<Result<VmRow>> {
  const { store, kvm, registry } = ctx;
  const id = newId('vm');
  let release = () => {};
  return run(ctx, caller, {
    action: 'vm.create',
    // Two creates of one name must not both pass the check before either is recorded.
    keys: [`vm.name:${input.name}`],
    decide: () => {
      if (store.vms.findActiveByName(input.name)) return err('vm.name_taken', `an active VM is named ${input.name}`, { name: input.name });
      const { pending } = ctx.pipeline;
      const quota = checkVmQuota(store.vms.countActive() + pending.vms, ctx.limits);
      if (!quota.ok) return quota;
      // Held until the row is written (it then counts itself) or the command ends without it.
      release = pending.hold({ vms: 1 });
      const held = (fd: KResult<number>) => { if (fd.ok) registry.addVm(id, fd.value); return fd; };
      return ok({
        details: { name: input.name },
        steps: [{
          id: 'vm',
          run: () => held(kvm.createVm(0)),
          start: () => kvm.createVmAsync(0).then(held),
          // Nothing recorded: the kernel VM must not outlive the failed write.
          undo: () => { const fd = registry.vmFd(id); registry.dropVm(id); return fd === undefined ? ok(undefined) : kvm.close(fd); },
        }],
        record: (rec) => {
          const row: VmRow = { id, name: input.name, labels: input.labels ?? {}, vmType: 0, state: 'active', createdAt: rec.time, endedAt: null };
          store.vms.insert(row);
          release();
          rec.event('vm.create', { vmId: row.id }, { name: row.name, labels: row.labels });
          return row;
        },
        settled: () => release(),
      });
    },
  });
}

export function activeVm(ctx: ServiceContext, vmId: string): Result<VmRow> {
  const vm = ctx.store.vms.get(vmId);
  if (!vm) return err('vm.not_found', `no VM ${vmId}`, { vmId });
  if (vm.state !== 'active') return err('vm.not_active', `VM ${vmId} is ${vm.state}`, { vmId, state: vm.state });
  // The ledger may still say active for a VM whose kernel object died with an earlier
  // process, until start-up reconcile marks it lost: never hand out an fd we do not hold.
  if (ctx.registry.vmFd(vmId) === undefined) {
    return err('vm.not_active', `VM ${vmId} has no kernel VM in this process; reconcile marks it lost`, { vmId, state: 'lost' });
  }
  return ok(vm);
}

export function destroyVm(ctx: ServiceContext, caller: Caller, vmId: string): Promise<Result<ClosedSummary>> {
  const { store } = ctx;
  return run(ctx, caller, {
    action: 'vm.destroy', subjects: { vmId }, keys: 'global',
    decide: (scope) => {
      const vm = activeVm(ctx, vmId);
      if (!vm.ok) return vm;
      const mig = store.migrations.unfinishedFor(vmId);
      if (mig) {
        scope.about({ migrationId: mig.id });
        return err('vm.in_migration', `VM ${vmId} takes part in migration ${mig.id}; commit or abort it first`, { migrationId: mig.id });
      }
      const files = store.files.byVm(vmId);
      const close = closeFilesPlan(ctx, files, 'file.close');
      return ok({
        intent: { kind: 'vm.destroy', payload: { vmId, files: files.map((f) => f.id) }, crash: 'vm.destroy:intent' },
        steps: close.steps,
        record: (rec, log) => {
          const summary = close.record(rec, log);
          store.vms.setState(vmId, 'destroyed', rec.time);
          rec.event('vm.destroy', { vmId });
          return summary;
        },
        afterRecord: 'vm.destroy:recorded',
        afterCommit: () => {
          const fd = ctx.registry.vmFd(vmId);
          if (fd !== undefined) { ctx.kvm.close(fd); ctx.registry.dropVm(vmId); }
        },
      });
    },
  });
}
