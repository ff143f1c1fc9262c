import type { FastifyInstance, FastifyRequest } from 'fastify';
import { mapError } from './error-mapping.js';
import { RegistryError } from './registry-error.js';
import { noteRefusal } from './request-log.js';

/** Default for `server.bodyIdleTimeoutMs`. */
export const DEFAULT_BODY_IDLE_TIMEOUT_MS = 60_000;

/**
 * No request waits forever on its own body: while a request body is being received, the
 * connection (or HTTP/2 stream) has an inactivity timeout; a body that stalls that long is
 * answered 408 with `Connection: close` and the connection is then closed, so the handler
 * reading it fails and discards what it staged. The timeout is armed only until the body has
 * arrived: answering may take as long as a build (a first pull holds its request open), so
 * the response side is never timed. After an answer sent before its body arrived (a refusal),
 * the rest of the body is drained under the same inactivity timeout.
 */
export function registerBodyTimeout(app: FastifyInstance, idleMs: number): void {
  app.addHook('onRequest', async (request, reply) => {
    const raw = request.raw;
    // Injected requests (fastify.inject) have no connection to time.
    if (!hasBody(request) || typeof raw.setTimeout !== 'function') return;
    const disarm = (): void => {
      // A request destroyed meanwhile (its handler's pipeline failed) has no socket left to time:
      // IncomingMessage.setTimeout would throw in this listener and take the process down.
      if (raw.socket) raw.setTimeout(0);
    };
    raw.once('end', disarm);
    // An answer sent before the body arrived (a refusal, an unknown upload) leaves the body to
    // be drained: it is still timed, else a client that stops sending holds the connection forever.
    reply.raw.once('close', () => {
      disarm();
      if (!raw.complete && !raw.destroyed) cutWhenDrainStalls(request, idleMs);
    });
    raw.setTimeout(idleMs, () => {
      disarm();
      if (raw.complete) return;
      const error = new RegistryError('REQUEST_TIMEOUT', `no byte of the request body arrived for ${idleMs} ms; the request is cut`);
      noteRefusal(request, 'UNSUPPORTED', error.message);
      const close = (): void => {
        raw.socket?.destroy();
      };
      if (reply.sent || reply.raw.headersSent) {
        close();
        return;
      }
      const mapped = mapError(error);
      reply.raw.once('finish', close);
      void reply.code(mapped.status).headers({ ...mapped.headers, connection: 'close' }).type('application/json').send(mapped.body);
    });
  });
}

/**
 * After the answer, Node owns the socket's timeout (keep-alive), so the rest of the body is
 * watched with a timer of its own: reset by every chunk drained, it closes the connection
 * when none arrives for `idleMs`.
 */
function cutWhenDrainStalls(request: FastifyRequest, idleMs: number): void {
  const raw = request.raw;
  const timer = setTimeout(() => {
    request.log.info({ url: request.url, idleMs }, 'the rest of a refused request body stalled; the connection is cut');
    raw.socket?.destroy();
  }, idleMs);
  timer.unref();
  const stop = (): void => clearTimeout(timer);
  raw.on('data', () => timer.refresh());
  raw.once('end', stop);
  raw.once('close', stop);
  raw.socket?.once('close', stop);
}

function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  if (length !== undefined) return length !== '0';
  return request.headers['transfer-encoding'] !== undefined || request.raw.httpVersionMajor === 2;
}
