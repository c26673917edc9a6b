// The node flags of `npm start` (package.json scripts.start, e.g. V8's heap sizing), so the
// benches run gmemd as the service runs, not as a bare `node` would: the scale bench spawns
// exactly that command, the HTTP benches give gmemd's server child the same flags. The
// baselines (bare Fastify, bare node) run with node's defaults, as their users would.
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: { start: string } };
const [node, ...rest] = pkg.scripts.start.trim().split(/\s+/);
if (node !== 'node' || rest.length === 0 || rest.slice(0, -1).some((a) => !a.startsWith('--'))) {
  throw new Error(`package.json scripts.start is not "node [--flags] <entry>": ${pkg.scripts.start}`);
}

/** The flags between `node` and the entry. */
export const START_NODE_FLAGS: readonly string[] = rest.slice(0, -1);
/** The entry `npm start` runs, relative to the repository. */
export const START_ENTRY: string = rest.at(-1)!;
