// Generates a realistic ledger history for the audit benchmark: a steady population of VMs
// each owning memory, with memslot churn, allocation, probes, shares (some re-shared by
// grantees), narrowing, revokes, donations, migrations, refused attempts, and VMs replaced
// over time (their memory donated away first, so some inodes outlive their origin VM).
// Writes go through History (repositories + the real chain) in transactions of `batch` steps.
import type { Clock, History } from '../support/ledger-history.js';

export interface Built { startTime: number; transactions: number }

interface Held { file: string; perms: string[] }
interface MInode { id: string; ownerVm: string; ownerFile: string; grantees: Map<string, Held> }

const MAX_GRANTEES = 6;

export function buildLedger(h: History, clock: Clock, opts: { events: number; vms: number; seed: number; batch?: number },
  progress: (events: number) => void = () => {}): Built {
  const store = h.store;
  let s = opts.seed >>> 0;
  const rnd = () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32; };
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const vms: string[] = [];
  const live: MInode[] = [];
  const startTime = clock.t;
  let vmSerial = 0, migSerial = 0, transactions = 0;

  const newVm = (): string => { const v = h.vm(`vm-${vmSerial++}`).id; vms.push(v); return v; };
  const newInode = (vm: string): void => {
    const { inode, file } = h.inode(vm, { size: (1 + Math.floor(rnd() * 64)) * 2 ** 21 });
    live.push({ id: inode.id, ownerVm: vm, ownerFile: file.id, grantees: new Map() });
  };
  const holder = (m: MInode): { vm: string; file: string } => {
    if (m.grantees.size === 0 || rnd() < 0.6) return { vm: m.ownerVm, file: m.ownerFile };
    const [vm, g] = pick([...m.grantees]);
    return { vm, file: g.file };
  };
  const withGrantee = (): [MInode, string, Held] | null => {
    const m = pick(live);
    if (m.grantees.size === 0) return null;
    const [vm, g] = pick([...m.grantees]);
    return [m, vm, g];
  };
  const transfer = (m: MInode, to: string, action: 'file.donate' | 'file.migrate'): void => {
    const f = h.transferOwner(m.ownerFile, to, action, action === 'file.migrate' ? `mig_bench${migSerial++}` : undefined);
    m.ownerVm = to; m.ownerFile = f.id; m.grantees.delete(to);
  };
  const plain = (action: string, m: MInode, details: Record<string, unknown>, outcome: 'ok' | 'denied' | 'failed' = 'ok', extra = {}) => {
    const who = holder(m);
    h.event({ action, outcome, vmId: who.vm, inodeId: m.id, fileId: who.file, details, ...extra });
  };

  const step = (): void => {
    clock.tick(1 + Math.floor(rnd() * 40));
    const r = rnd();
    const m = pick(live);
    if (r < 0.20) plain('binding.create', m, { slot: Math.floor(rnd() * 512), gpa: Math.floor(rnd() * 2 ** 20) * 4096, offset: 0, size: 2 ** 21, kind: 'view', readonly: rnd() < 0.5 }, 'ok', { bindingId: `bind_${Math.floor(rnd() * 1e9)}` });
    else if (r < 0.30) plain('binding.delete', m, {}, 'ok', { bindingId: `bind_${Math.floor(rnd() * 1e9)}` });
    else if (r < 0.38) h.event({ action: 'inode.allocate', outcome: 'ok', vmId: m.ownerVm, inodeId: m.id, fileId: m.ownerFile, details: { offset: 0, length: 2 ** 21 } });
    else if (r < 0.43) h.event({ action: 'inode.punch_hole', outcome: 'ok', vmId: m.ownerVm, inodeId: m.id, fileId: m.ownerFile, details: { offset: 4096, length: 4096 } });
    else if (r < 0.50) h.event({ action: 'vm.probe', outcome: 'ok', vmId: pick(vms), details: { gpa: 4096, write: false, value: 0 } });
    else if (r < 0.62) {
      const to = pick(vms);
      if (to === m.ownerVm || m.grantees.has(to) || m.grantees.size >= MAX_GRANTEES) return;
      // One share in ten is onward, from a grantee holding `share`: a grant of a grant.
      const onward = [...m.grantees.values()].find((g) => g.perms.includes('share'));
      const from = onward && rnd() < 0.1 ? onward.file : m.ownerFile;
      const perms = ['read', ...(rnd() < 0.4 ? ['write'] : []), ...(rnd() < 0.2 ? ['share'] : [])];
      m.grantees.set(to, { file: h.share(from, to, perms).id, perms: perms.sort() });
    } else if (r < 0.68) {
      const x = withGrantee();
      if (!x || x[2].perms.length === 1) return;
      h.narrow(x[2].file, ['read']); x[2].perms = ['read'];
    } else if (r < 0.78) {
      const x = withGrantee();
      if (!x) return;
      h.revoke(x[2].file); x[0].grantees.delete(x[1]);
    } else if (r < 0.80) transfer(m, pick(vms), 'file.donate');
    else if (r < 0.81) transfer(m, pick(vms), 'file.migrate');
    else if (r < 0.84) plain('file.share', m, { permissions: ['read', 'write', 'allocate'] }, 'denied', { errorCode: 'file.permission_escalation' });
    else if (r < 0.85) plain('file.donate', m, { toVmId: pick(vms) }, 'denied', { errorCode: 'file.not_owner' });
    else if (r < 0.87) plain('binding.create', m, { gpa: 0 }, 'failed', { errorCode: 'binding.gpa_overlap', errno: 'EEXIST', operation: 'KVM_SET_USER_MEMORY_REGION2' });
    else if (r < 0.8725) newInode(pick(vms));
    else if (r < 0.874) replaceVm(pick(vms));
    else h.event({ action: 'vm.probe', outcome: 'ok', vmId: pick(vms), details: { gpa: 8192, write: true, trapped: rnd() < 0.1 } });
  };

  /** A VM is retired: memory others use is donated to one of them first, the rest released. */
  const replaceVm = (v: string): void => {
    if (vms.length < 3) return;
    for (const m of live) if (m.ownerVm === v && m.grantees.size > 0) transfer(m, pick([...m.grantees.keys()]), 'file.donate');
    h.destroyVm(v);
    vms.splice(vms.indexOf(v), 1);
    for (let i = live.length - 1; i >= 0; i--) {
      const m = live[i]!;
      m.grantees.delete(v);
      if (m.ownerVm === v) live.splice(i, 1);
    }
    newInode(newVm());
  };

  const batch = opts.batch ?? 5000;
  store.uow.run(() => { for (let i = 0; i < opts.vms; i++) { clock.tick(); newInode(newVm()); } });
  transactions++;
  while (store.chain.getHead().seq < opts.events) {
    store.uow.run(() => { for (let i = 0; i < batch && store.chain.getHead().seq < opts.events; i++) step(); });
    transactions++;
    progress(store.chain.getHead().seq);
  }
  return { startTime, transactions };
}
