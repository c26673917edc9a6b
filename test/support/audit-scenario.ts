// One small, known history for the audit query tests, with the time of each step recorded
// so tests can ask "who had access at T". Each call opens its own database in a temp dir.
import { join } from 'node:path';
import { Store } from '../../src/store/store.js';
import type { FileRow, InodeRow, VmRow } from '../../src/store/rows.js';
import { tempDir } from './tmp.js';
import { Clock, History } from './ledger-history.js';

export interface Scenario {
  store: Store; clock: Clock; h: History; cleanup: () => void;
  vms: Record<'a' | 'b' | 'c' | 'd' | 'e', VmRow>;
  ino1: InodeRow; ino2: InodeRow; ino3: InodeRow;
  files: Record<'fa' | 'fb' | 'fc' | 'fd' | 'fe' | 'f2' | 'f3' | 'f3c', FileRow>;
  /** Time of each named step (every step is 10 ms after the previous). */
  t: Record<string, number>;
  /** Seq of the (last) event of each named step. */
  seq: Record<string, number>;
}

export function buildScenario(): Scenario {
  const tmp = tempDir();
  const clock = new Clock();
  const store = Store.open(join(tmp.dir, 'ledger.db'), clock.now);
  const h = new History(store);
  const t: Record<string, number> = {};
  const seq: Record<string, number> = {};
  const step = <T>(name: string, fn: () => T): T => {
    clock.tick(10);
    t[name] = clock.t;
    const r = fn();
    seq[name] = store.chain.getHead().seq;
    return r;
  };

  const a = step('vmA', () => h.vm('a'));
  const b = step('vmB', () => h.vm('b'));
  const c = step('vmC', () => h.vm('c'));
  const d = step('vmD', () => h.vm('d'));
  const e = step('vmE', () => h.vm('e'));
  const { inode: ino1, file: fa } = step('create', () => h.inode(a.id));
  const fb = step('shareB', () => h.share(fa.id, b.id, ['read', 'write']));
  step('narrowB', () => h.narrow(fb.id, ['read']));
  const fc = step('shareC', () => h.share(fa.id, c.id, ['read', 'share']));
  const fd = step('reshareD', () => h.share(fc.id, d.id, ['read']));
  step('deniedDonate', () => h.event({ action: 'file.donate', outcome: 'denied', vmId: b.id, inodeId: ino1.id, fileId: fb.id,
    errorCode: 'file.not_owner', details: { fromVmId: b.id, toVmId: e.id, role: 'owner' } }));
  step('revokeB', () => h.revoke(fb.id));
  const fc2 = step('donateC', () => h.transferOwner(fa.id, c.id));
  step('destroyA', () => h.destroyVm(a.id));
  // A committed migration c -> e moves the owner role; d's grantee file moves with role grantee.
  const fe = step('migrateE', () => h.transferOwner(fc2.id, e.id, 'file.migrate', 'mig_01'));
  step('migrateGrantee', () => h.event({ action: 'file.migrate', outcome: 'ok', vmId: e.id, inodeId: ino1.id, fileId: fd.id, migrationId: 'mig_01',
    details: { fromVmId: d.id, toVmId: d.id, fromFileId: fd.id, toFileId: fd.id, role: 'grantee' } }));
  const { inode: ino2, file: f2 } = step('createPrivate', () => h.inode(b.id, { shareable: false }));
  const { inode: ino3, file: f3 } = step('create3', () => h.inode(b.id));
  const f3c = step('share3', () => h.share(f3.id, c.id, ['read', 'write']));

  return {
    store, clock, h, t, seq, ino1, ino2, ino3,
    vms: { a, b, c, d, e },
    files: { fa, fb, fc: fc2, fd, fe, f2, f3, f3c },
    cleanup: () => { store.close(); tmp.cleanup(); },
  };
}
