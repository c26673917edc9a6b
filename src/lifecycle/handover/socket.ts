// The listening socket, shaped so a handover loses no connection. The successor inherits
// the very socket the old process listens on and accepts from it; the old one then closes
// its copy, and connections queued meanwhile are the successor's to accept. For a Unix
// socket, libuv unlinks the path it bound when the server closes: so gmemd binds a
// temporary path and renames it over the configured one, leaving libuv a path that no longer
// exists to unlink, and the configured path with the socket for as long as anyone listens.
// The socket gets its mode (GMEMD_SOCKET_MODE, default 0660: owner and group may connect)
// before the rename, so the configured path never has any other.
import { chmodSync, renameSync, unlinkSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Listen } from '../../config.js';

/** What of a Fastify instance this needs (the lifecycle layer does not import the HTTP layer). */
export interface Listener {
  server: Server;
  listen(opts: { host?: string; port?: number; path?: string; fd?: number }): Promise<string>;
}

export async function listenOn(app: Listener, listen: Listen, inheritedFd: number | null, socketMode = 0o660): Promise<void> {
  if (listen.kind === 'unix') {
    // Node reports no address for a Unix socket it did not bind (or bound under another
    // name); fastify reads it to log. The configured path is the truth either way.
    app.server.address = () => listen.path;
  }
  if (inheritedFd !== null) {
    // net.Server.listen({fd}) takes the fd before any path or port; fastify needs one of them
    // to decide it is not "localhost" (which it would bind twice, v4 and v6).
    const where = listen.kind === 'unix' ? { path: listen.path } : { host: listen.host, port: listen.port };
    await app.listen({ fd: inheritedFd, ...where } as unknown as { path: string });
    if (listen.kind === 'unix') chmodSync(listen.path, socketMode);
    return;
  }
  if (listen.kind === 'tcp') {
    await app.listen({ host: listen.host, port: listen.port });
    return;
  }
  const tmp = `${listen.path}.${process.pid}.tmp`;
  try { unlinkSync(tmp); } catch { /* none left over */ }
  await app.listen({ path: tmp });
  chmodSync(tmp, socketMode);
  renameSync(tmp, listen.path);
}

/** The fd of the listening socket (a libuv internal, stable on Unix for TCP and pipe servers). */
export function listeningFd(app: Listener): number | null {
  const fd = (app.server as unknown as { _handle?: { fd?: number } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : null;
}
