// The isolation invariant, checked from the kernel side: every memslot gmemd issued (the
// registry keeps the exact region it handed to KVM) lies inside gmemd's mapping of an inode
// the VM holds an open file on, and that mapping is really mapped in the process
// (kvm.heldMappings(): /proc/self/maps natively) with the inode's kernel inode number.
// A gmem memslot must also name that same inode's guest_memfd at the matching offset.
import { MEM } from '../../src/kvm/uapi.js';
import type { TestApp } from './app.js';

/** The registry's memslots as plain data (bigints as strings), to compare before and after. */
export function memslotSnapshot(t: TestApp): Record<string, Record<string, Record<string, string | number>>> {
  const out: Record<string, Record<string, Record<string, string | number>>> = {};
  for (const [vmId, slots] of t.ctx.registry.memslots) {
    out[vmId] = {};
    for (const [slot, r] of slots) {
      out[vmId][slot] = Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'bigint' ? v.toString() : v]));
    }
  }
  return out;
}

/** Every violation of the invariant, as readable lines; empty when it holds. */
export function memslotViolations(t: TestApp): string[] {
  const { registry } = t.ctx;
  const held = t.kvm.heldMappings();
  if (!held.ok) return [`heldMappings failed: ${held.error.errno}`];
  const bad: string[] = [];
  for (const [vmId, slots] of registry.memslots) {
    const open = t.store.files.byVm(vmId, ['open']);
    for (const [slot, r] of slots) {
      const start = r.userspaceAddr, end = r.userspaceAddr + r.memorySize;
      const where = `VM ${vmId} slot ${slot} [0x${start.toString(16)}, 0x${end.toString(16)})`;
      const home = open.find((f) => {
        const m = registry.gmem(f.inodeId)?.mapping;
        return m !== undefined && m !== null && start >= m.addr && end <= m.addr + m.length;
      });
      if (!home) { bad.push(`${where}: not inside the mapping of any inode the VM holds open`); continue; }
      const gm = registry.gmem(home.inodeId)!;
      const ino = BigInt(t.store.inodes.get(home.inodeId)!.kernelInode);
      if (!held.value.some((h) => h.ino === ino && start >= h.start && end <= h.end)) {
        bad.push(`${where}: the process holds no mapping of kernel inode ${ino} there`);
      }
      if (r.flags & MEM.GUEST_MEMFD) {
        if (r.guestMemfd !== gm.fd) bad.push(`${where}: gmem fd ${r.guestMemfd} is not inode ${home.inodeId}'s (${gm.fd})`);
        if (r.guestMemfdOffset !== start - gm.mapping!.addr) bad.push(`${where}: gmem offset ${r.guestMemfdOffset} differs from its address`);
      }
    }
  }
  return bad;
}
