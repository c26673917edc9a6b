// npm run build, after tsc: dist/server.js becomes one esbuild bundle of the server and the
// pure-JS packages it imports. Loading the ~520 separate modules of tsc's output (module
// resolution, a file read and a compile each) was 430-600 ms of every start, more than half
// of it; the bundle's module phase is 150-270 ms (npm run bench:scale prints the phases).
//
// Kept outside the bundle, loaded from node_modules as before: better-sqlite3 and koffi,
// native addons found through their own package directories. The /docs page's files are
// read from @fastify/swagger-ui's directory, which http/docs.ts names.
// Worker threads (audit verify and export) still start tsc's files beside the bundle in dist/:
// every `import.meta.url` in a source file is rewritten to the URL that file has in tsc's
// layout (dist/<same path>.js), so sibling workers and ../../migrations resolve exactly as
// they do unbundled. test/scripts/bundle-server.test.ts starts the bundle and uses each.
// Characters past U+007F in the bundle's comments are made ASCII (ascii-comments.ts).
import { build, type Plugin } from 'esbuild';
import { readFile, writeFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { asciiComments } from './ascii-comments.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SRC = `${ROOT}src/`;
export const BUNDLE_EXTERNAL = ['better-sqlite3', 'koffi'];

const keepModuleUrls: Plugin = {
  name: 'gmemd-module-urls',
  setup(b) {
    b.onLoad({ filter: /\/src\/.*\.ts$/ }, async ({ path }) => {
      const code = await readFile(path, 'utf8');
      if (!code.includes('import.meta.url')) return { contents: code, loader: 'ts' };
      const asInDist = `./${relative(SRC, path).replace(/\.ts$/, '.js')}`;
      return { contents: code.replaceAll('import.meta.url', `new URL(${JSON.stringify(asInDist)}, import.meta.url).href`), loader: 'ts' };
    });
  },
};

/** Writes dist/server.js (and its source map); run by npm run build after tsc. */
export async function bundleServer(): Promise<void> {
  const outfile = `${ROOT}dist/server.js`;
  await build({
    entryPoints: [`${SRC}server.ts`],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: true,
    external: BUNDLE_EXTERNAL,
    plugins: [keepModuleUrls],
    logLevel: 'warning',
    // The CommonJS packages inside call require() for node: builtins; ESM has none of its own.
    banner: { js: "import { createRequire as gmemdCreateRequire } from 'node:module'; const require = gmemdCreateRequire(import.meta.url);" },
  });
  // One byte a character in V8's heap, not two (ascii-comments.ts).
  await writeFile(outfile, asciiComments(await readFile(outfile, 'utf8')));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await bundleServer();
