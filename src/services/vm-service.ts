// VM use cases: create (KVM_CREATE_VM) and destroy (memslots, files, released inodes, VM fd).
import { err, ok, type Result } from '../domain/result.js';
import { newId } from '../store/ids.js';
import type { VmRow } from '../store/rows.js';
import type { Caller, ServiceContext } from './context.js';
import { deny, event, failKernel } from './outcomes.js';
import { closeFiles, type ClosedSummary } from './teardown.js';

export interface CreateVmInput { name: string; labels?: Record<string, string> }

export function createVm(ctx: ServiceContext, caller: Caller, input: CreateVmInput): Result<VmRow> {
  const { store, kvm } = ctx;
  if (store.vms.findActiveByName(input.name)) {
    return deny(ctx, caller, 'vm.create', {}, { code: 'vm.name_taken', message: `an active VM is named ${input.name}`, details: { name: input.name } });
  }
  const fd = kvm.createVm(0);
  if (!fd.ok) return failKernel(ctx, caller, 'vm.create', {}, fd.error, { name: input.name });
  const row: VmRow = {
    id: newId('vm'), name: input.name, labels: input.labels ?? {}, vmType: 0, state: 'active',
    createdAt: ctx.now(), endedAt: null,
  };
  try {
    store.uow.run(() => {
      store.vms.insert(row);
      store.chain.append(event(caller, 'vm.create', { vmId: row.id }, { name: row.name, labels: row.labels }));
    });
  } catch (e) {
    kvm.close(fd.value); // nothing recorded: the kernel VM must not outlive the failed write
    throw e;
  }
  ctx.registry.vms.set(row.id, fd.value);
  return ok(row);
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

export function destroyVm(ctx: ServiceContext, caller: Caller, vmId: string): Result<ClosedSummary> {
  const { store } = ctx;
  const vm = activeVm(ctx, vmId);
  if (!vm.ok) return deny(ctx, caller, 'vm.destroy', { vmId }, vm.error);
  const mig = store.migrations.unfinishedFor(vmId);
  if (mig) {
    return deny(ctx, caller, 'vm.destroy', { vmId, migrationId: mig.id },
      { code: 'vm.in_migration', message: `VM ${vmId} takes part in migration ${mig.id}; commit or abort it first`, details: { migrationId: mig.id } });
  }
  const files = store.files.byVm(vmId);
  const intent = store.uow.run(() => store.intents.open('vm.destroy', { vmId, files: files.map((f) => f.id) }));
  ctx.crashPoint('vm.destroy:intent');
  const summary = closeFiles(ctx, caller, files, 'file.close', intent.id, () => {
    store.vms.setState(vmId, 'destroyed', ctx.now());
    store.chain.append(event(caller, 'vm.destroy', { vmId }));
  });
  ctx.crashPoint('vm.destroy:recorded');
  const fd = ctx.registry.vmFd(vmId);
  if (fd !== undefined) { ctx.kvm.close(fd); ctx.registry.vms.delete(vmId); }
  return ok(summary);
}
