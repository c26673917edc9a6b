// What every command gets: the parsed arguments, the typed client, the output channel, and
// the exit-code contract (0 ok, 1 a finding or a refusal, 2 usage or connection error).
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { createGmemdClient, type GmemdClient } from './client.js';

export const EXIT = { ok: 0, finding: 1, usage: 2 } as const;

export interface Io {
  /** A line to stdout. */
  out: (s: string) => void;
  /** A line to stderr. */
  err: (s: string) => void;
  /** Raw bytes to stdout (NDJSON export); defaults to out() per chunk. */
  write?: (s: string) => void;
}

/** A usage error: the message and the command's usage go to stderr, exit 2. */
export class UsageError extends Error {}
/** The server answered with a problem: printed, exit 1. */
export class Refusal extends Error { constructor(readonly problem: unknown, readonly status: number) { super(`gmemd refused (${status})`); } }

export type Options = NonNullable<ParseArgsConfig['options']>;
export const GLOBAL_OPTIONS: Options = {
  url: { type: 'string' }, token: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
};
export const GLOBAL_HELP = `  --url URL      gmemd's address (default: $GMEMD_URL, else http://127.0.0.1:7420)
  --token TOKEN  bearer token (default: $GMEMD_TOKEN)
  --json         print JSON instead of text
  -h, --help     this help`;

export interface Command {
  /** e.g. "vms list" */
  name: string;
  summary: string;
  usage: string;
  options?: Options;
  /** Positional arguments allowed (default 0). */
  positionals?: number;
  run(c: CommandContext): Promise<number>;
}

export interface CommandContext {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  env: NodeJS.ProcessEnv;
  io: Io;
  json: boolean;
  url: string;
  api: GmemdClient;
}

export function parse(cmd: Command, argv: string[], env: NodeJS.ProcessEnv, io: Io): CommandContext {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...GLOBAL_OPTIONS, ...cmd.options }, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const max = cmd.positionals ?? 0;
  if (!values.help && parsed.positionals.length > max) throw new UsageError(`unexpected argument: ${parsed.positionals[max]}`);
  const url = (values.url as string | undefined) ?? (env.GMEMD_URL || 'http://127.0.0.1:7420');
  if (!/^https?:\/\//.test(url)) throw new UsageError(`--url must be an http:// or https:// URL, not ${url}`);
  const token = (values.token as string | undefined) ?? (env.GMEMD_TOKEN || undefined);
  return { values, positionals: parsed.positionals, env, io, json: values.json === true, url, api: createGmemdClient({ url, token }) };
}

/** The data of a successful response, or a Refusal carrying the problem the server sent. */
export function unwrap<T>(r: { data?: T; error?: unknown; response: Response }): T {
  if (r.error !== undefined || !r.response.ok) throw new Refusal(r.error, r.response.status);
  return r.data as T;
}

/** A required string option. */
export function need(c: CommandContext, name: string): string {
  const v = c.values[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${name} is required`);
  return v;
}

/** An optional non-negative integer option. */
export function intOption(c: CommandContext, name: string): number | undefined {
  const v = c.values[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !/^\d{1,15}$/.test(v)) throw new UsageError(`--${name} must be a non-negative integer`);
  return Number(v);
}
