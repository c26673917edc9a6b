// Which files close and which inodes are released, and what narrowing does to memslots.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planClose } from '../../src/domain/teardown-plan.js';
import { planNarrow } from '../../src/domain/narrow-plan.js';

const f = (id: string, inodeId: string, role: 'owner' | 'grantee') => ({ id, inodeId, role });

test('closing a grant closes it alone; the inode lives while its owner does', () => {
  const live = { i1: [f('o', 'i1', 'owner'), f('g', 'i1', 'grantee')] };
  const p = planClose([live.i1[1]!], (id) => live[id as 'i1']);
  assert.deepEqual(p.files.map((x) => x.id), ['g']);
  assert.deepEqual(p.released, []);
});

test('closing an owner takes every file of its inode and releases it; other inodes keep their owners', () => {
  const live: Record<string, ReturnType<typeof f>[]> = {
    i1: [f('o1', 'i1', 'owner'), f('g1', 'i1', 'grantee'), f('g2', 'i1', 'grantee')],
    i2: [f('o2', 'i2', 'owner'), f('g3', 'i2', 'grantee')],
  };
  // A VM holding the owner of i1 and a grant on i2 is destroyed.
  const p = planClose([live.i1![0]!, live.i2![1]!], (id) => live[id]!);
  assert.deepEqual(p.files.map((x) => x.id).sort(), ['g1', 'g2', 'g3', 'o1']);
  assert.deepEqual(p.released, ['i1']);
});

test('narrowing: losing write re-creates writable memslots read-only; losing read drops them; unchanged files are left', () => {
  const files: Record<string, { id: string; permissions: string[] }> = {
    a: { id: 'a', permissions: ['read', 'write', 'share'] },
    b: { id: 'b', permissions: ['read', 'write'] },
    c: { id: 'c', permissions: ['read'] },
  };
  const bindings: Record<string, { id: string; readonly: boolean }[]> = {
    a: [{ id: 'ba1', readonly: false }, { id: 'ba2', readonly: true }], b: [{ id: 'bb', readonly: false }], c: [{ id: 'bc', readonly: true }],
  };
  const cascade = new Map([['a', ['read', 'share']], ['b', []], ['c', ['read']]]);
  const changes = planNarrow(cascade, (id) => files[id]!, (id) => bindings[id]!);
  assert.deepEqual(changes.map((c) => [c.file.id, c.rebind.map((b) => b.id), c.drop.map((b) => b.id)]), [
    ['a', ['ba1'], []],
    ['b', [], ['bb']],
  ]);
});
