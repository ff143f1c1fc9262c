import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Socket } from 'node:net';
import type { Http2SecureServer, Http2Session } from 'node:http2';
import type { Server as TlsServer } from 'node:tls';
import Fastify, { type FastifyBaseLogger, type FastifyHttp2SecureOptions, type FastifyInstance } from 'fastify';
import { requestIdOf } from './request-id.js';
import { registryServerOptions } from './server-options.js';

/** How the listening socket is set up (the `server` config section). */
export interface HttpServerSettings {
  /** PEM files; both empty = plain HTTP. */
  readonly tlsCertFile: string;
  readonly tlsKeyFile: string;
  readonly http2: boolean;
  readonly keepAliveTimeoutMs: number;
  /** Proxies whose X-Forwarded-For is believed (addresses, CIDRs, named ranges); empty = none. */
  readonly trustProxy: readonly string[];
}

/**
 * TCP keep-alive probes on every connection: a pull waiting minutes for its build sends no
 * bytes, and NATs, proxies and client stacks drop connections that look dead.
 */
const TCP_KEEPALIVE_DELAY_MS = 30_000;

/**
 * Streams one HTTP/2 connection may have open at once. Node advertises no limit (2^32-1), and
 * every upload stream holds a staging file until its body arrives or stalls out, so one
 * connection could hold a file descriptor per stream it opens. 100 is the floor RFC 9113 asks
 * servers not to go below; clients pull a handful of layers at a time.
 */
const HTTP2_MAX_CONCURRENT_STREAMS = 100;

/**
 * The fastify instance with its server options: HTTP or HTTPS (HTTP/2 with HTTP/1.1 fallback),
 * request ids from `X-Request-Id`, no limit on how long a response may take (a first pull waits
 * for its build), TCP keep-alive, certificate reload and HTTP/2 sessions closed at shutdown.
 */
export async function createHttpServer(settings: HttpServerSettings, logger: FastifyBaseLogger): Promise<FastifyInstance> {
  const base = {
    ...registryServerOptions(),
    loggerInstance: logger,
    exposeHeadRoutes: false,
    // Package names are the whole path; allow long ones through to our own validation.
    routerOptions: { maxParamLength: 16 * 1024 },
    genReqId: requestIdOf,
    // Responses may take as long as a build; receiving a request is bounded by the socket's
    // inactivity and the upload routes themselves. Idle keep-alive connections close after
    // keepAliveTimeout, above load balancers' usual 60 s so they close first.
    requestTimeout: 0,
    connectionTimeout: 0,
    keepAliveTimeout: settings.keepAliveTimeoutMs,
    // request.ip (the failed-login limit's key, logs) comes from X-Forwarded-For only when the
    // connection is from a configured proxy, and is then the nearest hop that is not one: a
    // client cannot pick its own address by sending the header.
    trustProxy: settings.trustProxy.length > 0 ? [...settings.trustProxy] : false,
  };
  const tls = settings.tlsCertFile !== '' && settings.tlsKeyFile !== '';
  let server: FastifyInstance;
  if (!tls) server = Fastify(base);
  else {
    const https = { ...(await readKeyPair(settings)), allowHTTP1: true, settings: { maxConcurrentStreams: HTTP2_MAX_CONCURRENT_STREAMS } };
    // Every route is written against fastify's HTTP/1 types; the HTTP/2 compatibility API gives
    // handlers the same request and reply surface (headers, streams, status).
    // Node's HTTP/2 server has no `clientError` for a malformed HTTP/1 request line; its
    // HTTP/1.1 fallback answers those itself. The framework-error hook is typed for HTTP/1
    // requests only, though it reads nothing HTTP/2 lacks: hence the cast.
    const { clientErrorHandler: _http1Only, ...http2Base } = base;
    server = (settings.http2 ? Fastify({ ...http2Base, http2: true, https } as unknown as FastifyHttp2SecureOptions<Http2SecureServer>) : Fastify({ ...base, https })) as unknown as FastifyInstance;
  }
  server.server.on('connection', (socket: Socket) => socket.setKeepAlive(true, TCP_KEEPALIVE_DELAY_MS));
  if (tls) watchKeyPair(server, settings, logger);
  if (tls && settings.http2) closeSessionsOnClose(server);
  return server;
}

async function readKeyPair(settings: HttpServerSettings): Promise<{ cert: Buffer; key: Buffer }> {
  const [cert, key] = await Promise.all([readFile(resolve(settings.tlsCertFile)), readFile(resolve(settings.tlsKeyFile))]);
  return { cert, key };
}

/**
 * Reload the certificate and key when their files change (cert-manager and Kubernetes secret
 * volumes swap them in place): connections made afterwards get the new pair. The directories
 * are watched, not the files, since a secret update replaces a symlink rather than the file.
 * A pair that does not load is logged and the old one kept.
 */
function watchKeyPair(server: FastifyInstance, settings: HttpServerSettings, log: FastifyBaseLogger): void {
  const tlsServer = server.server as unknown as TlsServer;
  let timer: NodeJS.Timeout | undefined;
  const reload = (): void => {
    clearTimeout(timer);
    // Writers replace the two files one after the other: load once both have settled.
    timer = setTimeout(() => {
      readKeyPair(settings).then(
        (pair) => {
          tlsServer.setSecureContext(pair);
          log.info({ cert: settings.tlsCertFile }, 'reloaded the TLS certificate');
        },
        (error: unknown) => log.error({ reason: (error as Error).message }, 'could not reload the TLS certificate; keeping the previous one'),
      );
    }, 200);
    timer.unref();
  };
  const dirs = new Set([dirname(resolve(settings.tlsCertFile)), dirname(resolve(settings.tlsKeyFile))]);
  const watchers: FSWatcher[] = [...dirs].map((dir) => watch(dir, { persistent: false }, reload));
  server.addHook('onClose', async () => {
    clearTimeout(timer);
    for (const watcher of watchers) watcher.close();
  });
}

/**
 * HTTP/2 sessions stay open with no request in flight, and `server.close()` waits for them:
 * at shutdown each gets a GOAWAY, so streams in flight finish and the session then closes.
 */
function closeSessionsOnClose(server: FastifyInstance): void {
  const sessions = new Set<Http2Session>();
  server.server.on('session', (session: Http2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  server.addHook('preClose', async () => {
    for (const session of sessions) session.close();
  });
}
