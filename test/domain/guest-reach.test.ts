import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkGuestReachable, DEFAULT_VM_TYPE, privateGmemReachable, privateMemVmTypes } from '../../src/domain/guest-reach.js';

test('private-memory VM types are read from the KVM_CAP_VM_TYPES bitmask', () => {
  assert.deepEqual(privateMemVmTypes(1), [], 'this host: type 0 only');
  assert.deepEqual(privateMemVmTypes(0b110011), [1, 4, 5]);
  assert.deepEqual(privateMemVmTypes(0b1101), [], 'SEV and SEV-ES have no guest_memfd private memory');
  assert.equal(privateGmemReachable(DEFAULT_VM_TYPE, 0xffff), false, 'a default VM never faults private gmem');
  assert.equal(privateGmemReachable(1, 0b11), true, 'SW_PROTECTED where the host offers it');
  assert.equal(privateGmemReachable(1, 0b01), false, 'SW_PROTECTED where it does not');
});

test('binding a private inode into a default VM is refused; a shareable one is not', () => {
  const vm = { id: 'vm_1', vmType: 0 };
  const r = checkGuestReachable({ id: 'ino_1', shareable: false }, vm, 1);
  assert.equal(!r.ok && r.error.code, 'inode.not_guest_reachable');
  assert.deepEqual(!r.ok && r.error.details, { inodeId: 'ino_1', vmType: 0, vmTypes: 1 });
  assert.deepEqual(checkGuestReachable({ id: 'ino_2', shareable: true }, vm, 1), { ok: true, value: true });
  assert.deepEqual(checkGuestReachable({ id: 'ino_3', shareable: false }, { id: 'vm_2', vmType: 1 }, 0b11), { ok: true, value: true });
});
