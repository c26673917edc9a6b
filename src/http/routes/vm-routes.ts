import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { createVm, destroyVm } from '../../services/vm-service.js';
import { vmDetail } from '../../services/queries.js';
import { example, PageQuery, problems, ref, RefId } from '../schemas/common.js';
import { CreateVmRequest, Vm, VmDestroyed, VmDetail, VmList } from '../schemas/resource-schemas.js';
import { bindingJson, fileJson, pageJson, vmJson } from '../serialize.js';
import { mutate } from '../mutation.js';
import { listArgs } from './list-args.js';
import { sendCached, sendCachedPage } from '../read-cache.js';
import { literals } from '../schemas/literals.js';
import { VM_STATES } from '../../domain/vocabulary.js';

const VmParams = Type.Object({ vmId: RefId('A VM') });

const vmRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app.gmemd;

  app.post('/v1/vms', {
    config: { action: 'vm.create' },
    schema: { operationId: 'createVm', tags: ['vms'], summary: 'Create a KVM VM (KVM_CREATE_VM)',
      body: example(ref(CreateVmRequest), { name: 'web-1', labels: { tenant: 'acme' } }), response: { 201: ref(Vm), ...problems(400, 409, 422, 503) } },
  }, async (req, reply) => mutate(req, reply, (caller) => createVm(ctx, caller, req.body), vmJson, 201));

  app.get('/v1/vms', {
    schema: { operationId: 'listVms', tags: ['vms'], summary: 'List VMs',
      querystring: Type.Intersect([PageQuery, Type.Object({ state: Type.Optional(literals(VM_STATES)) })]),
      response: { 200: ref(VmList), ...problems(400) } },
  }, async (req, reply) => {
    const page = listArgs(req, reply, req.query);
    if (!page) return reply;
    return sendCachedPage(ctx.store, req, reply, () => pageJson(ctx.store.vms.list({ ...page, state: req.query.state }), vmJson));
  });

  app.get('/v1/vms/:vmId', {
    schema: { operationId: 'getVm', tags: ['vms'], summary: 'A VM with its files, bindings and memory totals',
      params: VmParams, response: { 200: ref(VmDetail), ...problems(404) } },
  }, async (req, reply) => sendCached(ctx.store, req, reply, () => vmDetail(ctx, req.params.vmId), (d) => ({
    vm: vmJson(d.vm), files: d.files.map(fileJson), bindings: d.bindings.map(bindingJson), memory: d.memory,
  })));

  app.delete('/v1/vms/:vmId', {
    config: { action: 'vm.destroy' },
    schema: { operationId: 'destroyVm', tags: ['vms'],
      summary: 'Destroy a VM: delete its memslots, close its files (an owner file takes its grants along), release inodes left without files',
      params: VmParams, response: { 200: ref(VmDestroyed), ...problems(404, 409) } },
  }, async (req, reply) => mutate(req, reply, (caller) => destroyVm(ctx, caller, req.params.vmId), (s) => ({
    vm: vmJson(ctx.store.vms.get(req.params.vmId)!), ...s,
  })));
};

export default vmRoutes;
