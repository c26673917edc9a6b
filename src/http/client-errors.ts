// What Node's HTTP server refuses before Fastify has a request: a request not received within
// GMEMD_HEADERS_TIMEOUT_MS / GMEMD_REQUEST_TIMEOUT_MS (slowloris), headers past the parser's
// limit, bytes that are not HTTP/1.1. Answered as every other error is, problem+json with a
// stable code (Fastify's default handler wrote a JSON body of its own shape), then the
// connection is closed: the parser cannot resume on it.
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import type { FastifyBaseLogger } from 'fastify';
import type { DomainError } from '../domain/result.js';
import { statusFor } from './error-registry.js';
import { problemOf } from './problem.js';

// Through require, not an ESM import: on Node 26 an ESM import of node:http builds the whole
// module namespace, and its lazy getters (WebSocket and others) load undici, 830 KB of source
// and 3.3 MB of heap that gmemd never uses (measured with process.moduleLoadList).
const { STATUS_CODES } = createRequire(import.meta.url)('node:http') as typeof import('node:http');

export function clientProblem(e: NodeJS.ErrnoException): DomainError {
  switch (e.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { code: 'request.timeout', message: 'the request was not received in time; the connection is closed' };
    case 'HPE_HEADER_OVERFLOW':
      return { code: 'request.headers_too_large', message: 'the request headers exceed the server limit; the connection is closed' };
    default:
      return { code: 'request.invalid', message: `the request is not valid HTTP/1.1 (${e.code ?? 'parse error'}); the connection is closed` };
  }
}

/** Fastify's `clientErrorHandler`: `this` is the instance, for its logger. */
export function clientErrorHandler(this: { log: FastifyBaseLogger }, e: NodeJS.ErrnoException, socket: Socket): void {
  // A reset connection has no one to answer.
  if (e.code === 'ECONNRESET' || socket.destroyed) return;
  const problem = clientProblem(e);
  const status = statusFor(problem.code);
  const body = JSON.stringify(problemOf(problem, status));
  this.log.debug({ err: e, code: problem.code }, 'client error');
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/problem+json\r\n`
      + `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy(e);
}
