// The gmemd command line, for operators and auditors working on a ledger file directly
// (no running service needed): `gmemd audit verify [--db PATH]`.
// Exit codes: 0 the chain verifies, 1 it is broken (the JSON names the first bad seq),
// 2 usage error or the database cannot be opened.
import Database from 'better-sqlite3';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { verifyLedger } from './audit/verify.js';

const USAGE = `usage: gmemd audit verify [--db PATH]

  --db PATH   the ledger (default: $GMEMD_DB, else ./data/gmemd.db)

With GMEMD_AUDIT_KEY set, checkpoint MACs are verified too. Prints a JSON report; exits 0 when
the chain is intact, 1 when it is broken, 2 on a usage error or a database that cannot be opened.`;

export interface Io { out: (s: string) => void; err: (s: string) => void }

export function main(argv: string[], env: NodeJS.ProcessEnv, io: Io): number {
  const [group, command, ...rest] = argv;
  if (group === '--help' || group === '-h' || group === 'help') { io.out(USAGE); return 0; }
  if (group !== 'audit' || command !== 'verify') { io.err(USAGE); return 2; }
  let db = env.GMEMD_DB || './data/gmemd.db';
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (arg === '--db' && rest[i + 1] !== undefined) db = rest[++i]!;
    else if (arg.startsWith('--db=')) db = arg.slice('--db='.length);
    else if (arg === '--help' || arg === '-h') { io.out(USAGE); return 0; }
    else { io.err(`unknown argument: ${arg}\n${USAGE}`); return 2; }
  }
  const path = resolve(db);
  let sqlite: Database.Database;
  try {
    // Read-only: verifying must never change the evidence (no migrations, no checkpoints).
    sqlite = new Database(path, { readonly: true, fileMustExist: true });
  } catch (e) {
    io.err(JSON.stringify({ ok: false, db: path, error: (e as Error).message }));
    return 2;
  }
  try {
    const key = env.GMEMD_AUDIT_KEY || undefined;
    const result = verifyLedger(sqlite, key === undefined ? {} : { key });
    io.out(JSON.stringify({ db: path, ...result }, null, 2));
    return result.ok ? 0 : 1;
  } catch (e) {
    io.err(JSON.stringify({ ok: false, db: path, error: (e as Error).message }));
    return 2;
  } finally {
    sqlite.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = main(process.argv.slice(2), process.env, {
    out: (s) => process.stdout.write(s + '\n'),
    err: (s) => process.stderr.write(s + '\n'),
  });
}
