// gmemd token create|list|revoke: the token API (admin only). The secret of a new token is
// printed once, as the service returns it once.
import { need, unwrap, UsageError, type Command } from '../context.js';
import { show, table } from '../output.js';
import { ROLES, isRole } from '../../domain/roles.js';

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
      const role = need(c, 'role');
      if (!isRole(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
      const t = unwrap(await c.api.POST('/v1/tokens', { body: { name, role } }));
      show(c, t, () => `${t.id} ${t.name} (${t.role})\n${t.token}`);
      return 0;
    },
  },
  {
    name: 'token list', summary: 'Every token issued, revoked ones included (admin); never their secrets',
    usage: 'gmemd token list',
    async run(c) {
      const list = unwrap(await c.api.GET('/v1/tokens'));
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
      const t = unwrap(await c.api.DELETE('/v1/tokens/{tokenId}', { params: { path: { tokenId } } }));
      show(c, t, () => `revoked ${t.id} ${t.name} (${t.role}) at ${t.revokedAt}`);
      return 0;
    },
  },
];
