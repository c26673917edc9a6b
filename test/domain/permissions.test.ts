import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkGrant, checkNarrow, checkCanBind, checkCanAllocate, normalizePermissions } from '../../src/domain/permissions.js';

const owner = { id: 'file_o', state: 'open', role: 'owner', permissions: ['read', 'write', 'allocate', 'share'] };
const reader = { id: 'file_r', state: 'open', role: 'grantee', permissions: ['read', 'share'] };

test('permissions are normalised to canonical order without duplicates', () => {
  assert.deepEqual(normalizePermissions(['share', 'read', 'read', 'write']), ['read', 'write', 'share']);
});

test('a grant carries only what the granter has', () => {
  assert.deepEqual(checkGrant(owner, ['write', 'read']), { ok: true, value: ['read', 'write'] });
  const r = checkGrant(reader, ['read', 'write']);
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.error.code, 'file.permission_escalation');
});

test('allocate is never granted, not even by the owner', () => {
  const r = checkGrant(owner, ['read', 'allocate']);
  assert.equal(!r.ok && r.error.code, 'file.permission_escalation');
});

test('granting needs the share permission and an open file', () => {
  const noShare = { ...reader, permissions: ['read'] };
  assert.equal((checkGrant(noShare, ['read']) as { error: { code: string } }).error.code, 'file.permission_denied');
  assert.equal((checkGrant({ ...owner, state: 'closed' }, ['read']) as { error: { code: string } }).error.code, 'file.not_open');
  assert.equal((checkGrant(owner, []) as { error: { code: string } }).error.code, 'request.invalid');
});

test('narrowing keeps a non-empty subset of a grant and never touches the owner', () => {
  const rw = { ...reader, permissions: ['read', 'write'] };
  assert.deepEqual(checkNarrow(rw, ['read']), { ok: true, value: ['read'] });
  assert.equal((checkNarrow(rw, ['read', 'share']) as { error: { code: string } }).error.code, 'file.not_narrowing');
  assert.equal((checkNarrow(owner, ['read']) as { error: { code: string } }).error.code, 'file.not_grantee');
  assert.equal((checkNarrow(rw, []) as { error: { code: string } }).error.code, 'request.invalid');
});

test('binding needs read and an open (not pending) file; write decides writability', () => {
  assert.deepEqual(checkCanBind(owner), { ok: true, value: { writable: true } });
  assert.deepEqual(checkCanBind(reader), { ok: true, value: { writable: false } });
  assert.equal((checkCanBind({ ...reader, state: 'pending' }) as { error: { code: string } }).error.code, 'file.pending');
  assert.equal((checkCanBind({ ...reader, permissions: ['share'] }) as { error: { code: string } }).error.code, 'file.permission_denied');
});

test('allocate and punch need the allocate permission', () => {
  assert.equal(checkCanAllocate(owner).ok, true);
  assert.equal((checkCanAllocate(reader) as { error: { code: string } }).error.code, 'file.permission_denied');
});
