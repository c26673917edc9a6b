import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { createBinding, deleteBinding } from '../../services/binding-service.js';
import { example, PageQuery, problems, ref, RefId } from '../schemas/common.js';
import { Binding, BindingList, CreateBindingRequest } from '../schemas/resource-schemas.js';
import { bindingJson, pageJson } from '../serialize.js';
import { mutate } from '../mutation.js';
import { listArgs } from './list-args.js';
import { sendCachedPage } from '../read-cache.js';
import { literals } from '../schemas/literals.js';
import { BINDING_STATES } from '../../domain/vocabulary.js';

const bindingRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app.gmemd;

  app.post('/v1/files/:fileId/bindings', {
    config: { action: 'binding.create' },
    schema: { operationId: 'createBinding', tags: ['bindings'],
      summary: 'Map a range of the file at a guest address: a memslot (KVM_SET_USER_MEMORY_REGION2)',
      params: Type.Object({ fileId: RefId('A file') }), body: example(ref(CreateBindingRequest), { gpa: 1048576, offset: 0, size: 2097152 }),
      response: { 201: ref(Binding), ...problems(400, 403, 404, 409, 422) } },
  }, async (req, reply) => mutate(req, reply, (caller) => createBinding(ctx, caller, req.params.fileId, req.body), bindingJson, 201));

  app.get('/v1/bindings', {
    schema: { operationId: 'listBindings', tags: ['bindings'], summary: 'List bindings',
      querystring: Type.Intersect([PageQuery, Type.Object({
        vmId: Type.Optional(RefId('A VM')), fileId: Type.Optional(RefId('A file')), inodeId: Type.Optional(RefId('An inode')),
        state: Type.Optional(literals(BINDING_STATES)),
      })]),
      response: { 200: ref(BindingList), ...problems(400) } },
  }, async (req, reply) => {
    const page = listArgs(req, reply, req.query);
    if (!page) return reply;
    const q = req.query;
    return sendCachedPage(ctx.store, req, reply, () => pageJson(ctx.store.bindings.list({ ...page, vmId: q.vmId, fileId: q.fileId, inodeId: q.inodeId, state: q.state }), bindingJson));
  });

  app.delete('/v1/bindings/:bindingId', {
    config: { action: 'binding.delete' },
    schema: { operationId: 'deleteBinding', tags: ['bindings'], summary: 'Delete the memslot (memory_size 0)',
      params: Type.Object({ bindingId: RefId('A binding') }), response: { 200: ref(Binding), ...problems(404, 422) } },
  }, async (req, reply) => mutate(req, reply, (caller) => deleteBinding(ctx, caller, req.params.bindingId), bindingJson));
};

export default bindingRoutes;
