// A whole story told only through the typed client (openapi-fetch over the generated types),
// against a listening gmemd on each backend: VMs, an inode, a share, bindings, probes seen
// from inside the guests, a narrowing, a donation, and the audit's access and lineage answers.
// Also: the generated client matches the committed document (`npm run client` regenerates it).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createGmemdClient, type GmemdClient } from '../../src/cli/client.js';
import { describeBackends, makeApp, MiB, type TestApp } from '../support/app.js';
import { clientTypes, CLIENT_TYPES } from '../../src/scripts/generate-client.js';

const A_GPA = 0x100000, B_GPA = 0x300000;

test('openapi/client/schema.d.ts is what openapi-typescript makes of the committed document (run `npm run client`)', async () => {
  assert.equal(readFileSync(CLIENT_TYPES, 'utf8'), await clientTypes());
});

/** The body of a successful response; otherwise fail with the problem the server sent. */
function ok<T>(r: { data?: T; error?: unknown; response: Response }, status?: number): T {
  assert.equal(r.error, undefined, `${r.response.url}: ${JSON.stringify(r.error)}`);
  if (status !== undefined) assert.equal(r.response.status, status);
  return r.data as T;
}

describeBackends('the story through the typed client', (kind) => {
  let t: TestApp;
  let api: GmemdClient;
  before(async () => {
    t = await makeApp(kind);
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    api = createGmemdClient({ url: `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`, token: t.token });
  });
  after(async () => { await t?.close(); });

  test('VMs, an inode, a share, bindings, probes, a narrowing, a donation, access and lineage', async () => {
    assert.equal(ok(await api.GET('/v1/host')).backend, kind);
    const vm = async (name: string) => ok(await api.POST('/v1/vms', { body: { name } }), 201).id;
    const [a, b, c] = [await vm('story-a'), await vm('story-b'), await vm('story-c')];

    const { inode, file: owner } = ok(await api.POST('/v1/inodes', { body: { ownerVmId: a, size: 2 * MiB } }), 201);
    assert.equal(inode.shareable, true);
    const ownerSlot = ok(await api.POST('/v1/files/{fileId}/bindings', { params: { path: { fileId: owner.id } }, body: { gpa: A_GPA, offset: 0, size: MiB } }), 201);
    assert.equal(ownerSlot.kind, 'gmem');

    const grant = ok(await api.POST('/v1/files/{fileId}/shares', { params: { path: { fileId: owner.id } }, body: { vmId: b, permissions: ['read', 'write'] } }), 201);
    assert.deepEqual([grant.role, grant.vmId], ['grantee', b]);
    const view = ok(await api.POST('/v1/files/{fileId}/bindings', { params: { path: { fileId: grant.id } }, body: { gpa: B_GPA, offset: 0, size: MiB } }), 201);
    assert.deepEqual([view.kind, view.readonly], ['view', false]);

    const probe = async (vmId: string, gpa: number, write?: number) =>
      ok(await api.POST('/v1/vms/{vmId}/probe', { params: { path: { vmId } }, body: write === undefined ? { gpa } : { gpa, write } }));
    assert.deepEqual(await probe(b, B_GPA + 8, 0x5a), { vmId: b, gpa: B_GPA + 8, outcome: 'value', value: 0x5a, wrote: true });
    const seen = await probe(a, A_GPA + 8);
    assert.deepEqual([seen.outcome, seen.value], ['value', 0x5a], 'the owner sees the grantee\'s write');

    const narrowed = ok(await api.PATCH('/v1/files/{fileId}', { params: { path: { fileId: grant.id } }, body: { permissions: ['read'] } }));
    assert.deepEqual(narrowed.permissions, ['read']);
    const slots = ok(await api.GET('/v1/bindings', { params: { query: { vmId: b, state: 'active' } } })).items;
    assert.deepEqual(slots.map((s) => s.readonly), [true], 'the view was re-created read-only');
    assert.deepEqual(await probe(b, B_GPA + 8, 0x11), { vmId: b, gpa: B_GPA + 8, outcome: 'write_trapped', value: 0x5a });

    const donation = ok(await api.POST('/v1/files/{fileId}/donate', { params: { path: { fileId: owner.id } }, body: { vmId: c } }));
    assert.deepEqual([donation.from.state, donation.to.role, donation.to.vmId], ['closed', 'owner', c]);
    assert.equal(ok(await api.GET('/v1/inodes/{inodeId}', { params: { path: { inodeId: inode.id } } })).inode.ownerVmId, c);

    // The audit's answers: who could touch the inode just before and right after the donation.
    const donateSeq = ok(await api.GET('/v1/audit/events', { params: { query: { action: 'file.donate', inodeId: inode.id } } })).items[0]!.seq;
    const holders = async (atSeq: number) => ok(await api.GET('/v1/audit/access', { params: { query: { inodeId: inode.id, atSeq } } })).items
      .map((h) => `${h.vmId === a ? 'a' : h.vmId === b ? 'b' : 'c'}:${h.role}:${h.permissions.join('+')}`).sort();
    assert.deepEqual(await holders(donateSeq - 1), ['a:owner:read+write+allocate+share', 'b:grantee:read']);
    assert.deepEqual(await holders(donateSeq), ['b:grantee:read', 'c:owner:read+write+allocate+share']);
    const lineage = ok(await api.GET('/v1/audit/lineage/{inodeId}', { params: { path: { inodeId: inode.id } } })).items;
    assert.deepEqual(lineage.map((s) => [s.action, s.fromVmId, s.toVmId]), [['inode.create', null, a], ['file.donate', a, c]]);
    assert.equal(ok(await api.GET('/v1/audit/verify')).ok, true);
  });

  test('a refusal arrives as the typed problem', async () => {
    const r = await api.GET('/v1/vms/{vmId}', { params: { path: { vmId: 'vm_00000000000000000000000000' } } });
    assert.equal(r.response.status, 404);
    assert.equal(r.data, undefined);
    assert.equal(r.error?.code, 'vm.not_found');
    assert.match(String(r.response.headers.get('content-type')), /^application\/problem\+json/);
  });
});
