// Node's on-disk compile cache (node:module; enableCompileCache since Node 22.1,
// flushCompileCache since 22.10): V8's compiled code of a module is written to a directory
// and read back by the next start instead of compiling the source again. Node 20 has none of
// it, and @types/node 20 declares none of it, hence the narrow interface here.
import nodeModule from 'node:module';

interface CompileCacheApi {
  enableCompileCache?(directory?: string): { status: number; message?: string; directory?: string };
  flushCompileCache?(): void;
  getCompileCacheDir?(): string | undefined;
}
const api = nodeModule as unknown as CompileCacheApi;

/** Turns the cache on for modules loaded from now on, in `directory` unless NODE_COMPILE_CACHE
 *  names one (Node then turned it on at boot; NODE_DISABLE_COMPILE_CACHE=1 keeps it off).
 *  Never throws: a cache that cannot be used (an unwritable directory) only costs the compile. */
export function enableCompileCache(directory: string): void {
  api.enableCompileCache?.(process.env.NODE_COMPILE_CACHE || directory);
}

/** Where this process reads and writes compiled code, or null when it does not. */
export const compileCacheDir = (): string | null => api.getCompileCacheDir?.() ?? null;

/** Writes what was compiled so far now, not at exit: a process killed later (a crash, the
 *  very case where the next start must be quick) writes nothing at exit. */
export const flushCompileCache = (): void => api.flushCompileCache?.();
