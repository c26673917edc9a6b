import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { abortMigration, prepareMigration } from '../../services/migration-service.js';
import { commitMigration } from '../../services/migration-commit.js';
import { err } from '../../domain/result.js';
import type { MigrationRow } from '../../store/rows.js';
import { example, PageQuery, problems, ref, RefId } from '../schemas/common.js';
import { CreateMigrationRequest, Migration, MigrationList } from '../schemas/sharing-schemas.js';
import { pageJson } from '../serialize.js';
import { respond } from '../problem.js';
import { mutate } from '../mutation.js';
import { listArgs } from './list-args.js';
import { literals } from '../schemas/literals.js';
import { MIGRATION_STATES } from '../../domain/vocabulary.js';

const migrationJson = (m: MigrationRow) => ({
  id: m.id, sourceVmId: m.sourceVmId, targetVmId: m.targetVmId, kind: m.kind, state: m.state,
  plan: m.plan as never, createdAt: new Date(m.createdAt).toISOString(), endedAt: m.endedAt === null ? null : new Date(m.endedAt).toISOString(),
});
const Params = Type.Object({ migrationId: RefId('A migration') });

const migrationRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app.gmemd;

  app.post('/v1/migrations', {
    config: { action: 'migration.prepare' },
    schema: { operationId: 'prepareMigration', tags: ['migrations'],
      summary: 'Prepare moving every file of the source VM to the target: pending files and a plan mirroring the source\'s memslots',
      body: example(ref(CreateMigrationRequest), { sourceVmId: 'vm_01jf3k8x2m4n6p8r0t2v4x6z8a', targetVmId: 'vm_01jf3k8x2m4n6p8r0t2v4x6z8b' }), response: { 201: ref(Migration), ...problems(400, 404, 409, 422) } },
  }, async (req, reply) => mutate(req, reply, (caller) => prepareMigration(ctx, caller, req.body), migrationJson, 201));

  app.get('/v1/migrations', {
    schema: { operationId: 'listMigrations', tags: ['migrations'], summary: 'List migrations and handovers',
      querystring: Type.Intersect([PageQuery, Type.Object({
        state: Type.Optional(literals(MIGRATION_STATES)),
        vmId: Type.Optional(RefId('A VM')),
      })]),
      response: { 200: ref(MigrationList), ...problems(400) } },
  }, async (req, reply) => {
    const page = listArgs(req, reply, req.query);
    if (!page) return reply;
    return pageJson(ctx.store.migrations.list({ ...page, state: req.query.state, vmId: req.query.vmId }), migrationJson);
  });

  app.get('/v1/migrations/:migrationId', {
    schema: { operationId: 'getMigration', tags: ['migrations'], summary: 'A migration with its plan', params: Params, response: { 200: ref(Migration), ...problems(404) } },
  }, async (req, reply) => {
    const m = ctx.store.migrations.get(req.params.migrationId);
    return respond(req, reply, m ? { ok: true, value: m } : err('migration.not_found', `no migration ${req.params.migrationId}`), migrationJson);
  });

  app.post('/v1/migrations/:migrationId/commit', {
    config: { action: 'migration.commit' },
    schema: { operationId: 'commitMigration', tags: ['migrations'],
      summary: 'Move every view and memslot to the target in one step; the source\'s files close',
      params: Params, response: { 200: ref(Migration), ...problems(404, 409, 422) } },
  }, async (req, reply) => mutate(req, reply, (caller) => commitMigration(ctx, caller, req.params.migrationId), migrationJson));

  app.post('/v1/migrations/:migrationId/abort', {
    config: { action: 'migration.abort' },
    schema: { operationId: 'abortMigration', tags: ['migrations'], summary: 'Drop the pending files; nothing else changes',
      params: Params, response: { 200: ref(Migration), ...problems(404, 409) } },
  }, async (req, reply) => mutate(req, reply, (caller) => abortMigration(ctx, caller, req.params.migrationId), migrationJson));
};

export default migrationRoutes;
