// gmemd vms|inodes|files|bindings list: one page (--limit, --cursor) or every page (--all).
import { intOption, unwrap, UsageError, type Command, type CommandContext } from '../context.js';
import { show, table, type Columns } from '../output.js';
import type { Schemas } from '../client.js';

interface Page<T> { items: T[]; nextCursor: string | null }
const PAGE_OPTIONS = { limit: { type: 'string' }, cursor: { type: 'string' }, all: { type: 'boolean' }, state: { type: 'string' } } as const;
const PAGE_HELP = `  --state STATE  only objects in this state
  --limit N      items per page (1-1000, default 100)
  --cursor C     the page after this cursor (printed as next: …)
  --all          every page`;

async function listPages<T>(c: CommandContext, fetchPage: (q: { limit?: number; cursor?: string }) => Promise<Page<T>>, columns: Columns<T>): Promise<number> {
  const limit = intOption(c, 'limit');
  let cursor = c.values.cursor as string | undefined;
  const items: T[] = [];
  let next: string | null;
  do {
    const page = await fetchPage({ ...(limit !== undefined ? { limit } : {}), ...(cursor ? { cursor } : {}) });
    items.push(...page.items);
    next = page.nextCursor;
    cursor = next ?? undefined;
  } while (c.values.all && next);
  show(c, { items, nextCursor: next }, () => table(items, columns) + (next ? `\nnext: ${next}` : ''));
  return 0;
}

function oneOf<T extends string>(c: CommandContext, name: string, allowed: readonly T[]): T | undefined {
  const v = c.values[name] as string | undefined;
  if (v === undefined) return undefined;
  if (!allowed.includes(v as T)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}`);
  return v as T;
}
const str = (c: CommandContext, name: string) => (c.values[name] as string | undefined) || undefined;

export const listCommands: Command[] = [
  {
    name: 'vms list', summary: 'List VMs', usage: `gmemd vms list [--state active|destroyed|lost] [--limit N] [--cursor C] [--all]\n\n${PAGE_HELP}`,
    options: PAGE_OPTIONS,
    run: (c) => listPages<Schemas['Vm']>(c, async (q) => unwrap(await c.api.GET('/v1/vms', { params: { query: { ...q, state: oneOf(c, 'state', ['active', 'destroyed', 'lost'] as const) } } })),
      [['ID', (v) => v.id], ['NAME', (v) => v.name], ['STATE', (v) => v.state], ['CREATED', (v) => v.createdAt]]),
  },
  {
    name: 'inodes list', summary: 'List inodes (guest memory)', usage: `gmemd inodes list [--owner VM] [--state live|released|lost] [--limit N] [--cursor C] [--all]\n\n  --owner VM     only inodes this VM owns\n${PAGE_HELP}`,
    options: { ...PAGE_OPTIONS, owner: { type: 'string' } },
    run: (c) => listPages<Schemas['Inode']>(c, async (q) => unwrap(await c.api.GET('/v1/inodes', { params: { query: { ...q, ownerVmId: str(c, 'owner'), state: oneOf(c, 'state', ['live', 'released', 'lost'] as const) } } })),
      [['ID', (i) => i.id], ['SIZE', (i) => i.size], ['SHAREABLE', (i) => i.shareable], ['OWNER', (i) => i.ownerVmId], ['STATE', (i) => i.state]]),
  },
  {
    name: 'files list', summary: 'List files (VMs\' views of inodes)', usage: `gmemd files list [--vm VM] [--inode INODE] [--state open|pending|closed|lost] [--limit N] [--cursor C] [--all]\n\n  --vm VM        only this VM's files\n  --inode INODE  only views of this inode\n${PAGE_HELP}`,
    options: { ...PAGE_OPTIONS, vm: { type: 'string' }, inode: { type: 'string' } },
    run: (c) => listPages<Schemas['File']>(c, async (q) => unwrap(await c.api.GET('/v1/files', { params: { query: { ...q, vmId: str(c, 'vm'), inodeId: str(c, 'inode'), state: oneOf(c, 'state', ['open', 'pending', 'closed', 'lost'] as const) } } })),
      [['ID', (f) => f.id], ['VM', (f) => f.vmId], ['INODE', (f) => f.inodeId], ['ROLE', (f) => f.role], ['PERMISSIONS', (f) => f.permissions], ['STATE', (f) => f.state]]),
  },
  {
    name: 'bindings list', summary: 'List bindings (memslots)', usage: `gmemd bindings list [--vm VM] [--file FILE] [--inode INODE] [--state active|deleted|lost] [--limit N] [--cursor C] [--all]\n\n  --vm VM        only this VM's memslots\n  --file FILE    only this file's\n  --inode INODE  only this inode's\n${PAGE_HELP}`,
    options: { ...PAGE_OPTIONS, vm: { type: 'string' }, file: { type: 'string' }, inode: { type: 'string' } },
    run: (c) => listPages<Schemas['Binding']>(c, async (q) => unwrap(await c.api.GET('/v1/bindings', { params: { query: { ...q, vmId: str(c, 'vm'), fileId: str(c, 'file'), inodeId: str(c, 'inode'), state: oneOf(c, 'state', ['active', 'deleted', 'lost'] as const) } } })),
      [['ID', (b) => b.id], ['VM', (b) => b.vmId], ['SLOT', (b) => b.slot], ['KIND', (b) => b.kind], ['GPA', (b) => `0x${b.gpa.toString(16)}`], ['SIZE', (b) => b.size], ['RO', (b) => b.readonly], ['STATE', (b) => b.state]]),
  },
];
