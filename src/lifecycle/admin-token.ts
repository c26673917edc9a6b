// The first start's admin token. Without GMEMD_ADMIN_TOKEN, a ledger with no live admin
// token gets one, and its secret is written to admin.token beside the ledger, mode 0600
// (the only copy: the ledger keeps its hash). With GMEMD_ADMIN_TOKEN, that value is the
// admin token `admin`. Either way the work is recorded with actor gmemd.
import { chmodSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ServiceContext } from '../services/context.js';
import { ensureAdminToken } from '../services/token-service.js';
import { SYSTEM_CALLER } from '../reconcile/startup.js';

export const ADMIN_TOKEN_FILE = 'admin.token';

/** What happened, for the start-up log (never the secret). */
export type AdminTokenOutcome = { kind: 'env' } | { kind: 'existing' } | { kind: 'issued'; path: string | null; name: string };

export function bootstrapAdminToken(ctx: ServiceContext, dbPath: string, envSecret: string | null): AdminTokenOutcome {
  const r = ensureAdminToken(ctx, SYSTEM_CALLER, envSecret);
  if (!r.ok) throw new Error(`admin token: ${r.error.message}`);
  if (envSecret !== null) return { kind: 'env' };
  if (!r.value) return { kind: 'existing' };
  if (dbPath === ':memory:') return { kind: 'issued', path: null, name: r.value.row.name };
  const path = join(dirname(dbPath), ADMIN_TOKEN_FILE);
  writeFileSync(path, `${r.value.secret}\n`, { mode: 0o600 });
  // writeFileSync's mode applies only to a file it creates: an older admin.token may be wider.
  chmodSync(path, 0o600);
  return { kind: 'issued', path, name: r.value.row.name };
}
