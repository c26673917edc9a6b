import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { createInode } from '../../services/inode-service.js';
import { inodeDetail } from '../../services/queries.js';
import { example, PageQuery, problems, ref, RefId } from '../schemas/common.js';
import { CreateInodeRequest, InodeCreated, InodeDetail, InodeList } from '../schemas/resource-schemas.js';
import { bindingJson, fileJson, inodeJson, pageJson } from '../serialize.js';
import { mutate } from '../mutation.js';
import { listArgs } from './list-args.js';
import { sendCached, sendCachedPage } from '../read-cache.js';
import { literals } from '../schemas/literals.js';
import { INODE_STATES } from '../../domain/vocabulary.js';

const inodeRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app.gmemd;

  app.post('/v1/inodes', {
    config: { action: 'inode.create' },
    schema: { operationId: 'createInode', tags: ['inodes'],
      summary: 'Create guest memory: KVM_CREATE_GUEST_MEMFD on the owner VM; returns the inode and the owner\'s file',
      body: example(ref(CreateInodeRequest), { ownerVmId: 'vm_01jf3k8x2m4n6p8r0t2v4x6z8a', size: 2097152, shareable: true }), response: { 201: ref(InodeCreated), ...problems(400, 404, 409, 422, 503, 507) } },
  }, async (req, reply) => mutate(req, reply, (caller) => createInode(ctx, caller, req.body),
    (r) => ({ inode: inodeJson(r.inode), file: fileJson(r.file) }), 201));

  app.get('/v1/inodes', {
    schema: { operationId: 'listInodes', tags: ['inodes'], summary: 'List inodes',
      querystring: Type.Intersect([PageQuery, Type.Object({
        ownerVmId: Type.Optional(RefId('The owner VM')),
        state: Type.Optional(literals(INODE_STATES)),
      })]),
      response: { 200: ref(InodeList), ...problems(400) } },
  }, async (req, reply) => {
    const page = listArgs(req, reply, req.query);
    if (!page) return reply;
    return sendCachedPage(ctx.store, req, reply, () => pageJson(ctx.store.inodes.list({ ...page, ownerVmId: req.query.ownerVmId, state: req.query.state }), inodeJson));
  });

  app.get('/v1/inodes/:inodeId', {
    schema: { operationId: 'getInode', tags: ['inodes'], summary: 'An inode with its files and bindings across VMs',
      params: Type.Object({ inodeId: RefId('An inode') }), response: { 200: ref(InodeDetail), ...problems(404) } },
  }, async (req, reply) => sendCached(ctx.store, req, reply, () => inodeDetail(ctx, req.params.inodeId), (d) => ({
    inode: inodeJson(d.inode), files: d.files.map(fileJson), bindings: d.bindings.map(bindingJson),
  })));
};

export default inodeRoutes;
