import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { LogController, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { answerOf, mapError } from './error-mapping.js';
import { noteRefusal } from './request-log.js';

/**
 * Options for the fastify factory that only the registry knows how to set: every failure fastify
 * or Node answer before a route runs (a malformed `%` in the path, an unknown method, a broken
 * request line or headers) is answered in the OCI error envelope, and fastify's own two log lines
 * per request are off (request-log.ts writes one).
 */
export function registryServerOptions(): Pick<FastifyServerOptions, 'logController' | 'frameworkErrors' | 'clientErrorHandler'> {
  return {
    logController: new LogController({ disableRequestLogging: true }),
    frameworkErrors: (error: Error, request: FastifyRequest, reply: FastifyReply) => {
      const mapped = mapError(error);
      noteRefusal(request, mapped.body.errors[0]?.code, error.message);
      void reply.code(mapped.status).headers(mapped.headers).type('application/json').send(mapped.body);
    },
    clientErrorHandler: answerClientError,
  };
}

/**
 * Node's HTTP parser refused the request (unknown method, malformed request line or headers,
 * headers too large): answer on the raw socket, since no request object exists.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  // Node's headersTimeout: the request line and headers did not all arrive in time.
  const mapped =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? answerOf({ kind: 'HEADERS_TOO_LARGE', message: 'the request headers are too large' })
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? answerOf({ kind: 'REQUEST_TIMEOUT', message: 'the request headers did not arrive in time; the connection is closed' })
        : answerOf({ kind: 'BAD_REQUEST', message: `the request could not be parsed: ${error.code ?? error.message}` });
  const body = JSON.stringify(mapped.body);
  const headers = Object.entries({ ...mapped.headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), connection: 'close' })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  socket.end(`HTTP/1.1 ${mapped.status} ${STATUS_CODES[mapped.status] ?? ''}\r\n${headers}\r\n${body}`);
}
