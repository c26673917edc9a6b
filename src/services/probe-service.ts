// The probe: run a one-shot vCPU in the VM that reads (and optionally first writes) the
// byte at a guest address, and report what the guest saw. Its code page goes at a free
// guest address in a free memslot, away from every binding, and is removed afterwards.
import { err, ok, type Result } from '../domain/result.js';
import { probeCodeGpa, probeSlot } from '../domain/slots.js';
import type { ProbeOutcome } from '../kvm/kvm-host.js';
import type { Caller, ServiceContext } from './context.js';
import { check, event, failKernel } from './outcomes.js';
import { activeVm } from './vm-service.js';

export const PROBE_GPA_LIMIT = 2 ** 32;

export interface ProbeInput { gpa: number; write?: number }

export function probeVm(ctx: ServiceContext, caller: Caller, vmId: string, input: ProbeInput): Result<ProbeOutcome & { gpa: number }> {
  const { store } = ctx;
  const subjects = { vmId };
  const vm = check(ctx, caller, 'vm.probe', subjects, activeVm(ctx, vmId));
  if (!vm.ok) return vm;
  const checked = check(ctx, caller, 'vm.probe', subjects, input.gpa >= PROBE_GPA_LIMIT
    ? err('probe.out_of_range', `the probe reaches guest addresses below 4 GiB (protected mode without paging); ${input.gpa} is above`, { limit: PROBE_GPA_LIMIT })
    : ok(true));
  if (!checked.ok) return checked;
  const slots = store.bindings.activeByVm(vmId);
  const codeGpa = probeCodeGpa(slots, input.gpa);
  const codeSlot = probeSlot(slots.map((b) => b.slot));
  if (codeGpa === undefined || codeSlot === undefined) {
    return check(ctx, caller, 'vm.probe', subjects, err('probe.no_code_page', 'no free guest page or memslot for the probe\'s code'));
  }
  const r = ctx.kvm.probe(ctx.registry.vmFd(vmId)!, {
    gpa: BigInt(input.gpa), codeGpa: BigInt(codeGpa), codeSlot, ...(input.write !== undefined ? { write: input.write } : {}),
  });
  if (!r.ok) return failKernel(ctx, caller, 'vm.probe', subjects, r.error, { gpa: input.gpa });
  store.uow.run(() => store.chain.append(event(caller, 'vm.probe', subjects, { gpa: input.gpa, write: input.write ?? null, ...r.value })));
  return ok({ ...r.value, gpa: input.gpa });
}
