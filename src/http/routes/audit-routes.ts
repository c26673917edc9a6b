// The auditor's API over the ledger: events, access at an instant, exposure now, ownership
// lineage, chain verification and an NDJSON export. Read-only: nothing here writes.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AuditQueries } from '../../store/audit/audit-queries.js';
import type { VerifyResult } from '../../store/audit/verify.js';
import { problems, ref, RefId, PageQuery } from '../schemas/common.js';
import {
  AccessPage, AccessQuery, AuditEventPage, EventsQuery, ExportQuery, ExposurePage, ExposureQuery, LineagePage, VerifyReport,
} from '../schemas/audit-schemas.js';
import { pageJson } from '../serialize.js';
import { respond, sendProblem } from '../problem.js';
import { accessHolderJson, auditEventJson, msOf, ownershipStepJson } from '../audit-wire.js';

export interface AuditRoutesOptions {
  /** GMEMD_AUDIT_KEY: with it, verify also checks checkpoint MACs. */
  auditKey?: string | null;
  /** Events verified per slice before yielding to the event loop. */
  verifyChunk?: number;
}

const auditRoutes: FastifyPluginAsyncTypebox<AuditRoutesOptions> = async (app, opts) => {
  const { ctx } = app.gmemd;
  const audit = new AuditQueries(ctx.store.ledger.sqlite, opts.auditKey ? { key: opts.auditKey } : {});
  // Concurrent verify requests share one walk of the chain instead of each starting another.
  let verifying: Promise<VerifyResult> | null = null;

  app.get('/v1/audit/events', {
    schema: { operationId: 'listAuditEvents', tags: ['audit'], summary: 'Audit events by seq, filtered by action, subject, outcome and time',
      querystring: EventsQuery, response: { 200: ref(AuditEventPage), ...problems(400) } },
  }, async (req, reply) => {
    const { since, until, ...rest } = req.query;
    return respond(req, reply, audit.events({ ...rest, since: msOf(since), until: msOf(until) }), (p) => pageJson(p, auditEventJson));
  });

  app.get('/v1/audit/access', {
    schema: { operationId: 'getAuditAccess', tags: ['audit'],
      summary: 'Which VMs held which role and permissions on an inode at an instant (from the access history, not current state)',
      querystring: AccessQuery, response: { 200: ref(AccessPage), ...problems(400, 404) } },
  }, async (req, reply) => {
    const { at, ...rest } = req.query;
    return respond(req, reply, audit.access({ ...rest, at: msOf(at) }), (p) => pageJson(p, accessHolderJson));
  });

  app.get('/v1/audit/exposure', {
    schema: { operationId: 'getAuditExposure', tags: ['audit'],
      summary: 'Live inodes reachable by more than one VM, write-shared, re-shared by a grantee, or outliving their origin VM',
      querystring: ExposureQuery, response: { 200: ref(ExposurePage), ...problems(400) } },
  }, async (req, reply) => respond(req, reply, audit.exposure(req.query), (p) => p));

  app.get('/v1/audit/lineage/:inodeId', {
    schema: { operationId: 'getAuditLineage', tags: ['audit'], summary: 'The chain of owners of an inode: creation, donations, migrations',
      params: Type.Object({ inodeId: RefId('An inode') }), querystring: PageQuery, response: { 200: ref(LineagePage), ...problems(400, 404) } },
  }, async (req, reply) => respond(req, reply, audit.lineage(req.params.inodeId, req.query), (p) => pageJson(p, ownershipStepJson)));

  app.get('/v1/audit/verify', {
    schema: { operationId: 'verifyAuditChain', tags: ['audit'],
      summary: 'Walk the hash chain and the signed checkpoints; a broken chain is reported with its first bad seq (200 either way)',
      response: { 200: ref(VerifyReport) } },
  }, async () => {
    verifying ??= audit.verifyAsync(opts.verifyChunk ?? 5000).finally(() => { verifying = null; });
    return verifying;
  });

  app.get('/v1/audit/export', {
    schema: { operationId: 'exportAuditEvents', tags: ['audit'],
      summary: 'NDJSON stream of events (one AuditEvent per line) over a seq or time range, in seq order',
      querystring: ExportQuery,
      response: {
        200: { description: 'One AuditEvent per line', content: { 'application/x-ndjson': { schema: { type: 'string' } } } },
        ...problems(400),
      } },
  }, async (req, reply) => {
    const { fromSeq, toSeq, since, until } = req.query;
    if (fromSeq !== undefined && toSeq !== undefined && fromSeq > toSeq) {
      return sendProblem(req, reply, { code: 'request.invalid', message: 'fromSeq must not be after toSeq' });
    }
    const range = { fromSeq, toSeq, since: msOf(since), until: msOf(until) };
    // Fastify pipes a stream as is; the response schema above only documents the line format.
    const stream: unknown = audit.exportStream(range, 'wire');
    return reply.type('application/x-ndjson').send(stream as string);
  });
};

export default auditRoutes;
