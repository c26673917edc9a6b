// Share, donate and revoke preconditions as pure functions: plain facts in, a verdict out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkDonate, checkRevoke, checkShare } from '../../src/domain/sharing-rules.js';

const owner = { id: 'file_o', vmId: 'vm_a', inodeId: 'ino_1', role: 'owner', state: 'open', permissions: ['read', 'write', 'allocate', 'share'] };
const grant = { ...owner, id: 'file_g', vmId: 'vm_b', role: 'grantee', permissions: ['read'] };
const inode = { id: 'ino_1', shareable: true };
const code = (r: { ok: boolean; error?: { code: string } }) => (r.ok ? 'ok' : r.error!.code);

test('share: a shareable inode, another VM, permissions the granter holds, no file there yet, no migration', () => {
  const base = { file: owner, inode, toVmId: 'vm_b', permissions: ['write', 'read'], existing: null, targetMigration: null };
  assert.deepEqual(checkShare(base), { ok: true, value: ['read', 'write'] });
  assert.equal(code(checkShare({ ...base, inode: { ...inode, shareable: false } })), 'inode.not_shareable');
  assert.equal(code(checkShare({ ...base, toVmId: 'vm_a' })), 'file.same_vm');
  assert.equal(code(checkShare({ ...base, permissions: ['allocate'] })), 'file.permission_escalation');
  assert.equal(code(checkShare({ ...base, file: grant, toVmId: 'vm_c' })), 'file.permission_denied', 'a grant without share cannot re-share');
  assert.equal(code(checkShare({ ...base, existing: { id: 'file_x' } })), 'file.already_open');
  assert.equal(code(checkShare({ ...base, targetMigration: { id: 'mig_1', vmId: 'vm_b' } })), 'vm.in_migration');
});

test('donate: only an open owner file, of a shareable inode, to another VM, outside migrations', () => {
  const base = { file: owner, inode, toVmId: 'vm_b', existing: null, migrations: [] };
  assert.equal(code(checkDonate(base)), 'ok');
  assert.equal(code(checkDonate({ ...base, file: grant })), 'file.not_owner');
  assert.equal(code(checkDonate({ ...base, file: { ...owner, state: 'closed' } })), 'file.not_open');
  assert.equal(code(checkDonate({ ...base, inode: { ...inode, shareable: false } })), 'inode.not_shareable');
  assert.equal(code(checkDonate({ ...base, toVmId: 'vm_a' })), 'file.same_vm');
  assert.equal(code(checkDonate({ ...base, existing: { id: 'file_g', state: 'open' } })), 'ok', 'an open grant there is promoted');
  assert.equal(code(checkDonate({ ...base, existing: { id: 'file_g', state: 'pending' } })), 'file.already_open');
  const mig = checkDonate({ ...base, migrations: [{ id: 'mig_1', vmId: 'vm_a' }] });
  assert.equal(code(mig), 'vm.in_migration');
  assert.deepEqual(!mig.ok && mig.error.details, { migrationId: 'mig_1' });
});

test('revoke: only an open grant', () => {
  assert.equal(code(checkRevoke(grant)), 'ok');
  assert.equal(code(checkRevoke(owner)), 'file.not_grantee');
  assert.equal(code(checkRevoke({ ...grant, state: 'closed' })), 'file.not_open');
});
