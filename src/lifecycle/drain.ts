// Closing the HTTP server without resetting anyone. Node's http.Server.close() also calls
// closeIdleConnections(), and a connection it has accepted but not yet read a request from
// counts as idle: destroying it with the client's request unread in the kernel's buffer
// makes the kernel send a reset (a client sees `read ECONNRESET`; seen on Node 26 during a
// forced handover). So this stops accepting first (the listening socket lives on in a
// successor), lets every request already read finish (answered with Connection: close),
// gives a connection that sent nothing yet a moment to send its request and get an answer,
// and only then closes what is still open. A kept-alive connection that has been answered
// and is idle is closed at once: its next request belongs to the successor, which listens.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Server as NetServer, type Socket } from 'node:net';

interface Conn { active: number; served: number; timer?: NodeJS.Timeout }

export interface DrainOptions {
  /** How long a connection that has sent no request yet may take to send one. */
  freshMs?: number;
  /** After this, whatever is still open is closed. */
  limitMs?: number;
}

export class ConnectionDrain {
  private readonly conns = new Map<Socket, Conn>();
  private closing = false;

  constructor(private readonly server: Server) {
    server.on('connection', (s: Socket) => {
      const c: Conn = { active: 0, served: 0 };
      this.conns.set(s, c);
      s.once('close', () => { clearTimeout(c.timer); this.conns.delete(s); });
      if (this.closing) this.expectRequest(s, c);
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const s = req.socket;
      const c = this.conns.get(s);
      if (!c) return;
      c.active++;
      clearTimeout(c.timer);
      if (this.closing && !res.headersSent) res.setHeader('connection', 'close');
      res.once('close', () => {
        c.active--;
        c.served++;
        // Connection: close makes Node end the socket after this answer; this is a backstop.
        if (this.closing && c.active === 0) s.end();
      });
    });
  }

  private freshMs = 1000;

  private expectRequest(s: Socket, c: Conn): void {
    c.timer = setTimeout(() => { if (c.active === 0) s.destroy(); }, this.freshMs);
  }

  /** Stops accepting and resolves once every connection is closed (or limitMs passed). */
  close(opts: DrainOptions = {}): Promise<void> {
    this.freshMs = opts.freshMs ?? 1000;
    const limitMs = opts.limitMs ?? 8000;
    if (!this.closing) {
      this.closing = true;
      // net's close, not http's: the latter destroys connections whose request is unread.
      if (this.server.listening) NetServer.prototype.close.call(this.server);
      for (const [s, c] of this.conns) {
        if (c.active > 0) continue;
        if (c.served > 0) s.destroy();
        else this.expectRequest(s, c);
      }
    }
    return new Promise((resolve) => {
      const deadline = Date.now() + limitMs;
      const poll = () => {
        if (this.conns.size === 0) return resolve();
        if (Date.now() >= deadline) {
          for (const s of this.conns.keys()) s.destroy();
          return resolve();
        }
        setTimeout(poll, 20);
      };
      poll();
    });
  }
}
