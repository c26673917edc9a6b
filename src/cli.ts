// The gmemd command line, for operators and auditors. Every command but `serve` and
// `audit verify --db` talks to a running gmemd through the typed client (src/cli/client.ts);
// commands live in src/cli/commands. Exit codes: 0 ok; 1 a finding (broken chain, drift,
// not ready) or a refusal (the service answered with a problem, printed to stderr); 2 a
// usage error or a service that cannot be reached.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { EXIT, GLOBAL_HELP, parse, Refusal, UsageError, type Command, type Io } from './cli/context.js';
import { listCommands } from './cli/commands/lists.js';
import { auditCommands } from './cli/commands/audit.js';
import { opsCommands } from './cli/commands/ops.js';
import { tokenCommands } from './cli/commands/tokens.js';

export type { Io };

export const COMMANDS: Command[] = [...opsCommands, ...listCommands, ...auditCommands, ...tokenCommands];

export const USAGE = `usage: gmemd <command> [options]

${COMMANDS.map((c) => `  ${c.name.padEnd(16)}${c.summary}`).join('\n')}

Options for every command:
${GLOBAL_HELP}

gmemd <command> --help describes one command. Exit codes: 0 ok; 1 a finding (broken audit
chain, drift, not ready) or a refusal by the service (its problem+json on stderr); 2 a usage
error or a service that cannot be reached.`;

function find(argv: string[]): { cmd: Command; rest: string[] } | undefined {
  for (const words of [2, 1]) {
    const cmd = COMMANDS.find((c) => c.name === argv.slice(0, words).join(' '));
    if (cmd) return { cmd, rest: argv.slice(words) };
  }
  return undefined;
}

export async function main(argv: string[], env: NodeJS.ProcessEnv, io: Io): Promise<number> {
  if (argv.length === 0) { io.err(USAGE); return EXIT.usage; }
  if (['--help', '-h', 'help'].includes(argv[0]!)) { io.out(USAGE); return EXIT.ok; }
  const found = find(argv);
  if (!found) {
    const group = COMMANDS.filter((c) => c.name.startsWith(`${argv[0]} `));
    io.err(group.length ? `usage: one of\n${group.map((c) => `  gmemd ${c.name}`).join('\n')}` : `unknown command: ${argv[0]}\n\n${USAGE}`);
    return group.length && (argv[1] === '--help' || argv[1] === '-h') ? EXIT.ok : EXIT.usage;
  }
  const { cmd, rest } = found;
  const help = `usage: ${cmd.usage}\n\n${cmd.summary}.\n\nOptions for every command:\n${GLOBAL_HELP}`;
  try {
    const c = parse(cmd, rest, env, io);
    if (c.values.help) { io.out(help); return EXIT.ok; }
    return await cmd.run(c);
  } catch (e) {
    if (e instanceof UsageError) { io.err(`gmemd ${cmd.name}: ${e.message}\n\n${help}`); return EXIT.usage; }
    if (e instanceof Refusal) {
      io.err(e.problem ? JSON.stringify(e.problem, null, 2) : `gmemd answered ${e.status} with no problem details`);
      return EXIT.finding;
    }
    // fetch rejects with a TypeError when nothing answers (ECONNREFUSED, DNS, TLS).
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    io.err(`gmemd ${cmd.name}: cannot reach gmemd: ${cause?.code ?? ''} ${cause?.message ?? (e as Error).message}`.trim());
    return EXIT.usage;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = await main(process.argv.slice(2), process.env, {
    out: (s) => process.stdout.write(s + '\n'),
    err: (s) => process.stderr.write(s + '\n'),
    write: (s) => process.stdout.write(s),
  });
}
