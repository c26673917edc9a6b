// The probe: run a one-shot vCPU in the VM that reads (and optionally first writes) the
// byte at a guest address, and report what the guest saw. Its code page goes at a free
// guest address in a free memslot, away from every binding, and is removed afterwards.
import { err, ok, type Result } from '../domain/result.js';
import { probeCodeGpa, probeSlot } from '../domain/slots.js';
import type { ProbeOutcome } from '../kvm/kvm-host.js';
import type { Caller, ServiceContext } from './context.js';
import { run } from './pipeline/run.js';
import { activeVm } from './vm-service.js';

export const PROBE_GPA_LIMIT = 2 ** 32;

export interface ProbeInput { gpa: number; write?: number }

export function probeVm(ctx: ServiceContext, caller: Caller, vmId: string, input: ProbeInput): Promise<Result<ProbeOutcome & { gpa: number }>> {
  const { store } = ctx;
  return run(ctx, caller, {
    // Decision and probe run in one synchronous turn; bindings still being recorded are claimed.
    action: 'vm.probe', subjects: { vmId }, keys: [],
    decide: () => {
      const vm = activeVm(ctx, vmId);
      if (!vm.ok) return vm;
      if (input.gpa >= PROBE_GPA_LIMIT) {
        return err('probe.out_of_range', `the probe reaches guest addresses below 4 GiB (protected mode without paging); ${input.gpa} is above`, { limit: PROBE_GPA_LIMIT });
      }
      const slots = store.bindings.claimedByVm(vmId);
      const codeGpa = probeCodeGpa(slots, input.gpa);
      const codeSlot = probeSlot(slots.map((b) => b.slot));
      if (codeGpa === undefined || codeSlot === undefined) return err('probe.no_code_page', 'no free guest page or memslot for the probe\'s code');
      return ok({
        details: { gpa: input.gpa },
        // The probe removes its own code memslot before it returns: nothing to undo.
        steps: [{ id: 'probe', effect: false, run: () => ctx.kvm.probe(ctx.registry.vmFd(vmId)!, {
          gpa: BigInt(input.gpa), codeGpa: BigInt(codeGpa), codeSlot, ...(input.write !== undefined ? { write: input.write } : {}),
        }) }],
        record: (rec, log) => {
          const seen = log.value<ProbeOutcome>('probe');
          rec.event('vm.probe', { vmId }, { gpa: input.gpa, write: input.write ?? null, ...seen });
          return { ...seen, gpa: input.gpa };
        },
      });
    },
  });
}
