// The token API (admin only, see src/http/auth/route-access.ts): issue, list, revoke.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { createToken, revokeToken } from '../../services/token-service.js';
import type { TokenRow } from '../../store/rows.js';
import { example, problems, ref } from '../schemas/common.js';
import { CreateTokenRequest, IssuedToken, Token, TokenList } from '../schemas/token-schemas.js';
import { mutate } from '../mutation.js';

const iso = (t: number) => new Date(t).toISOString();
export const tokenJson = (t: TokenRow) =>
  ({ id: t.id, name: t.name, role: t.role, createdAt: iso(t.createdAt), revokedAt: t.revokedAt === null ? null : iso(t.revokedAt) });

const tokenRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app.gmemd;

  app.post('/v1/tokens', {
    config: { action: 'token.create', replay: false },
    schema: { operationId: 'createToken', tags: ['tokens'], summary: 'Issue a bearer token with a role; its secret is in this response only',
      description: 'An Idempotency-Key is ignored here: the reply holds the secret, and gmemd stores no secret.',
      body: example(ref(CreateTokenRequest), { name: 'ci-operator', role: 'operator' }), response: { 201: ref(IssuedToken), ...problems(400, 409) } },
  }, async (req, reply) => mutate(req, reply, (caller) => createToken(ctx, caller, req.body),
    ({ row, secret }) => ({ id: row.id, name: row.name, role: row.role, createdAt: iso(row.createdAt), token: secret }), 201));

  app.get('/v1/tokens', {
    schema: { operationId: 'listTokens', tags: ['tokens'], summary: 'Every token issued, revoked ones included; never a secret',
      response: { 200: ref(TokenList) } },
  }, async () => ({ items: ctx.store.tokens.list().map(tokenJson) }));

  app.delete('/v1/tokens/:tokenId', {
    config: { action: 'token.revoke' },
    schema: { operationId: 'revokeToken', tags: ['tokens'], summary: 'Revoke a token: it is refused from the next request on',
      params: Type.Object({ tokenId: Type.String() }), response: { 200: ref(Token), ...problems(404, 409) } },
  }, async (req, reply) => mutate(req, reply, (caller) => revokeToken(ctx, caller, req.params.tokenId), tokenJson));
};

export default tokenRoutes;
