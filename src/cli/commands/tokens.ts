// gmemd token create|list|revoke: the token API (admin only). The secret of a new token is
// printed once, as the service returns it once.
import createClient from 'openapi-fetch';
import { need, unwrap, UsageError, type Command, type CommandContext } from '../context.js';
import { show, table } from '../output.js';

// The token API's contract (issue 10: POST /v1/tokens {name, role} -> {id, name, role, token},
// GET /v1/tokens, DELETE /v1/tokens/{tokenId}), typed here until those routes are in the
// committed document; then the generated paths carry them and this block goes.
type Role = 'admin' | 'operator' | 'auditor';
interface TokenInfo { id: string; name: string; role: Role; createdAt: string; revokedAt: string | null }
type Json<T> = { content: { 'application/json': T } };
interface TokenPaths {
  '/v1/tokens': {
    post: { requestBody: Json<{ name: string; role: Role }>; responses: { 201: Json<TokenInfo & { token: string }>; default: Json<unknown> } };
    get: { responses: { 200: Json<{ items: TokenInfo[] }>; default: Json<unknown> } };
  };
  '/v1/tokens/{tokenId}': {
    delete: { parameters: { path: { tokenId: string } }; responses: { 200: Json<TokenInfo>; default: Json<unknown> } };
  };
}
const tokensApi = (c: CommandContext) => c.api as unknown as ReturnType<typeof createClient<TokenPaths>>;

const ROLES = ['admin', 'operator', 'auditor'] as const;

export const tokenCommands: Command[] = [
  {
    name: 'token create', summary: 'Issue a bearer token with a role (admin); prints its secret once',
    usage: `gmemd token create --name NAME --role admin|operator|auditor

  --name NAME  unique among tokens in use; audit events name it as actor token:NAME
  --role ROLE  admin: everything; operator: VMs, memory, sharing, migrations, probe and reads;
               auditor: reads and the audit API`,
    options: { name: { type: 'string' }, role: { type: 'string' } },
    async run(c) {
      const name = need(c, 'name');
      const role = need(c, 'role') as (typeof ROLES)[number];
      if (!ROLES.includes(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
      const t = unwrap(await tokensApi(c).POST('/v1/tokens', { body: { name, role } }));
      show(c, t, () => `${t.id} ${t.name} (${t.role})\n${t.token}`);
      return 0;
    },
  },
  {
    name: 'token list', summary: 'Every token issued, revoked ones included (admin); never their secrets',
    usage: 'gmemd token list',
    async run(c) {
      const list = unwrap(await tokensApi(c).GET('/v1/tokens'));
      show(c, list, () => table(list.items, [['ID', (t) => t.id], ['NAME', (t) => t.name], ['ROLE', (t) => t.role],
        ['CREATED', (t) => t.createdAt], ['REVOKED', (t) => t.revokedAt]]));
      return 0;
    },
  },
  {
    name: 'token revoke', summary: 'Revoke a token (admin): it stops working on the next request',
    usage: 'gmemd token revoke TOKEN_ID', positionals: 1,
    async run(c) {
      const tokenId = c.positionals[0];
      if (!tokenId) throw new UsageError('the token id is required');
      const t = unwrap(await tokensApi(c).DELETE('/v1/tokens/{tokenId}', { params: { path: { tokenId } } }));
      show(c, t, () => `revoked ${t.id} ${t.name} (${t.role}) at ${t.revokedAt}`);
      return 0;
    },
  },
];
