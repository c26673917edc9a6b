// The typed gmemd client: openapi-fetch over the types openapi-typescript generates from the
// committed contract (openapi/client/schema.d.ts, `npm run client`). The CLI and the
// end-to-end test talk to gmemd only through it; a dashboard can import it the same way.
// Only a type is imported from openapi/: nothing of it is needed at run time.
import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from '../../openapi/client/schema.js';

export type { components, paths };
export type Schemas = components['schemas'];
export type GmemdClient = ReturnType<typeof createClient<paths>>;

export interface ClientOptions {
  /** Base URL, e.g. http://127.0.0.1:7420 */
  url: string;
  /** Bearer token, sent as Authorization on every request. */
  token?: string;
  fetch?: typeof globalThis.fetch;
}

export function createGmemdClient(opts: ClientOptions): GmemdClient {
  const client = createClient<paths>({ baseUrl: opts.url.replace(/\/+$/, ''), ...(opts.fetch ? { fetch: opts.fetch } : {}) });
  if (opts.token) {
    const auth: Middleware = { onRequest: ({ request }) => { request.headers.set('authorization', `Bearer ${opts.token}`); return request; } };
    client.use(auth);
  }
  return client;
}
