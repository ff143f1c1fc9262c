import { constants as http2Constants, type ServerHttp2Stream } from 'node:http2';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { mapError } from './error-mapping.js';
import { RegistryError } from './registry-error.js';
import { noteRefusal } from './request-log.js';

/** Default for `server.bodyIdleTimeoutMs`. */
export const DEFAULT_BODY_IDLE_TIMEOUT_MS = 60_000;

/**
 * No request waits forever on its own body: while a request body is being received, the
 * connection (or HTTP/2 stream) has an inactivity timeout; a body that stalls that long is
 * answered 408 and the exchange is then cut, so the handler reading it fails and discards what
 * it staged. The timeout is armed only until the body has arrived: answering may take as long
 * as a build (a first pull holds its request open), so the response side is never timed.
 * After an answer sent before its body arrived (a refusal), the rest of the body is drained
 * under the same inactivity timeout on HTTP/1.1; on HTTP/2 the stream is ended at once.
 */
/** Requests this hook answered 408 and cut: their handler's failure is the cut, expected. */
const cutRequests = new WeakSet<FastifyRequest>();

/** Whether the request's body stalled and the exchange was cut (its handler then fails). */
export function wasCutForStalledBody(request: FastifyRequest): boolean {
  return cutRequests.has(request);
}

export function registerBodyTimeout(app: FastifyInstance, idleMs: number): void {
  app.addHook('onRequest', async (request, reply) => {
    const raw = request.raw;
    // Injected requests (fastify.inject) have no connection to time.
    if (!hasBody(request) || typeof raw.setTimeout !== 'function') return;
    const cut = exchangeCut(request, reply);
    const disarm = (): void => {
      // A request destroyed meanwhile (its handler's pipeline failed) has no socket left to time:
      // IncomingMessage.setTimeout would throw in this listener and take the process down.
      if (raw.socket) raw.setTimeout(0);
    };
    raw.once('end', disarm);
    // An answer sent before the body arrived (a refusal, an unknown upload) leaves the body
    // unread: it is still cut, else a client that stops sending holds the connection forever.
    cut.onAnswered(() => {
      disarm();
      if (!raw.complete && !raw.destroyed) cut.afterEarlyAnswer(idleMs);
    });
    raw.setTimeout(idleMs, () => {
      disarm();
      if (raw.complete) return;
      cutRequests.add(request);
      const error = new RegistryError('REQUEST_TIMEOUT', `no byte of the request body arrived for ${idleMs} ms; the request is cut`);
      noteRefusal(request, 'UNSUPPORTED', error.message);
      if (reply.sent || reply.raw.headersSent) {
        cut.now();
        return;
      }
      const mapped = mapError(error);
      cut.onAnswered(() => cut.now());
      void reply.code(mapped.status).headers({ ...mapped.headers, ...cut.answerHeaders }).type('application/json').send(mapped.body);
    });
  });
}

/**
 * How one exchange is ended before its body has arrived. HTTP/1.1 has no way to stop a body
 * but closing the connection, so the answer says `Connection: close`. HTTP/2 ends just the
 * stream, with RST_STREAM NO_ERROR once the answer is out (RFC 9113 §8.1: the client stops
 * sending without treating it as a failure), and the connection's other streams carry on;
 * destroying the compatibility request's socket would neither end the stream nor let the
 * answer's 'finish' fire, which on HTTP/2 waits for the stream to close.
 */
interface ExchangeCut {
  readonly answerHeaders: Readonly<Record<string, string>>;
  /** Runs once the answer has been handed to the transport. */
  onAnswered(listener: () => void): void;
  now(): void;
  afterEarlyAnswer(idleMs: number): void;
}

function exchangeCut(request: FastifyRequest, reply: FastifyReply): ExchangeCut {
  const stream = http2StreamOf(request);
  if (stream === undefined) {
    return {
      answerHeaders: { connection: 'close' },
      onAnswered: (listener) => reply.raw.once('close', listener),
      now: () => request.raw.socket?.destroy(),
      afterEarlyAnswer: (idleMs) => cutWhenDrainStalls(request, idleMs),
    };
  }
  const end = (): void => {
    if (stream.closed) return;
    // NO_ERROR only after a whole answer: a reset mid-answer must read as a failed one.
    stream.close(stream.writableFinished ? http2Constants.NGHTTP2_NO_ERROR : http2Constants.NGHTTP2_CANCEL);
  };
  return {
    answerHeaders: {},
    onAnswered: (listener) => {
      if (stream.writableFinished) listener();
      else stream.once('finish', listener);
    },
    now: end,
    afterEarlyAnswer: end,
  };
}

function http2StreamOf(request: FastifyRequest): ServerHttp2Stream | undefined {
  if (request.raw.httpVersionMajor !== 2) return undefined;
  const raw: object = request.raw;
  return 'stream' in raw ? (raw.stream as ServerHttp2Stream) : undefined;
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
