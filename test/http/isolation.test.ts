// Tenant isolation against hostile numbers (issue 8, report §4). Each refused request gets a
// 4xx problem+json with a stable code, leaves the ledger and the kernel unchanged (the
// registry's memslots, the process's mappings, and what the guests read), and is audited as
// denied under its request id. Private inodes say they are not guest-reachable.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { call, describeBackends, makeApp, MiB, type TestApp } from '../support/app.js';
import { memslotSnapshot, memslotViolations } from '../support/memslot-invariant.js';

const SECRET = Buffer.from('SECRET-of-tenant-C');

describeBackends('isolation: hostile numbers never become memslots', (kind) => {
  let t: TestApp;
  const vm: Record<string, string> = {};
  let x: { inode: { id: string }; file: { id: string } }, s: typeof x, bFile: { id: string };
  const mapping = (inodeId: string) => t.ctx.registry.gmem(inodeId)!.mapping!;
  const rows = () => t.store.ledger.sqlite.prepare(`SELECT (SELECT count(*) FROM bindings) b, (SELECT count(*) FROM files) f,
    (SELECT count(*) FROM inodes) i, (SELECT count(*) FROM vms) v`).get();
  const held = () => { const h = t.kvm.heldMappings(); assert.ok(h.ok); return h.value.map((m) => `${m.start}-${m.end}:${m.ino}`).sort(); };
  const secretIntact = () => {
    const r = t.kvm.readMemory(mapping(s.inode.id).addr, SECRET.length);
    assert.ok(r.ok);
    assert.deepEqual(r.value, SECRET, 'tenant C\'s bytes are unchanged');
  };

  /** Sends a request (a raw JSON text when given a string) that must be refused, and checks it changed nothing. */
  async function refused(method: 'POST' | 'PATCH', url: string, body: unknown, status: number, code: string) {
    const before = { rows: rows(), memslots: memslotSnapshot(t), held: held() };
    const res = await t.app.inject({ method, url, payload: typeof body === 'string' ? body : JSON.stringify(body),
      headers: { ...t.headers, 'content-type': 'application/json' } });
    const what = `${method} ${url} ${typeof body === 'string' ? body : JSON.stringify(body)}`;
    assert.equal(res.statusCode, status, `${what}: ${res.body}`);
    assert.match(String(res.headers['content-type']), /^application\/problem\+json/, what);
    const json = JSON.parse(res.body);
    assert.equal(json.code, code, what);
    assert.equal(typeof json.detail, 'string');
    assert.deepEqual({ rows: rows(), memslots: memslotSnapshot(t), held: held() }, before, `${what}: nothing changed`);
    const ev = (await call(t.app, 'GET', '/v1/audit/events?outcome=denied&order=desc&limit=1')).json.items[0];
    assert.equal(ev.requestId, res.headers['x-request-id'], `${what}: audited`);
    assert.equal(ev.errorCode, code);
  }
  const bind = (fileId: string, body: unknown, status: number, code: string) => refused('POST', `/v1/files/${fileId}/bindings`, body, status, code);

  before(async () => {
    t = await makeApp(kind);
    for (const n of ['a', 'b', 'c', 'p']) vm[n] = (await call(t.app, 'POST', '/v1/vms', { name: `iso-${n}` })).json.id;
    x = (await call(t.app, 'POST', '/v1/inodes', { ownerVmId: vm.a, size: 2 * MiB })).json;
    s = (await call(t.app, 'POST', '/v1/inodes', { ownerVmId: vm.c, size: 2 * MiB })).json;
    assert.ok(t.kvm.writeMemory(mapping(s.inode.id).addr, SECRET).ok);
    assert.equal((await call(t.app, 'POST', `/v1/files/${s.file.id}/bindings`, { gpa: MiB, offset: 0, size: MiB })).status, 201);
    bFile = (await call(t.app, 'POST', `/v1/files/${x.file.id}/shares`, { vmId: vm.b, permissions: ['read', 'write'] })).json;
    assert.equal((await call(t.app, 'POST', `/v1/files/${bFile.id}/bindings`, { gpa: 4 * MiB, offset: 0, size: MiB })).status, 201);
  });
  after(async () => { await t?.close(); });

  test('the report\'s attack: a grantee\'s negative offset toward another tenant\'s mapping is refused', async () => {
    const distance = mapping(s.inode.id).addr - mapping(x.inode.id).addr;
    await bind(bFile.id, { gpa: MiB, offset: -2 * MiB, size: 4096 }, 400, 'request.invalid');
    // The real distance between the two mappings, whichever side S lies on.
    await bind(bFile.id, { gpa: MiB, offset: Number(distance), size: 4096 }, distance < 0n ? 400 : 422, distance < 0n ? 'request.invalid' : 'binding.out_of_bounds');
    await bind(bFile.id, `{"gpa":1048576,"offset":${distance},"size":4096}`, distance < 0n ? 400 : 422, distance < 0n ? 'request.invalid' : 'binding.out_of_bounds');
    const probe = (await call(t.app, 'POST', `/v1/vms/${vm.b}/probe`, { gpa: MiB })).json;
    assert.equal(probe.outcome, 'unmapped', 'B\'s guest has no memory at the attacked address');
    secretIntact();
    assert.deepEqual(memslotViolations(t), []);
  });

  test('offsets past the end, offset + size beyond the inode, 2^53 and 2^64, huge gpa, zero and huge sizes', async () => {
    const f = bFile.id;
    await bind(f, { gpa: MiB, offset: 2 * MiB, size: 4096 }, 422, 'binding.out_of_bounds');
    await bind(f, { gpa: MiB, offset: 64 * MiB, size: 4096 }, 422, 'binding.out_of_bounds');
    await bind(f, { gpa: MiB, offset: MiB, size: 2 * MiB }, 422, 'binding.out_of_bounds');
    await bind(f, { gpa: MiB, offset: 2 ** 40 - 4096, size: 2 ** 40 }, 422, 'binding.out_of_bounds');
    await bind(f, { gpa: MiB, offset: 2 ** 53 - 4096, size: 8192 }, 400, 'request.invalid');
    await bind(f, '{"gpa":1048576,"offset":9007199254740992,"size":4096}', 400, 'request.invalid');
    await bind(f, '{"gpa":1048576,"offset":18446744073709551616,"size":4096}', 400, 'request.invalid');
    await bind(f, '{"gpa":1048576,"offset":18446744073709547520,"size":8192}', 400, 'request.invalid');
    await bind(f, '{"gpa":18446744073709551616,"offset":0,"size":4096}', 400, 'request.invalid');
    await bind(f, { gpa: 2 ** 60, offset: 0, size: 4096 }, 400, 'request.invalid');
    await bind(f, { gpa: 2 ** 46 - 4096, offset: 0, size: 8192 }, 422, 'binding.gpa_out_of_range');
    await bind(f, { gpa: MiB, offset: 0, size: 0 }, 422, 'binding.empty');
    await bind(f, { gpa: MiB, offset: 0, size: 2 ** 50 }, 400, 'request.invalid');
    await bind(f, { gpa: MiB, offset: 0, size: 2 ** 40 }, 422, 'binding.out_of_bounds');
    await bind(f, { gpa: MiB + 1, offset: 0, size: 4096 }, 422, 'binding.misaligned');
    await bind(f, { gpa: MiB, offset: 0, size: 4096, slot: 40000 }, 400, 'request.invalid');
    await refused('POST', `/v1/files/${x.file.id}/punch-hole`, { offset: 2 * MiB - 4096, length: 8192 }, 422, 'range.out_of_bounds');
    await refused('POST', `/v1/files/${x.file.id}/allocate`, '{"offset":0,"length":18446744073709551616}', 400, 'request.invalid');
    await refused('POST', `/v1/files/${x.file.id}/allocate`, { offset: 0, length: 0 }, 422, 'range.empty');
    await refused('POST', '/v1/inodes', { ownerVmId: vm.a, size: 64 * 2 ** 40 }, 400, 'request.invalid');
    await refused('POST', `/v1/vms/${vm.b}/probe`, { gpa: 2 ** 32 }, 422, 'probe.out_of_range');
    await refused('POST', `/v1/vms/${vm.b}/probe`, '{"gpa":18446744073709551616}', 400, 'request.invalid');
    secretIntact();
  });

  test('negative and fractional numbers, numbers as strings, non-finite numbers', async () => {
    const f = bFile.id;
    for (const [field, v] of [['gpa', -4096], ['size', -4096], ['offset', 4096.5], ['gpa', '0'], ['size', '4096'], ['slot', -1], ['slot', 1.5]] as const) {
      await bind(f, { gpa: MiB, offset: 0, size: 4096, [field]: v }, 400, 'request.invalid');
    }
    await bind(f, '{"gpa":1048576,"offset":0,"size":1e400}', 400, 'request.invalid');
    for (const body of [{ offset: -4096, length: 4096 }, { offset: 0, length: 4096.5 }, { offset: '0', length: 4096 }]) {
      await refused('POST', `/v1/files/${x.file.id}/punch-hole`, body, 400, 'request.invalid');
    }
    for (const body of [{ gpa: -1 }, { gpa: 0.5 }, { gpa: '0' }, { gpa: 0, write: 256 }, { gpa: 0, write: -1 }, { gpa: 0, write: 1.5 }]) {
      await refused('POST', `/v1/vms/${vm.b}/probe`, body, 400, 'request.invalid');
    }
    for (const size of [-4096, 4096.5, '4096']) await refused('POST', '/v1/inodes', { ownerVmId: vm.a, size }, 400, 'request.invalid');
    await refused('POST', '/v1/inodes', { ownerVmId: vm.a, size: 0 }, 422, 'inode.invalid_size');
    for (const limit of ['-1', '0', '1.5', '1001', '1e400', 'ten']) {
      const r = await call(t.app, 'GET', `/v1/bindings?limit=${limit}`);
      assert.equal(r.status, 400, `limit=${limit}`);
      assert.equal(r.json.code, 'request.invalid');
    }
    secretIntact();
    assert.deepEqual(memslotViolations(t), []);
  });

  test('a private inode can be created, but binding it is refused: no guest could reach it', async () => {
    const host = (await call(t.app, 'GET', '/v1/host')).json;
    assert.equal(host.capabilities.vmTypes, 1, 'this host: VM type 0 only');
    assert.deepEqual(host.capabilities.privateMemVmTypes, []);
    assert.equal(host.capabilities.privateInodesGuestReachable, false);
    assert.equal(host.operations.bindPrivateInode, false);
    const p = await call(t.app, 'POST', '/v1/inodes', { ownerVmId: vm.p, size: MiB, shareable: false });
    assert.equal(p.status, 201);
    assert.equal(p.json.inode.shareable, false);
    await bind(p.json.file.id, { gpa: MiB, offset: 0, size: MiB }, 409, 'inode.not_guest_reachable');
    const ev = (await call(t.app, 'GET', `/v1/audit/events?action=binding.create&outcome=denied&inodeId=${p.json.inode.id}`)).json.items;
    assert.equal(ev.length, 1);
    assert.equal(ev[0].vmId, vm.p);
    assert.equal(ev[0].errorCode, 'inode.not_guest_reachable');
    assert.equal((await call(t.app, 'GET', `/v1/bindings?vmId=${vm.p}`)).json.items.length, 0);
    assert.equal(t.ctx.registry.memslots.has(vm.p), false, 'no memslot in the kernel');
    assert.equal((await call(t.app, 'POST', `/v1/vms/${vm.p}/probe`, { gpa: MiB })).json.outcome, 'unmapped');
  });
});
