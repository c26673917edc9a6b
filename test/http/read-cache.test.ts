// List pages are served from the read cache only while the ledger is unchanged: a write
// through the API, a write by this process outside any use case, and a commit by another
// connection each make the next read answer from a fresh query.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { ReadCache, readCacheOf } from '../../src/http/read-cache.js';
import { call, makeApp, MiB } from '../support/app.js';

test('a cached list never outlives a change to the ledger', async () => {
  const t = await makeApp('simulated');
  try {
    const cache = readCacheOf(t.store);
    const vm = (await call(t.app, 'POST', '/v1/vms', { name: 'c' })).json;
    const first = await call(t.app, 'GET', '/v1/inodes?limit=10');
    const again = await call(t.app, 'GET', '/v1/inodes?limit=10');
    assert.deepEqual(again.json, first.json);
    assert.equal(again.headers['content-type'], 'application/json; charset=utf-8');
    assert.ok(cache.stats.hits >= 1, 'the second read was a hit');

    // Through the API.
    await call(t.app, 'POST', '/v1/inodes', { ownerVmId: vm.id, size: 2 * MiB });
    assert.equal((await call(t.app, 'GET', '/v1/inodes?limit=10')).json.items.length, first.json.items.length + 1);

    // By this process, outside any use case.
    t.store.ledger.sqlite.prepare("UPDATE vms SET name = 'renamed' WHERE id = ?").run(vm.id);
    assert.equal((await call(t.app, 'GET', '/v1/vms?limit=10')).json.items[0].name, 'renamed');
    const hits = cache.stats.hits;
    assert.equal((await call(t.app, 'GET', '/v1/vms?limit=10')).json.items[0].name, 'renamed');
    assert.equal(cache.stats.hits, hits + 1);

    // By another connection (a successor, a tool).
    const other = new Database(t.dbPath);
    other.prepare("UPDATE vms SET name = 'elsewhere' WHERE id = ?").run(vm.id);
    other.close();
    assert.equal((await call(t.app, 'GET', '/v1/vms?limit=10')).json.items[0].name, 'elsewhere');

    // Details too, and a refusal is answered, never kept.
    const detail = await call(t.app, 'GET', `/v1/vms/${vm.id}`);
    assert.equal(detail.json.vm.name, 'elsewhere');
    t.store.ledger.sqlite.prepare("UPDATE vms SET name = 'third' WHERE id = ?").run(vm.id);
    assert.equal((await call(t.app, 'GET', `/v1/vms/${vm.id}`)).json.vm.name, 'third');
    assert.equal((await call(t.app, 'GET', '/v1/inodes/ino_00000000000000000000000000')).status, 404);
    assert.equal((await call(t.app, 'GET', '/v1/inodes/ino_00000000000000000000000000')).json.code, 'inode.not_found');

    // Each query is its own entry.
    assert.equal((await call(t.app, 'GET', '/v1/vms?limit=10&state=destroyed')).json.items.length, 0);
  } finally { await t.close(); }
});

test('a read as of an older ledger version is answered fresh and leaves the current entries alone', async () => {
  const t = await makeApp('simulated');
  try {
    const cache = new ReadCache(t.store);
    const before = t.store.dataVersion();
    await call(t.app, 'POST', '/v1/vms', { name: 'newer' });
    assert.equal(cache.get('k', () => 'current'), 'current');
    assert.equal(cache.get('k', () => 'fresh', before), 'fresh', 'built anew, not served from the entry of a newer version');
    assert.equal(cache.get('k', () => 'rebuilt'), 'current', 'the current entry survived');
  } finally { await t.close(); }
});
