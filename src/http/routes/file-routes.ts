import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { allocate, punchHole } from '../../services/file-service.js';
import { err } from '../../domain/result.js';
import { example, PageQuery, problems, ref, RefId } from '../schemas/common.js';
import { File, FileList, RangeRequest, RangeResult } from '../schemas/resource-schemas.js';
import { fileJson, pageJson } from '../serialize.js';
import { respond } from '../problem.js';
import { mutate } from '../mutation.js';
import { listArgs } from './list-args.js';
import { sendCachedPage } from '../read-cache.js';
import { literals } from '../schemas/literals.js';
import { FILE_STATES } from '../../domain/vocabulary.js';

const FileParams = Type.Object({ fileId: RefId('A file') });
const rangeJson = (r: { file: { id: string; inodeId: string }; offset: number; length: number }) =>
  ({ fileId: r.file.id, inodeId: r.file.inodeId, offset: r.offset, length: r.length });

const fileRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app.gmemd;

  app.get('/v1/files', {
    schema: { operationId: 'listFiles', tags: ['files'], summary: 'List files (VMs\' views of inodes)',
      querystring: Type.Intersect([PageQuery, Type.Object({
        vmId: Type.Optional(RefId('A VM')), inodeId: Type.Optional(RefId('An inode')),
        state: Type.Optional(literals(FILE_STATES)),
      })]),
      response: { 200: ref(FileList), ...problems(400) } },
  }, async (req, reply) => {
    const page = listArgs(req, reply, req.query);
    if (!page) return reply;
    return sendCachedPage(ctx.store, req, reply, () => pageJson(ctx.store.files.list({ ...page, vmId: req.query.vmId, inodeId: req.query.inodeId, state: req.query.state }), fileJson));
  });

  app.get('/v1/files/:fileId', {
    schema: { operationId: 'getFile', tags: ['files'], summary: 'A file: one VM\'s view of an inode, with its role and permissions', params: FileParams, response: { 200: ref(File), ...problems(404) } },
  }, async (req, reply) => {
    const f = ctx.store.files.get(req.params.fileId);
    return respond(req, reply, f ? { ok: true, value: f } : err('file.not_found', `no file ${req.params.fileId}`), fileJson);
  });

  app.post('/v1/files/:fileId/allocate', {
    config: { action: 'inode.allocate' },
    schema: { operationId: 'allocateFileRange', tags: ['files'], summary: 'fallocate(KEEP_SIZE) a page-aligned range (owner only)',
      params: FileParams, body: example(ref(RangeRequest), { offset: 0, length: 65536 }), response: { 200: ref(RangeResult), ...problems(400, 403, 404, 409, 422, 507) } },
  }, async (req, reply) => mutate(req, reply, (caller) => allocate(ctx, caller, req.params.fileId, req.body), rangeJson));

  app.post('/v1/files/:fileId/punch-hole', {
    config: { action: 'inode.punch_hole' },
    schema: { operationId: 'punchFileHole', tags: ['files'],
      summary: 'fallocate(PUNCH_HOLE|KEEP_SIZE): zeroes the range in every VM\'s view (owner only)',
      params: FileParams, body: example(ref(RangeRequest), { offset: 4096, length: 4096 }), response: { 200: ref(RangeResult), ...problems(400, 403, 404, 409, 422) } },
  }, async (req, reply) => mutate(req, reply, (caller) => punchHole(ctx, caller, req.params.fileId, req.body), rangeJson));
};

export default fileRoutes;
