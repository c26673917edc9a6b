import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyLocks } from '../../../src/services/pipeline/locks.js';

const take = async (l: KeyLocks, keys: readonly string[] | 'global') => { const r = l.acquire(keys); return typeof r === 'function' ? r : r; };

test('disjoint keys run together; a shared key waits; global waits for all and blocks later ones in order', async () => {
  const l = new KeyLocks();
  const order: string[] = [];
  const a = await take(l, ['x']);
  const b = await take(l, ['y']);
  assert.equal(l.inFlight, 2, 'disjoint keys hold at once');
  const c = Promise.resolve(l.acquire(['x'])).then((rel) => { order.push('c'); return rel; });
  const g = Promise.resolve(l.acquire('global')).then((rel) => { order.push('g'); return rel; });
  const d = Promise.resolve(l.acquire(['z'])).then((rel) => { order.push('d'); return rel; });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, [], 'c waits for a; g and d wait behind it in arrival order');
  a();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, ['c']);
  b();
  (await c)();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, ['c', 'g'], 'd, though free of c and b, does not overtake the global waiter');
  (await g)();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, ['c', 'g', 'd']);
  (await d)();
  assert.equal(l.inFlight, 0);
});
