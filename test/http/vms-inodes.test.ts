// VMs, inodes and files through HTTP, on each backend: the kernel objects really exist,
// the ledger says so, and bad input changes nothing but leaves a refusal event.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describeBackends, call, makeApp, MiB, TEST_ACTOR, type TestApp } from '../support/app.js';

function eventsCount(t: TestApp) { return t.store.chain.getHead().seq; }
function lastEvent(t: TestApp) {
  return t.store.ledger.sqlite.prepare('SELECT * FROM events ORDER BY seq DESC LIMIT 1').get() as Record<string, unknown>;
}
function rowCounts(t: TestApp) {
  const q = (sql: string) => (t.store.ledger.sqlite.prepare(sql).get() as { n: number }).n;
  return { vms: q('SELECT count(*) n FROM vms'), inodes: q('SELECT count(*) n FROM inodes'), files: q('SELECT count(*) n FROM files'), bindings: q('SELECT count(*) n FROM bindings') };
}

describeBackends('VMs and inodes over HTTP', (kind) => {
    let t: TestApp;
    before(async () => { t = await makeApp(kind); });
    after(async () => { await t?.close(); });

    test('GET /v1/host reports the backend and capabilities read from the kernel', async () => {
      const r = await call(t.app, 'GET', '/v1/host');
      assert.equal(r.status, 200);
      assert.equal(r.json.backend, kind);
      assert.equal(r.json.capabilities.guestMemfd, 1);
      assert.equal(r.json.capabilities.guestMemfdFlags, 3);
      assert.equal(r.json.capabilities.nrMemslots, 32764);
      assert.equal(r.json.capabilities.readonlyMem, 1);
      assert.equal(r.json.operations.shareInode, true);
      const limits = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'))!.split(/\s+/);
      assert.deepEqual([r.json.limits.nofileSoft, r.json.limits.nofileHard], [Number(limits[3]), Number(limits[4])]);
      assert.ok(r.json.memory.hostTotalBytes > 0);
      assert.ok(r.headers['x-request-id']);
    });

    test('create a VM, list and get it; the name is unique among active VMs', async () => {
      const c = await call(t.app, 'POST', '/v1/vms', { name: 'alpha', labels: { team: 'a' } });
      assert.equal(c.status, 201);
      assert.match(c.json.id, /^vm_[0-9a-z]{26}$/);
      assert.equal(c.json.state, 'active');
      const dup = await call(t.app, 'POST', '/v1/vms', { name: 'alpha' });
      assert.equal(dup.status, 409);
      assert.equal(dup.json.code, 'vm.name_taken');
      assert.equal(dup.headers['content-type'], 'application/problem+json; charset=utf-8');
      assert.equal(lastEvent(t).outcome, 'denied');
      const g = await call(t.app, 'GET', `/v1/vms/${c.json.id}`);
      assert.equal(g.status, 200);
      assert.equal(g.json.vm.name, 'alpha');
      const l = await call(t.app, 'GET', '/v1/vms?state=active');
      assert.ok(l.json.items.some((v: { id: string }) => v.id === c.json.id));
    });

    test('POST /v1/inodes returns the inode with its kernel inode number and the owner file', async () => {
      const vm = (await call(t.app, 'POST', '/v1/vms', { name: 'owner-1' })).json;
      const r = await call(t.app, 'POST', '/v1/inodes', { ownerVmId: vm.id, size: 2 * MiB });
      assert.equal(r.status, 201);
      assert.equal(r.json.inode.size, 2 * MiB);
      assert.equal(r.json.inode.shareable, true);
      assert.ok(Number.isInteger(r.json.inode.kernelInode) && r.json.inode.kernelInode > 0);
      assert.equal(r.json.file.role, 'owner');
      assert.deepEqual(r.json.file.permissions, ['read', 'write', 'allocate', 'share']);
      const held = t.kvm.heldFds();
      assert.ok(held.ok);
      assert.ok(held.value.some((h) => h.kind === 'kvm-gmem' && Number(h.ino) === r.json.inode.kernelInode));
      const detail = await call(t.app, 'GET', `/v1/inodes/${r.json.inode.id}`);
      assert.equal(detail.json.files.length, 1);
    });

    test('bad input is a clear 4xx problem, audited, and writes no state', async () => {
      const vm = (await call(t.app, 'POST', '/v1/vms', { name: 'bad-input' })).json;
      const cases: [string, string, unknown, number, string][] = [
        ['POST', '/v1/inodes', { ownerVmId: vm.id, size: 4097 }, 422, 'inode.invalid_size'],
        ['POST', '/v1/inodes', { ownerVmId: vm.id, size: 0 }, 422, 'inode.invalid_size'],
        ['POST', '/v1/inodes', { ownerVmId: vm.id, size: -4096 }, 400, 'request.invalid'], // the schema's minimum: 0
        ['POST', '/v1/inodes', { ownerVmId: vm.id, size: '4096' }, 400, 'request.invalid'],
        ['POST', '/v1/inodes', { ownerVmId: 'vm_00000000000000000000000000', size: 4096 }, 404, 'vm.not_found'],
        ['POST', '/v1/vms', { name: 42 }, 400, 'request.invalid'],
        ['POST', '/v1/vms', { name: 'x', extra: true }, 400, 'request.invalid'],
        ['DELETE', '/v1/vms/vm_00000000000000000000000000', undefined, 404, 'vm.not_found'],
      ];
      for (const [method, url, body, status, code] of cases) {
        const before = rowCounts(t);
        const seq = eventsCount(t);
        const r = await call(t.app, method as 'POST', url, body);
        assert.equal(r.status, status, `${method} ${url} ${JSON.stringify(body)}`);
        assert.equal(r.json.code, code);
        assert.equal(typeof r.json.detail, 'string');
        assert.deepEqual(rowCounts(t), before, 'no state written');
        assert.equal(eventsCount(t), seq + 1, 'exactly one refusal event');
        assert.equal(lastEvent(t).outcome, 'denied');
        assert.equal(lastEvent(t).error_code, code);
      }
    });

    test('allocate and punch-hole through the owner file; misaligned and out-of-range refused', async () => {
      const vm = (await call(t.app, 'POST', '/v1/vms', { name: 'alloc' })).json;
      const { file } = (await call(t.app, 'POST', '/v1/inodes', { ownerVmId: vm.id, size: 1 * MiB })).json;
      assert.equal((await call(t.app, 'POST', `/v1/files/${file.id}/allocate`, { offset: 0, length: 1 * MiB })).status, 200);
      assert.equal((await call(t.app, 'POST', `/v1/files/${file.id}/punch-hole`, { offset: 4096, length: 8192 })).status, 200);
      const mis = await call(t.app, 'POST', `/v1/files/${file.id}/punch-hole`, { offset: 1, length: 4096 });
      assert.equal(mis.json.code, 'range.misaligned');
      const oob = await call(t.app, 'POST', `/v1/files/${file.id}/allocate`, { offset: 0, length: 2 * MiB });
      assert.equal(oob.json.code, 'range.out_of_bounds');
    });

    test('DELETE /v1/vms closes its files and releases its inodes: the gmem fd is gone', async () => {
      const vm = (await call(t.app, 'POST', '/v1/vms', { name: 'doomed' })).json;
      const { inode, file } = (await call(t.app, 'POST', '/v1/inodes', { ownerVmId: vm.id, size: 1 * MiB })).json;
      const d = await call(t.app, 'DELETE', `/v1/vms/${vm.id}`);
      assert.equal(d.status, 200);
      assert.equal(d.json.vm.state, 'destroyed');
      assert.deepEqual(d.json.closedFiles, [file.id]);
      assert.deepEqual(d.json.releasedInodes, [inode.id]);
      const held = t.kvm.heldFds();
      assert.ok(held.ok);
      assert.ok(!held.value.some((h) => h.kind === 'kvm-gmem' && Number(h.ino) === inode.kernelInode));
      assert.equal((await call(t.app, 'GET', `/v1/inodes/${inode.id}`)).json.inode.state, 'released');
      const again = await call(t.app, 'DELETE', `/v1/vms/${vm.id}`);
      assert.equal(again.json.code, 'vm.not_active');
    });

    test('X-Request-Id is taken from the request (or generated), returned, and recorded with the actor', async () => {
    const r = await call(t.app, 'POST', '/v1/vms', { name: 'traced' }, { 'x-request-id': 'req-trace-42' });
    assert.equal(r.headers['x-request-id'], 'req-trace-42');
    const ev = lastEvent(t);
    assert.deepEqual([ev.action, ev.request_id, ev.actor, ev.vm_id], ['vm.create', 'req-trace-42', TEST_ACTOR, r.json.id]);
    const g = await call(t.app, 'POST', '/v1/vms', { name: 'traced-2' });
    assert.match(String(g.headers['x-request-id']), /^[0-9a-f-]{36}$/);
    assert.equal(lastEvent(t).request_id, g.headers['x-request-id']);
  });

  test('lists paginate with limit and an opaque cursor', async () => {
      const created: string[] = [];
      for (let i = 0; i < 5; i++) created.push((await call(t.app, 'POST', '/v1/vms', { name: `page-${i}` })).json.id);
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        pages += 1;
        const r: { json: { items: { id: string }[]; nextCursor: string | null } } = await call(t.app, 'GET', `/v1/vms?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        assert.ok(r.json.items.length <= 2);
        seen.push(...r.json.items.map((v) => v.id));
        cursor = r.json.nextCursor;
      } while (cursor);
      assert.ok(pages >= 3, `five VMs at two a page take at least three pages, not ${pages}`);
      assert.deepEqual(created.filter((id) => !seen.includes(id)), [], 'every VM came back over the pages');
      assert.equal(new Set(seen).size, seen.length);
      assert.deepEqual(seen, [...seen].sort());
      assert.equal((await call(t.app, 'GET', '/v1/vms?cursor=garbage!')).json.code, 'request.invalid');
    });

    test('an Idempotency-Key replay returns the first result and creates nothing new', async () => {
      const h = { 'idempotency-key': `k-${kind}-1` };
      const a = await call(t.app, 'POST', '/v1/vms', { name: 'idem' }, h);
      const b = await call(t.app, 'POST', '/v1/vms', { name: 'idem' }, h);
      assert.equal(a.status, 201);
      assert.equal(b.status, 201);
      assert.equal(b.json.id, a.json.id);
      assert.equal(b.headers['idempotent-replayed'], 'true');
      const c = await call(t.app, 'POST', '/v1/vms', { name: 'other' }, h);
      assert.equal(c.json.code, 'request.idempotency_conflict');
    });
});

test('GET /metrics exposes request, process and ledger metrics in Prometheus text', async () => {
  const t = await makeApp('simulated');
  try {
    const vm = await call(t.app, 'POST', '/v1/vms', { name: 'metered' });
    await call(t.app, 'POST', '/v1/inodes', { ownerVmId: vm.json.id, size: 8192 });
    const r = await t.app.inject({ method: 'GET', url: '/metrics', headers: t.headers });
    assert.equal(r.statusCode, 200);
    assert.match(r.headers['content-type'] as string, /^text\/plain/);
    assert.match(r.body, /^gmemd_vms\{state="active"\} 1$/m);
    assert.match(r.body, /^gmemd_inode_bytes_live\{shareable="true"\} 8192$/m);
    assert.match(r.body, /^gmemd_http_requests_total\{route="\/v1\/vms",method="POST",status="201"\} 1$/m);
    assert.match(r.body, /^gmemd_process_resident_memory_bytes \d+/m);
  } finally {
    await t.close();
  }
});

test('malformed JSON, a wrong content type and an unknown route are problems too', async () => {
  const t = await makeApp('simulated');
  try {
    const bad = await t.app.inject({ method: 'POST', url: '/v1/vms', payload: '{"name": ', headers: { ...t.headers, 'content-type': 'application/json' } });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.headers['content-type'], 'application/problem+json; charset=utf-8');
    assert.equal(JSON.parse(bad.body).code, 'request.invalid');
    const type = await t.app.inject({ method: 'POST', url: '/v1/vms', payload: '<vm/>', headers: { ...t.headers, 'content-type': 'application/xml' } });
    assert.equal(type.statusCode, 415);
    assert.equal(JSON.parse(type.body).code, 'request.invalid');
    const none = await t.app.inject({ method: 'GET', url: '/v1/nothing', headers: t.headers });
    assert.equal(none.statusCode, 404);
    assert.equal(JSON.parse(none.body).code, 'request.route_not_found');
    assert.equal(t.store.ledger.sqlite.prepare("SELECT count(*) n FROM vms").pluck().get(), 0);
  } finally {
    await t.close();
  }
});
