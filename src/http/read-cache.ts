// Serialized answers of list and detail reads, kept while the ledger is unchanged. A page of 100 rows
// costs about ten times a small GET (a thousand values read out of SQLite, a hundred objects
// mapped, 20 KB written), and dashboards poll the same pages far more often than the ledger
// changes. An entry is served only while Store#dataVersion is what it was when the entry was
// built, so any write — by this process, through any code path, or by another connection —
// makes every entry stale at once: a read answers what a fresh query at its arrival would.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ok, type Result } from '../domain/result.js';
import { respond } from './problem.js';
import type { Store } from '../store/store.js';

const MAX_ENTRIES = 256;

export class ReadCache {
  private version = '';
  private readonly entries = new Map<string, string>();
  readonly stats = { hits: 0, misses: 0 };

  constructor(private readonly store: Store) {}

  /** The cached body for `key`, or `build()`'s, cached for the current ledger version
   *  (undefined: nothing to cache, e.g. a refusal the caller answers itself). */
  get(key: string, build: () => string | undefined, v: string = this.store.dataVersion()): string | undefined {
    if (v !== this.version) {
      // A request that arrived before the newest write is answered fresh and kept nowhere, so
      // it does not throw away entries built for the current ledger.
      if (this.store.dataVersion() !== v) return build();
      this.entries.clear();
      this.version = v;
    }
    let body = this.entries.get(key);
    if (body !== undefined) { this.stats.hits += 1; return body; }
    this.stats.misses += 1;
    body = build();
    if (body === undefined) return undefined;
    // The version is read again: a build never writes, but if it did, its answer is not kept.
    if (this.store.dataVersion() === v) {
      if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(key, body);
    }
    return body;
  }
}

const caches = new WeakMap<Store, ReadCache>();
/** The read cache of a ledger: one per store, shared by every app over it. */
export function readCacheOf(store: Store): ReadCache {
  let c = caches.get(store);
  if (!c) caches.set(store, c = new ReadCache(store));
  return c;
}

/**
 * Answers a read from the cache, or computes it: a value is serialized by the route's own
 * response serializer and kept; a refusal (404) is sent as its problem and never kept.
 */
export function sendCached<T, W>(store: Store, req: FastifyRequest, reply: FastifyReply, compute: () => Result<T>, wire: (v: T) => W): FastifyReply {
  let refused: Result<T> | undefined;
  // As of the version the request was authenticated at: a write that commits while this
  // request is in flight may or may not be seen, as with any concurrent read; one whose
  // reply the client had before sending this request always is.
  const body = readCacheOf(store).get(req.url, () => {
    const r = compute();
    if (!r.ok) { refused = r; return undefined; }
    return reply.serialize(wire(r.value)) as string;
  }, req.ledgerVersion ?? undefined);
  if (body === undefined) return respond(req, reply, refused!, wire);
  return reply.type('application/json; charset=utf-8').send(body);
}

/** A list page (which cannot be refused) through sendCached. */
export const sendCachedPage = <W>(store: Store, req: FastifyRequest, reply: FastifyReply, page: () => W): FastifyReply =>
  sendCached(store, req, reply, () => ok(page()), (w) => w);
