// gmemd audit verify|export|access. verify with --db works on a ledger file directly, with
// no service running (read-only: verifying never changes the evidence); otherwise it asks
// the service, like export and access.
import { resolve } from 'node:path';
import { verifyLedgerParallel } from '../../store/audit/verify-parallel.js';
import { openLedgerReadOnly, type ReadOnlyLedger } from '../../store/read-only.js';
import { intOption, need, unwrap, UsageError, type Command, type CommandContext } from '../context.js';
import { show, table } from '../output.js';
import type { Schemas } from '../client.js';

/** The file verified as the service verifies its ledger (verifyLedgerParallel: worker threads). */
async function verifyFile(c: CommandContext, db: string): Promise<number> {
  const path = resolve(db);
  let sqlite: ReadOnlyLedger;
  try {
    sqlite = openLedgerReadOnly(path);
  } catch (e) {
    c.io.err(JSON.stringify({ ok: false, db: path, error: (e as Error).message }));
    return 2;
  }
  try {
    const key = c.env.GMEMD_AUDIT_KEY || undefined;
    const result = await verifyLedgerParallel(sqlite, key === undefined ? {} : { key });
    c.io.out(JSON.stringify({ db: path, ...result }, null, 2));
    return result.ok ? 0 : 1;
  } catch (e) {
    c.io.err(JSON.stringify({ ok: false, db: path, error: (e as Error).message }));
    return 2;
  } finally {
    sqlite.close();
  }
}

const time = (c: CommandContext, name: string) => {
  const v = c.values[name] as string | undefined;
  if (v !== undefined && Number.isNaN(Date.parse(v))) throw new UsageError(`--${name} must be an ISO 8601 time`);
  return v;
};

export const auditCommands: Command[] = [
  {
    name: 'audit verify', summary: 'Verify the audit hash chain and signed checkpoints',
    usage: `gmemd audit verify [--db PATH]

  --db PATH   verify this ledger file directly, without a running service (read-only;
              with GMEMD_AUDIT_KEY set, checkpoint MACs are verified too). Without --db,
              the file named by GMEMD_DB when neither --url nor GMEMD_URL is given;
              otherwise the service verifies its ledger.

Prints a JSON report. Exit 0: the chain is intact; 1: it is broken (the report names the
first bad seq); 2: usage error, unreachable service or unreadable database.`,
    options: { db: { type: 'string' } },
    async run(c) {
      if (c.values.db !== undefined) return verifyFile(c, need(c, 'db'));
      if (c.env.GMEMD_DB && c.values.url === undefined && !c.env.GMEMD_URL) return verifyFile(c, c.env.GMEMD_DB);
      const report = unwrap(await c.api.GET('/v1/audit/verify'));
      c.io.out(JSON.stringify(report, null, 2));
      return report.ok ? 0 : 1;
    },
  },
  {
    name: 'audit export', summary: 'Stream audit events as NDJSON, one event per line, in seq order',
    usage: `gmemd audit export [--from-seq N] [--to-seq N] [--since TIME] [--until TIME]

  --from-seq N   first seq (inclusive)
  --to-seq N     last seq (inclusive)
  --since TIME   events at or after this ISO 8601 time
  --until TIME   events before this time`,
    options: { 'from-seq': { type: 'string' }, 'to-seq': { type: 'string' }, since: { type: 'string' }, until: { type: 'string' } },
    async run(c) {
      const query = { fromSeq: intOption(c, 'from-seq'), toSeq: intOption(c, 'to-seq'), since: time(c, 'since'), until: time(c, 'until') };
      const r = await c.api.GET('/v1/audit/export', { params: { query }, parseAs: 'stream' });
      if (!r.response.ok) unwrap({ error: await r.response.json().catch(() => null), response: r.response });
      const write = c.io.write ?? ((s: string) => c.io.out(s.replace(/\n$/, '')));
      const decoder = new TextDecoder();
      for await (const chunk of r.response.body as unknown as AsyncIterable<Uint8Array>) write(decoder.decode(chunk, { stream: true }));
      return 0;
    },
  },
  {
    name: 'audit access', summary: 'Which VMs held which role and permissions on an inode at an instant',
    usage: `gmemd audit access --inode INODE [--at TIME | --at-seq N]

  --inode INODE  the inode
  --at TIME      the instant (ISO 8601; default now)
  --at-seq N     the state right after audit event N`,
    options: { inode: { type: 'string' }, at: { type: 'string' }, 'at-seq': { type: 'string' } },
    async run(c) {
      const inodeId = need(c, 'inode');
      const atSeq = intOption(c, 'at-seq');
      let at = time(c, 'at');
      if (at !== undefined && atSeq !== undefined) throw new UsageError('give --at or --at-seq, not both');
      if (at === undefined && atSeq === undefined) at = new Date().toISOString();
      const items: Schemas['AccessHolder'][] = [];
      let cursor: string | undefined;
      do {
        const page = unwrap(await c.api.GET('/v1/audit/access', { params: { query: { inodeId, at, atSeq, ...(cursor ? { cursor } : {}) } } }));
        items.push(...page.items);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      show(c, { inodeId, at: at ?? null, atSeq: atSeq ?? null, items }, () => table(items, [
        ['VM', (h) => h.vmId], ['FILE', (h) => h.fileId], ['ROLE', (h) => h.role], ['PERMISSIONS', (h) => h.permissions],
        ['FROM', (h) => `${h.from.time} (#${h.from.seq})`], ['TO', (h) => (h.to ? `${h.to.time} (#${h.to.seq})` : 'now')],
      ]));
      return 0;
    },
  },
];
