// `npm start`'s entry: turns on Node's compile cache (lifecycle/compile-cache.ts), then loads
// the server (dist/server.js, one esbuild bundle of about 3 MB). A start with the cache reads
// V8's code for the bundle from disk: on Node 26 the module phase was 95-150 ms with it, where
// it was 164-233 ms without (npm run bench:scale prints the phases; the first start after a
// build compiles and writes the cache). On Node 20, which has no compile cache, this only
// loads the server.
//
// The cache lives in dist/.compile-cache, beside the code it caches and owned by whoever
// installed it: never in a directory other users can write (a shared /tmp), since what is
// in it is code gmemd runs. `npm run build` empties dist/, and with it the cache.
import { fileURLToPath } from 'node:url';
import { enableCompileCache } from './lifecycle/compile-cache.js';

enableCompileCache(fileURLToPath(new URL('./.compile-cache', import.meta.url)));
await import('./server.js');
