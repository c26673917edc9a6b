// Token use cases: issue (the secret is returned once, only its hash is kept) and revoke.
// Both go through the runner and are audited as token.create / token.revoke with the
// token's id, name and role; the secret never reaches the ledger.
import { err, ok, type Result } from '../domain/result.js';
import type { Role } from '../domain/roles.js';
import { newId } from '../store/ids.js';
import type { TokenRow } from '../store/rows.js';
import type { Caller, ServiceContext } from './context.js';
import type { Command } from './pipeline/command.js';
import { run, runNow } from './pipeline/run.js';
import { hashSecret, newSecret } from './token-secrets.js';

export interface IssuedToken { row: TokenRow; secret: string }

// Every token change holds one key: the last-admin check and the name check must not race.
const KEYS = ['tokens'] as const;

function issueCommand(ctx: ServiceContext, input: { name: string; role: Role; secret?: string; replace?: boolean }): Command<IssuedToken> {
  const { store } = ctx;
  const secret = input.secret ?? newSecret();
  const secretHash = hashSecret(secret);
  return {
    action: 'token.create', keys: KEYS,
    decide: () => {
      const taken = store.tokens.liveByName(input.name);
      if (taken && !input.replace) return err('token.name_taken', `a live token is named ${input.name}`, { name: input.name });
      return ok({
        details: { name: input.name, role: input.role },
        record: (rec) => {
          // Re-registering GMEMD_ADMIN_TOKEN: the old `admin` token stops working in the same transaction.
          if (taken) {
            store.tokens.revoke(taken.id, rec.time);
            rec.event('token.revoke', {}, { tokenId: taken.id, name: taken.name, role: taken.role, cause: 'replaced' });
          }
          const row: TokenRow = { id: newId('tok'), name: input.name, role: input.role, secretHash, createdAt: rec.time, revokedAt: null };
          store.tokens.insert(row);
          rec.event('token.create', {}, { tokenId: row.id, name: row.name, role: row.role });
          return { row, secret };
        },
      });
    },
  };
}

export function createToken(ctx: ServiceContext, caller: Caller, input: { name: string; role: Role }): Promise<Result<IssuedToken>> {
  return run(ctx, caller, issueCommand(ctx, input));
}

export function revokeToken(ctx: ServiceContext, caller: Caller, tokenId: string): Promise<Result<TokenRow>> {
  const { store } = ctx;
  return run(ctx, caller, {
    action: 'token.revoke', keys: KEYS,
    decide: () => {
      const t = store.tokens.get(tokenId);
      if (!t) return err('token.not_found', `no token ${tokenId}`, { tokenId });
      if (t.revokedAt !== null) return err('token.revoked', `token ${tokenId} is already revoked`, { tokenId });
      // Without a live admin nobody could issue tokens again short of a restart with GMEMD_ADMIN_TOKEN.
      if (t.role === 'admin' && store.tokens.liveAdmins().length === 1) {
        return err('token.last_admin', `token ${tokenId} is the last live admin token; issue another admin token first`, { tokenId });
      }
      return ok({
        details: { tokenId, name: t.name, role: t.role },
        record: (rec) => {
          store.tokens.revoke(tokenId, rec.time);
          rec.event('token.revoke', {}, { tokenId, name: t.name, role: t.role });
          return { ...t, revokedAt: rec.time };
        },
      });
    },
  });
}

/**
 * Start-up (nothing else runs): with `envSecret` (GMEMD_ADMIN_TOKEN), that secret is the
 * admin token `admin`, re-registered when it changed. Without it, a new admin token is
 * issued when no live admin token exists, and returned so the caller can write it out.
 */
export function ensureAdminToken(ctx: ServiceContext, caller: Caller, envSecret: string | null): Result<IssuedToken | null> {
  const { tokens } = ctx.store;
  if (envSecret !== null) {
    const live = tokens.live(hashSecret(envSecret));
    if (live?.role === 'admin') return ok(null);
    if (live) return err('token.name_taken', `GMEMD_ADMIN_TOKEN is the secret of the ${live.role} token ${live.name}`);
    const r = runNow(ctx, caller, issueCommand(ctx, { name: 'admin', role: 'admin', secret: envSecret, replace: true }));
    return r.ok ? ok(null) : r;
  }
  if (tokens.liveAdmins().length > 0) return ok(null);
  const name = tokens.liveByName('admin') ? `admin-${Date.now()}` : 'admin';
  return runNow(ctx, caller, issueCommand(ctx, { name, role: 'admin' }));
}
