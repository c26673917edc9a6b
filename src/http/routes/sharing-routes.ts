import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { shareFile, revokeFile } from '../../services/sharing-service.js';
import { narrowFile } from '../../services/narrow-service.js';
import { donateFile } from '../../services/donation-service.js';
import { probeVm } from '../../services/probe-service.js';
import { example, problems, ref, RefId } from '../schemas/common.js';
import { File } from '../schemas/resource-schemas.js';
import { Closed, DonateRequest, Donation, NarrowRequest, ProbeRequest, ProbeResult, ShareRequest } from '../schemas/sharing-schemas.js';
import { fileJson } from '../serialize.js';
import { mutate } from '../mutation.js';

const FileParams = Type.Object({ fileId: RefId('A file') });

const sharingRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app.gmemd;

  app.post('/v1/files/:fileId/shares', {
    config: { action: 'file.share' },
    schema: { operationId: 'shareFile', tags: ['files'],
      summary: 'Give another VM its own file on the same inode, with at most the granter\'s permissions (never allocate)',
      params: FileParams, body: example(ref(ShareRequest), { vmId: 'vm_01jf3k8x2m4n6p8r0t2v4x6z8b', permissions: ['read'] }), response: { 201: ref(File), ...problems(400, 403, 404, 409) } },
  }, async (req, reply) => mutate(req, reply, (caller) => shareFile(ctx, caller, req.params.fileId, req.body), fileJson, 201));

  app.patch('/v1/files/:fileId', {
    config: { action: 'file.narrow' },
    schema: { operationId: 'narrowFile', tags: ['files'],
      summary: 'Narrow a grant; losing write re-creates its memslots read-only, and grants made from it shrink too',
      params: FileParams, body: example(ref(NarrowRequest), { permissions: ['read'] }), response: { 200: ref(File), ...problems(400, 404, 409, 422) } },
  }, async (req, reply) => mutate(req, reply, (caller) => narrowFile(ctx, caller, req.params.fileId, req.body), fileJson));

  app.post('/v1/files/:fileId/revoke', {
    config: { action: 'file.revoke' },
    schema: { operationId: 'revokeFile', tags: ['files'],
      summary: 'Close a grant: its memslots are deleted first, then the grants made from it go too',
      params: FileParams, response: { 200: ref(Closed), ...problems(404, 409) } },
  }, async (req, reply) => mutate(req, reply, (caller) => revokeFile(ctx, caller, req.params.fileId), (s) => s));

  app.post('/v1/files/:fileId/donate', {
    config: { action: 'file.donate' },
    schema: { operationId: 'donateFile', tags: ['files'],
      summary: 'Move ownership of the inode to another VM; the old owner\'s memslots and file go, the contents stay',
      params: FileParams, body: example(ref(DonateRequest), { vmId: 'vm_01jf3k8x2m4n6p8r0t2v4x6z8b' }), response: { 200: ref(Donation), ...problems(400, 404, 409) } },
  }, async (req, reply) => mutate(req, reply, (caller) => donateFile(ctx, caller, req.params.fileId, req.body),
    (d) => ({ from: fileJson(d.from), to: fileJson(d.to) })));

  app.post('/v1/vms/:vmId/probe', {
    config: { action: 'vm.probe' },
    schema: { operationId: 'probeVm', tags: ['vms'],
      summary: 'Run a one-shot vCPU that reads (after optionally writing) the byte at gpa, and report what the guest saw',
      params: Type.Object({ vmId: RefId('A VM') }), body: example(ref(ProbeRequest), { gpa: 1048576, write: 42 }), response: { 200: ref(ProbeResult), ...problems(400, 404, 409, 422) } },
  }, async (req, reply) => mutate(req, reply, (caller) => probeVm(ctx, caller, req.params.vmId, req.body),
    (p) => ({ vmId: req.params.vmId, gpa: p.gpa, outcome: p.kind, ...('value' in p ? { value: p.value } : {}),
      ...('wrote' in p ? { wrote: p.wrote } : {}), ...('errno' in p ? { errno: p.errno } : {}) })));
};

export default sharingRoutes;
