import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import type { FastifyInstance } from 'fastify';

/**
 * A client's or proxy's `X-Request-Id` is kept only when it is a plain token of bounded length:
 * it ends up in every log line of the request and in the response, so nothing that could forge
 * log fields or bloat them is taken.
 */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:@+=/-]{1,128}$/;

/** Fastify's `genReqId`: the incoming `X-Request-Id` when sane, else a fresh UUID. */
export function requestIdOf(request: IncomingMessage | Http2ServerRequest): string {
  const incoming = request.headers['x-request-id'];
  return typeof incoming === 'string' && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/** Echo the request id on every response, so a client can quote it when reporting a problem. */
export function registerRequestIdEcho(server: FastifyInstance): void {
  server.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
}
